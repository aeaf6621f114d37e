import https from 'node:https';
import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy';
import { writeKubeconfig } from '../../src/cli/kubeconfig.ts';
import { createDevCertificates, type CertPair } from '../../src/server/tls.ts';

/** Who the aggregator says the request is from (user.Info). */
export interface ProxyIdentity {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface FrontProxyOptions {
  /** kubegate's URL (https://127.0.0.1:port). */
  target: string;
  /** CA that signed kubegate's serving certificate (the APIService caBundle). */
  targetCA: string;
  /** TLS server name the aggregator verifies: `<service>.<namespace>.svc`. */
  serverName?: string;
  /** The proxy client certificate (`--proxy-client-cert-file`: CN front-proxy-client, clientAuth, front-proxy CA). */
  clientCert: CertPair;
  /** Bearer token → user (the kube-apiserver's own authentication); undefined → 401. */
  authenticate: (token: string) => ProxyIdentity | undefined;
  /** Protocol to kubegate; Go's transport negotiates HTTP/2 (default). */
  protocol?: 'h2' | 'http/1.1';
}

export interface ForwardedRequest {
  method: string;
  path: string;
  headers: [string, string][];
}

export interface ProxyAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface FrontProxy {
  url: string;
  /** CA of the proxy's serving certificate (for clients). */
  ca: string;
  /** Requests received from users. */
  calls: number;
  /** The last request sent to kubegate, as sent (header names lower-case). */
  lastForwarded: ForwardedRequest | undefined;
  /** Writes a kubeconfig for kubectl: this proxy, its CA, and `token`. */
  writeKubeconfig(file: string, token: string, user?: string): void;
  /**
   * Sends a request to kubegate as the aggregator itself does for its own probes (availability check:
   * `system:kube-aggregator` + `system:masters`; legacy discovery: no groups; OpenAPI: `system:aggregator`),
   * with the proxy client certificate and `X-Remote-*` headers, no user token.
   */
  requestAs(
    identity: ProxyIdentity,
    path: string,
    init?: { method?: string; headers?: Record<string, string> },
  ): Promise<ProxyAnswer>;
  close(): Promise<void>;
}

/** Hop-by-hop headers Go's httputil.ReverseProxy removes in both directions. */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Go's url.QueryEscape: everything but A-Z a-z 0-9 - _ . ~ is %-encoded, space as '+'. */
function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** `req.URL.Query().Encode()`: the aggregator re-encodes the query, keys sorted, values in order. */
export function reencodeQuery(search: string): string {
  const byKey = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(search)) (byKey.get(k) ?? byKey.set(k, []).get(k))?.push(v);
  return [...byKey.keys()]
    .sort()
    .flatMap((k) => (byKey.get(k) ?? []).map((v) => `${goQueryEscape(k)}=${goQueryEscape(v)}`))
    .join('&');
}

