import http2 from 'node:http2';
import https from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
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

interface Upstream {
  status: number;
  headers: [string, string][];
  body: Readable;
  cancel(): void;
}

/**
 * The kube-apiserver's aggregator proxy as an aggregated API server sees it
 * (kube-aggregator/pkg/apiserver/handler_proxy.go): it terminates the user's TLS, authenticates the bearer
 * token, and forwards the request to kubegate over TLS (server name `<svc>.<ns>.svc`, kubegate's CA),
 * presenting the front-proxy client certificate, with the user in `X-Remote-*` headers
 * ({@link aggregatorHeaders}) and the query re-encoded. Answers stream through unbuffered (watch), hop-by-hop
 * headers dropped; a redirect from kubegate becomes 502 (`--aggregator-reject-forwarding-redirect`, default
 * on); kubegate unreachable → plain-text 503, as the aggregator answers.
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
  const tlsOpts = {
    ca: o.targetCA,
    cert: o.clientCert.cert,
    key: o.clientCert.key,
    servername: o.serverName ?? target.hostname,
  };
  const protocol = o.protocol ?? 'h2';
  const agent = new https.Agent({ keepAlive: true, ...tlsOpts });
  let session: http2.ClientHttp2Session | undefined;
  let calls = 0;
  let lastForwarded: ForwardedRequest | undefined;

  const h2session = (): http2.ClientHttp2Session => {
    if (!session || session.closed || session.destroyed) {
      const s = http2.connect(target.origin, tlsOpts);
      s.on('error', () => {});
      s.unref();
      session = s;
    }
    return session;
  };

  const forward = (
    method: string,
    path: string,
    headers: [string, string][],
    body: Readable | undefined,
  ): Promise<Upstream> => {
    lastForwarded = { method, path, headers };
    if (protocol === 'h2') {
      const h: OutgoingHttpHeaders = {
        ':method': method,
        ':path': path,
        ':authority': target.host,
        ':scheme': 'https',
      };
      for (const [k, v] of headers) {
        const prev = h[k];
        h[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
      }
      const stream = h2session().request(h, { endStream: body === undefined });
      if (body) body.pipe(stream);
      return new Promise((resolve, reject) => {
        stream.once('error', reject);
        stream.once('response', (rh) => {
          const out: [string, string][] = [];
          for (const [k, v] of Object.entries(rh)) {
            if (k.startsWith(':') || v === undefined) continue;
            for (const x of Array.isArray(v) ? v : [v]) out.push([k, x]);
          }
          resolve({
            status: Number(rh[':status']),
            headers: out,
            body: stream,
            cancel: () => stream.close(http2.constants.NGHTTP2_CANCEL),
          });
        });
      });
    }
    const h: OutgoingHttpHeaders = { host: target.host };
    for (const [k, v] of headers) {
      const prev = h[k];
      h[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
    }
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: target.hostname, port: target.port, method, path, headers: h, agent },
        (res) => {
          const out: [string, string][] = [];
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
            out.push([String(res.rawHeaders[i]).toLowerCase(), String(res.rawHeaders[i + 1])]);
          resolve({ status: res.statusCode ?? 502, headers: out, body: res, cancel: () => req.destroy() });
        },
      );
      req.on('error', reject);
      if (body) body.pipe(req);
      else req.end();
    });
  };

  const respond = (res: ServerResponse, up: Upstream): void => {
    const location = up.headers.find(([k]) => k === 'location');
    if (up.status >= 300 && up.status <= 399 && location) {
      up.cancel();
      const msg = 'the backend attempted to redirect this request, which is not permitted';
      res.writeHead(502, { 'content-length': Buffer.byteLength(msg) });
      res.end(msg);
      return;
    }
    const flat: string[] = [];
    for (const [k, v] of up.headers) if (!HOP_BY_HOP.has(k)) flat.push(k, v);
    res.writeHead(up.status, flat);
    // Headers go out now, each body chunk as it arrives: a watch must not wait for a buffer to fill.
    res.flushHeaders();
    up.body.on('data', (c: Buffer) => res.write(c));
    up.body.on('end', () => res.end());
    up.body.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) up.cancel();
    });
  };

  const unavailable = (res: ServerResponse, err: unknown): void => {
    const msg = `${err instanceof Error ? err.message : String(err)}\n`;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end(msg);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    calls++;
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    const user = m?.[1] ? o.authenticate(m[1]) : undefined;
    if (!user) {
      const b = unauthorizedStatus();
      res.writeHead(401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
      res.end(b);
      return;
    }
    // group.NewAuthenticatedGroupAdder: every authenticated user is in system:authenticated.
    const identity = user.groups.includes('system:authenticated')
      ? user
      : { ...user, groups: [...user.groups, 'system:authenticated'] };
    const incoming: [string, string][] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
      incoming.push([String(req.rawHeaders[i]), String(req.rawHeaders[i + 1])]);
    const u = new URL(req.url ?? '/', 'https://proxy');
    const query = reencodeQuery(u.search);
    const path = `${u.pathname}${query ? `?${query}` : ''}`;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    forward(
      req.method ?? 'GET',
      path,
      aggregatorHeaders(incoming, identity, req.socket.remoteAddress ?? ''),
      hasBody ? req : undefined,
    ).then(
      (up) => respond(res, up),
      (err: unknown) => unavailable(res, err),
    );
  };

  const server = https.createServer({ cert: serving.server.cert, key: serving.server.key }, handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;

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
    async requestAs(identity, path, init = {}) {
      const headers = aggregatorHeaders(
        Object.entries(init.headers ?? { accept: 'application/json' }).map(([k, v]) => [k, v]),
        identity,
        '127.0.0.1',
      );
      const up = await forward(init.method ?? 'GET', path, headers, undefined);
      const chunks: Buffer[] = [];
      for await (const c of up.body) chunks.push(c as Buffer);
      const h: Record<string, string | string[]> = {};
      for (const [k, v] of up.headers) {
        const prev = h[k];
        h[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      return { status: up.status, headers: h, body: Buffer.concat(chunks).toString('utf8') };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      session?.destroy();
      agent.destroy();
    },
  };
}
