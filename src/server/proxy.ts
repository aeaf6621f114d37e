import { Readable } from 'node:stream';
import type { KubegateReply, KubegateRequest } from './http.ts';
import { maskSecrets, maskStream } from '../observability/mask.ts';
import { KubeError, methodNotAllowed, pathNotFound, tooManyRequests, upstreamUnavailable } from '../k8s/errors.ts';
import type { Connecter } from '../registry/types.ts';
import { UpstreamError, type UpstreamClient } from '../resilience/fetch.ts';
import { proxyRequestUrl } from './proxy-path.ts';
import { auditUpstream } from '../audit/recorder.ts';

/**
 * Request headers passed on to the upstream (an allow list: hop-by-hop headers, `Authorization`, cookies and
 * `X-Remote-*` never pass); the adapter's own headers (its credentials) are added after these.
 */
const FORWARD = [
  'accept',
  'accept-language',
  'content-type',
  'content-length',
  'if-none-match',
  'if-match',
  'if-modified-since',
  'if-unmodified-since',
  'idempotency-key',
];
/** Response headers passed back (the body is re-framed, so no length or encoding headers). */
const RETURN = [
  'content-type',
  'content-language',
  'content-disposition',
  'etag',
  'last-modified',
  'expires',
  'cache-control',
  'vary',
  'retry-after',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
];

/** Seconds a refused or failed proxied call should wait before trying again. */
const RETRY_AFTER_S = 1;

/** Maps what the policy threw to the Status the caller gets. */
function upstreamStatus(err: unknown, where: { plural: string; group: string; adapter: string }): KubeError {
  if (err instanceof KubeError) return err;
  const why = err instanceof Error ? err.message : String(err);
  if (err instanceof UpstreamError && err.status === 413)
    return new KubeError(413, 'RequestEntityTooLarge', `${where.adapter}: ${why}`);
  if (err instanceof UpstreamError && err.status === 429)
    return tooManyRequests(
      `${where.adapter}: ${why}`,
      Math.max(RETRY_AFTER_S, Math.ceil((err.retryAfterMs ?? 0) / 1000)),
    );
  return upstreamUnavailable(where.adapter, `${where.plural}.${where.group}/proxy`, why, {
    retryAfterMs: RETRY_AFTER_S * 1000,
  });
}

/**
 * The `proxy` subresource: forwards the call to the object's URL on the upstream through the adapter's
 * resilience policy (its rate limit, breaker and deadline; the proxy's own bulkhead with a per-user share), with
 * the adapter's credentials added and the caller's dropped. The path is judged on the URL actually sent
 * (see proxy-path.ts); the body streams both ways with size and time limits. A 304 is passed through; other
 * redirects are not followed and not passed on (the aggregator would turn them into 502s anyway).
 */
export async function serveProxy(
  p: Connecter,
  upstream: UpstreamClient,
  object: { metadata: { name: string; namespace?: string; annotations?: Record<string, string> } },
  rest: string,
  req: KubegateRequest,
  reply: KubegateReply,
  where: { plural: string; group: string; adapter: string },
): Promise<KubegateReply> {
  const method = req.method.toUpperCase();
  const allowed = (p.def.allow?.methods ?? ['GET']).map((m) => m.toUpperCase());
  if (!allowed.includes(method) && !(method === 'HEAD' && allowed.includes('GET')))
    throw methodNotAllowed(
      `${method} through the proxy`,
      where.plural,
      where.group,
      `the adapter allows ${allowed.join(', ')}`,
    );
  const config = p.config();
  const q = req.url.indexOf('?');
  const { url, sub } = proxyRequestUrl(
    p.def.baseUrl(config),
    p.def.target(object),
    rest,
    q >= 0 ? req.url.slice(q + 1) : '',
    p.def.query ?? [],
  );
  const paths = p.def.allow?.paths ?? [''];
  if (!paths.some((x) => sub === x || (x.endsWith('/') && sub.startsWith(x))))
    throw pathNotFound(`proxy path "${sub || '/'}" is not allowed by the ${where.adapter} adapter`);
  const headers: Record<string, string> = {};
  for (const h of FORWARD) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  Object.assign(headers, p.def.headers?.(config, object) ?? {});
  const body = method !== 'GET' && method !== 'HEAD' ? requestBody(req) : undefined;
  if (!body) delete headers['content-length'];
  // The caller going away aborts the upstream call, before its answer as well as during it.
  const ac = new AbortController();
  const onClose = (): void => {
    if (!reply.raw.writableFinished) ac.abort(new Error('the client went away'));
  };
  reply.raw.once('close', onClose);
  auditUpstream(req.raw, method, url);
  let res;
  try {
    res = await upstream.stream(url, {
      method,
      headers,
      user: req.user?.name ?? '',
      signal: ac.signal,
      ...(body ? { body } : {}),
    });
  } catch (err) {
    reply.raw.off('close', onClose);
    throw upstreamStatus(err, where);
  }
  if (res.status >= 300 && res.status < 400 && res.status !== 304) {
    res.body?.destroy();
    reply.raw.off('close', onClose);
    throw new KubeError(
      502,
      'InternalError',
      `${where.adapter}: the upstream answered a redirect (${res.status}), which kubegate does not follow`,
    );
  }
  auditUpstream(req.raw, method, url, res.status);
  reply.code(res.status);
  for (const h of RETURN) {
    const v = res.headers.get(h);
    if (v) reply.header(h, maskSecrets(v));
  }
  if (!res.body || res.status === 304 || method === 'HEAD') {
    res.body?.destroy();
    return reply.send();
  }
  // Upstreams echo requests (credentials included) in answers: declared secrets are masked on the way.
  return reply.send(maskStream(res.body));
}

/** The request's body as a stream, when it has one (bodies are left unread until here; see app.ts). */
function requestBody(req: KubegateRequest): Readable | undefined {
  const b = req.body;
  return b instanceof Readable ? b : undefined;
}