/** client-go's headerKeyEscape: %-encode bytes that are not HTTP token characters, and '%'. */
export function headerKeyEscape(key: string): string {
  let out = '';
  for (const b of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(b);
    const legal = /[A-Za-z0-9!#$&'*+\-.^_`|~]/.test(c);
    out += legal && b < 0x80 ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The headers the aggregator sends for `identity`: the request's own headers minus hop-by-hop, minus
 * `Authorization` (the kube-apiserver drops it once authenticated) and every incoming `X-Remote-*` /
 * `Impersonate-*` header (endpoints/filters/authentication.go; client-go SetAuthProxyHeaders), then
 * `X-Remote-User`, `X-Remote-Uid` (when set), one `X-Remote-Group` per group, one `X-Remote-Extra-<escaped key>`
 * per extra value.
 */
export function aggregatorHeaders(
  incoming: [string, string][],
  identity: ProxyIdentity,
  clientIp: string,
): [string, string][] {
  const named = new Set(
    incoming
      .filter(([k]) => k.toLowerCase() === 'connection')
      .flatMap(([, v]) => v.split(',').map((s) => s.trim().toLowerCase())),
  );
  const out: [string, string][] = [];
  let forwardedFor: string | undefined;
  for (const [k, v] of incoming) {
    const l = k.toLowerCase();
    if (l.startsWith(':') || l === 'host' || HOP_BY_HOP.has(l) || named.has(l)) continue;
    if (l === 'authorization' || l.startsWith('x-remote-') || l.startsWith('impersonate-')) continue;
    if (l === 'x-forwarded-for') {
      forwardedFor = forwardedFor ? `${forwardedFor}, ${v}` : v;
      continue;
    }
    out.push([l, v]);
  }
  out.push(['x-forwarded-for', forwardedFor ? `${forwardedFor}, ${clientIp}` : clientIp]);
  out.push(['audit-id', randomUUID()]);
  out.push(['x-remote-user', identity.name]);
  if (identity.uid) out.push(['x-remote-uid', identity.uid]);
  for (const g of identity.groups) out.push(['x-remote-group', g]);
  for (const [key, values] of Object.entries(identity.extra ?? {}))
    for (const v of values) out.push([`x-remote-extra-${headerKeyEscape(key)}`.toLowerCase(), v]);
  return out;
}

function unauthorizedStatus(): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Unauthorized',
    reason: 'Unauthorized',
    code: 401,
  });
}

/**
 * The kube-apiserver's aggregator proxy as an aggregated API server sees it
 * (kube-aggregator/pkg/apiserver/handler_proxy.go), as a reverse proxy on @fastify/http-proxy: it terminates
 * the user's TLS, authenticates the bearer token, and forwards the request to kubegate over TLS (server name
 * `<svc>.<ns>.svc`, kubegate's CA), presenting the front-proxy client certificate, with the user in
 * `X-Remote-*` headers ({@link aggregatorHeaders}) and the query re-encoded as Go does ({@link reencodeQuery}).
 * Answers stream through unbuffered (watch: headers are flushed at once, no timeouts), hop-by-hop headers
 * dropped, nothing retried; a redirect from kubegate becomes 502 (`--aggregator-reject-forwarding-redirect`,
 * default on); kubegate unreachable → plain-text 503, as the aggregator answers.
 *
 * Not emulated: authorization before proxying (kube-apiserver RBAC), impersonation (its headers are dropped),
 * serving `/apis` and `/apis/<group>` itself (every path is forwarded), connection upgrades.
 *
 * @example
 * const proxy = await startFrontProxy({ target: gate.url, targetCA: pki.kubegateCA.cert, serverName: 'kubegate.kube-system.svc',
 *   clientCert: pki.frontProxyClient, authenticate: (t) => users[t] });
 */
