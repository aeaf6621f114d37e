import type { FastifyReply, FastifyRequest } from 'fastify';
import { KubeError, badRequest, methodNotAllowed, pathNotFound } from '../k8s/errors.ts';
import type { Connecter } from '../registry/types.ts';
import type { UpstreamClient } from '../resilience/fetch.ts';

/** Request headers passed on to the upstream; everything else (Authorization, cookies, X-Remote-*) is dropped. */
const FORWARD = ['accept', 'content-type', 'if-none-match', 'if-match', 'idempotency-key'];
/** Response headers passed back. */
const RETURN = [
  'content-type',
  'etag',
  'cache-control',
  'retry-after',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
];

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20) return true;
  return false;
}

/**
 * Resolves `<target><rest>` against the adapter's base URL, refusing anything that could leave it: `..`
 * segments (plain or encoded), backslashes, and URLs whose origin is not the base URL's. Returns the URL and
 * the sub-path (for the allow list).
 */
export function proxyUrl(baseUrl: string, target: string, rest: string, query: string): { url: URL; sub: string } {
  const decoded = (() => {
    try {
      return decodeURIComponent(rest);
    } catch {
      throw badRequest('proxy path is not valid percent-encoding');
    }
  })();
  if (/(^|\/)\.\.?(\/|$)/.test(decoded) || decoded.includes('\\') || hasControlCharacter(decoded))
    throw badRequest('proxy path may not contain "." or ".." segments, backslashes or control characters');
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/$/, '');
  const url = new URL(`${basePath}${target}${rest}`, base.origin);
  url.search = query;
  if (url.origin !== base.origin) throw badRequest("proxy target is outside the adapter's upstream");
  return { url, sub: rest };
}

/**
 * The `proxy` subresource: forwards the call to the object's URL on the upstream through the adapter's
 * resilience policy, with the adapter's credentials added and the caller's dropped. Redirects are not
 * followed and not passed on (the aggregator would turn them into 502s anyway).
 */
export async function serveProxy(
  p: Connecter,
  upstream: UpstreamClient,
  object: { metadata: { name: string; namespace?: string; annotations?: Record<string, string> } },
  rest: string,
  req: FastifyRequest,
  reply: FastifyReply,
  where: { plural: string; group: string; adapter: string },
): Promise<FastifyReply> {
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
  const { url, sub } = proxyUrl(p.def.baseUrl(config), p.def.target(object), rest, q >= 0 ? req.url.slice(q) : '');
  const paths = p.def.allow?.paths ?? [''];
  if (!paths.some((x) => sub === x || (x.endsWith('/') && sub.startsWith(x))))
    throw pathNotFound(`proxy path "${sub || '/'}" is not allowed by the ${where.adapter} adapter`);
  const headers: Record<string, string> = {};
  for (const h of FORWARD) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  Object.assign(headers, p.def.headers?.(config) ?? {});
  const body = req.body instanceof Buffer && method !== 'GET' && method !== 'HEAD' ? req.body : undefined;
  let res: Response;
  try {
    res = await upstream.fetch(url, { method, headers, ...(body ? { body } : {}) });
  } catch (err) {
    throw new KubeError(
      503,
      'ServiceUnavailable',
      `${where.adapter}: upstream unavailable: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (res.status >= 300 && res.status < 400) {
    throw new KubeError(
      502,
      'InternalError',
      `${where.adapter}: the upstream answered a redirect (${res.status}), which kubegate does not follow`,
    );
  }
  reply.code(res.status);
  for (const h of RETURN) {
    const v = res.headers.get(h);
    if (v) reply.header(h, v);
  }
  return reply.send(Buffer.from(await res.arrayBuffer()));
}