export async function startFrontProxy(o: FrontProxyOptions): Promise<FrontProxy> {
  const serving = await createDevCertificates(['localhost'], ['127.0.0.1']);
  const target = new URL(o.target);
  const tls = {
    ca: o.targetCA,
    cert: o.clientCert.cert,
    key: o.clientCert.key,
    servername: o.serverName ?? target.hostname,
  };
  let calls = 0;
  let lastForwarded: ForwardedRequest | undefined;
  /** One-time tokens {@link FrontProxy.requestAs} sends the aggregator's own requests with. */
  const ownRequests = new Map<string, ProxyIdentity>();
  const identities = new WeakMap<object, ProxyIdentity>();

  // The plugin's types assume a plain HTTP server; the HTTPS one behaves the same to it.
  const app = Fastify({
    https: { cert: serving.server.cert, key: serving.server.key },
    routerOptions: { maxParamLength: 8192 },
  }) as unknown as FastifyInstance;
  app.addHook('onRequest', async (req, reply) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const token = m?.[1] ?? '';
    const own = ownRequests.get(token);
    ownRequests.delete(token);
    if (!own) calls++;
    const user = own ?? (token ? o.authenticate(token) : undefined);
    if (!user) {
      const b = unauthorizedStatus();
      return reply.code(401).type('application/json').header('content-length', Buffer.byteLength(b)).send(b);
    }
    // group.NewAuthenticatedGroupAdder: every authenticated user is in system:authenticated (the aggregator's
    // own requests carry exactly the identity they are given).
    identities.set(
      req,
      own || user.groups.includes('system:authenticated')
        ? user
        : { ...user, groups: [...user.groups, 'system:authenticated'] },
    );
  });

  const proxyOptions: FastifyHttpProxyOptions = {
    upstream: target.origin,
    ...(o.protocol === 'http/1.1'
      ? { undici: { connect: tls, headersTimeout: 0, bodyTimeout: 0 } }
      : { http2: { sessionOptions: tls, sessionTimeout: 0, requestTimeout: 0 } }),
    retryMethods: [],
    disableRequestLogging: true,
    replyOptions: {
      // The aggregator re-encodes the query (url.Values.Encode) before forwarding.
      queryString: (_search, reqUrl) => reencodeQuery(new URL(reqUrl, 'https://proxy').search),
      rewriteRequestHeaders: (req) => {
        const incoming: [string, string][] = [];
        const raw = req.raw.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) incoming.push([String(raw[i]), String(raw[i + 1])]);
        const identity = identities.get(req);
        const headers = identity ? aggregatorHeaders(incoming, identity, req.socket.remoteAddress ?? '') : [];
        const query = reencodeQuery(new URL(req.url, 'https://proxy').search);
        lastForwarded = {
          method: req.method,
          path: `${req.url.split('?')[0] ?? '/'}${query ? `?${query}` : ''}`,
          headers,
        };
        const out: Record<string, string | string[]> = { host: target.host };
        for (const [k, v] of headers) {
          const prev = out[k];
          out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
        }
        return out;
      },
      rewriteHeaders: (headers) => {
        const out: typeof headers = {};
        for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
        return out;
      },
      onResponse: (_req, reply, res) => {
        if (res.statusCode >= 300 && res.statusCode <= 399 && reply.getHeader('location') !== undefined) {
          res.stream.destroy();
          for (const h of Object.keys(reply.getHeaders())) reply.removeHeader(h);
          const msg = 'the backend attempted to redirect this request, which is not permitted';
          void reply.code(502).header('content-length', Buffer.byteLength(msg)).send(msg);
          return;
        }
        void reply.send(res.stream);
        // Headers go out now, each body chunk as it arrives: a watch must not wait for its first event.
        if ('flushHeaders' in reply.raw) reply.raw.flushHeaders();
      },
      onError: (reply, e) => {
        const cause = (e.error as { cause?: unknown }).cause;
        const msg = `${cause instanceof Error ? cause.message : e.error.message}\n`;
        if (reply.raw.headersSent) {
          reply.raw.destroy();
          return;
        }
        for (const h of Object.keys(reply.getHeaders())) reply.removeHeader(h);
        reply.code(503).header('content-type', 'text/plain; charset=utf-8').header('x-content-type-options', 'nosniff');
        reply.send(msg);
      },
    },
  };
  await app.register(httpProxy, proxyOptions);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `https://127.0.0.1:${(app.server.address() as { port: number }).port}`;

  return {
    url,
    ca: serving.ca.cert,
    get calls() {
      return calls;
    },
    get lastForwarded() {
      return lastForwarded;
    },
    writeKubeconfig(file, token, user = 'user') {
      writeKubeconfig(file, { server: url, ca: serving.ca.cert, token, user });
    },
    requestAs(identity, path, init = {}) {
      const token = randomBytes(18).toString('base64url');
      ownRequests.set(token, identity);
      return new Promise((resolve, reject) => {
        const req = https.request(
          `${url}${path}`,
          {
            method: init.method ?? 'GET',
            ca: serving.ca.cert,
            agent: false,
            headers: { ...(init.headers ?? { accept: 'application/json' }), authorization: `Bearer ${token}` },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).toString('utf8'),
              }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      });
    },
    async close() {
      await app.close();
    },
  };
}
