import { readFile } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';

export interface KubeResponse<T> {
  status: number;
  /** The parsed JSON answer; undefined when empty or not JSON. */
  body: T | undefined;
}

/**
 * The few calls delegated authentication makes to the kube-apiserver: JSON requests (TokenReview,
 * SubjectAccessReview, ConfigMap list) and a newline-delimited watch stream.
 */
export interface KubeClient {
  /** `https://host:port` of the kube-apiserver (once loaded; '' before). */
  readonly server: string;
  /** Sends a JSON request; resolves with any HTTP status, rejects on network errors, timeout or abort. */
  request<T>(method: 'GET' | 'POST' | 'PATCH', path: string, o?: RequestOptions): Promise<KubeResponse<T>>;
  /**
   * GETs `path` and calls `onLine` for each line of a 200 answer until the server ends it (resolves with
   * status 200), `signal` aborts (resolves), or nothing arrives for `idleTimeoutMs` (rejects). A non-200
   * answer resolves with its status and body and calls nothing.
   */
  stream(path: string, onLine: (line: string) => void, o: StreamOptions): Promise<KubeResponse<unknown>>;
  close(): void;
}

export interface RequestOptions {
  body?: unknown;
  /** Content-Type of the body (default application/json; a PATCH names its patch type). */
  contentType?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface StreamOptions {
  signal: AbortSignal;
  idleTimeoutMs: number;
}

export interface KubeClientOptions {
  /** A kubeconfig file; default: the in-cluster service account (KUBERNETES_SERVICE_HOST, token and CA files). */
  kubeconfig?: string;
  /** Where the in-cluster service account's token and CA are mounted (default: Kubernetes' standard path). */
  serviceAccountDir?: string;
  /** How long credentials read from files (rotated service-account tokens, CA) are reused; default 10 s. */
  credentialRefreshMs?: number;
  /** Largest JSON answer read (default 4 MiB). */
  maxBodyBytes?: number;
}

interface Material {
  server: URL;
  headers: Record<string, string>;
  agent: https.Agent;
}

/** The TLS material applied to a request; a change (CA rotated, new client cert) builds a new Agent. */
function tlsKey(o: https.RequestOptions): string {
  const s = (v: unknown): string =>
    v === undefined
      ? ''
      : Buffer.isBuffer(v)
        ? v.toString('base64')
        : Array.isArray(v)
          ? v.map(s).join(',')
          : typeof v === 'string' || typeof v === 'boolean'
            ? String(v)
            : JSON.stringify(v);
  return [s(o.ca), s(o.cert), s(o.key), s(o.rejectUnauthorized), s(o.servername)].join('|');
}

/** Where Kubernetes mounts a pod's service-account token and the cluster's CA. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The server and how to apply credentials to a request (read again at each credential refresh). */
interface Credentials {
  server(): string;
  apply(opts: https.RequestOptions & { headers: Record<string, string> }): Promise<void>;
}

async function loadKubeConfig(file: string): Promise<Credentials> {
  // Imported on first use: the client library is large (about 60 MiB of resident memory once loaded), so
  // only a kubeconfig file, which may use any of its authentication methods, loads it.
  const { KubeConfig: KC } = await import('@kubernetes/client-node');
  const kc: KubeConfig = new KC();
  kc.loadFromFile(file);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig: ${file} has no current cluster`);
  return { server: () => cluster.server, apply: (opts) => kc.applyToHTTPSOptions(opts) };
}

/**
 * The in-cluster service account, as the kube-apiserver's own clients read it: KUBERNETES_SERVICE_HOST and
 * _PORT, the CA and the token from the mounted files. The token is read again at each refresh (the kubelet
 * rotates projected tokens).
 */
function inCluster(dir: string): Credentials {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  if (!host)
    throw new Error('kubeconfig: not running in a cluster (KUBERNETES_SERVICE_HOST is unset); pass a kubeconfig file');
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    server: () => server,
    apply: async (opts) => {
      const [token, ca] = await Promise.all([
        readFile(join(dir, 'token'), 'utf8'),
        readFile(join(dir, 'ca.crt'), 'utf8'),
      ]);
      opts.ca = ca;
      opts.headers.Authorization = `Bearer ${token.trim()}`;
    },
  };
}

function readBody(res: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        res.destroy(new Error(`kube-apiserver answer larger than ${max} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('kube-apiserver closed the connection mid-answer')));
  });
}

function parseJson(buf: Buffer): unknown {
  if (buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * A minimal kube-apiserver client. In a cluster it reads the service account's token and CA itself; a
 * kubeconfig file is read by @kubernetes/client-node (files, exec and auth-provider plugins); requests go through one keep-alive `https.Agent` rebuilt only
 * when the TLS material changes. (The library's generated API clients are not used: in 2.0 they build a
 * new connection pool per request, and they cannot bound one call with a timeout.)
 *
 * @example
 * const kube = createKubeClient({ kubeconfig: process.env.KUBECONFIG });
 * const { status, body } = await kube.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: review });
 */
export function createKubeClient(o: KubeClientOptions = {}): KubeClient {
  const refreshMs = o.credentialRefreshMs ?? 10_000;
  const maxBody = o.maxBodyBytes ?? 4 << 20;
  let kc: Promise<Credentials> | undefined;
  let current: { at: number; material: Promise<Material> } | undefined;
  let agent: { key: string; agent: https.Agent } | undefined;
  let server = '';
  let closed = false;
  const retired = new Set<https.Agent>();

  const build = async (): Promise<Material> => {
    kc ??= o.kubeconfig
      ? loadKubeConfig(o.kubeconfig)
      : Promise.resolve().then(() => inCluster(o.serviceAccountDir ?? SERVICE_ACCOUNT_DIR));
    const config = await kc;
    const opts: https.RequestOptions & { headers: Record<string, string> } = { headers: {} };
    await config.apply(opts);
    const key = tlsKey(opts);
    if (agent?.key !== key) {
      const old = agent?.agent;
      if (old) {
        // Let requests in flight on the old pool finish; then drop its sockets.
        retired.add(old);
        setTimeout(() => {
          old.destroy();
          retired.delete(old);
        }, 60_000).unref();
      }
      agent = {
        key,
        agent: new https.Agent({
          keepAlive: true,
          ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
          ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
          ...(opts.key !== undefined ? { key: opts.key } : {}),
          ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
          ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
        }),
      };
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers)) if (typeof v === 'string') headers[k] = v;
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    server = config.server().replace(/\/+$/, '');
    return { server: new URL(server), headers, agent: agent.agent };
  };

  const material = (): Promise<Material> => {
    const t = Date.now();
    if (!current || t - current.at >= refreshMs) {
      const m = build();
      current = { at: t, material: m };
      // A failed load is retried on the next call, not cached.
      m.catch(() => {
        if (current?.material === m) current = undefined;
      });
    }
    return current.material;
  };

  const send = async (
    method: string,
    path: string,
    body: Buffer | undefined,
    signal: AbortSignal | undefined,
    accept: string,
    contentType = 'application/json',
  ): Promise<IncomingMessage> => {
    if (closed) throw new Error('kube client closed');
    const m = await material();
    const url = new URL(path, m.server);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          agent: m.agent,
          headers: {
            ...m.headers,
            Accept: accept,
            'User-Agent': 'kubegate',
            ...(body ? { 'Content-Type': contentType, 'Content-Length': String(body.length) } : {}),
          },
          ...(signal ? { signal } : {}),
        },
        resolve,
      );
      req.on('error', reject);
      req.end(body);
    });
  };

  return {
    get server() {
      return server;
    },
    async request<T>(
      method: 'GET' | 'POST' | 'PATCH',
      path: string,
      ro: RequestOptions = {},
    ): Promise<KubeResponse<T>> {
      const signals = [ro.signal, ro.timeoutMs !== undefined ? AbortSignal.timeout(ro.timeoutMs) : undefined].filter(
        (s): s is AbortSignal => s !== undefined,
      );
      const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
      const body = ro.body === undefined ? undefined : Buffer.from(JSON.stringify(ro.body));
      try {
        const res = await send(method, path, body, signal, 'application/json', ro.contentType);
        const buf = await readBody(res, maxBody);
        return { status: res.statusCode ?? 0, body: parseJson(buf) as T | undefined };
      } catch (err) {
        if (signal?.aborted) {
          const reason: unknown = signal.reason;
          if (reason instanceof DOMException && reason.name === 'TimeoutError')
            throw new Error(`${method} ${path}: no answer from the kube-apiserver within ${ro.timeoutMs} ms`, {
              cause: err,
            });
        }
        throw err;
      }
    },
    async stream(path, onLine, so) {
      let res: IncomingMessage;
      try {
        res = await send('GET', path, undefined, so.signal, 'application/json');
      } catch (err) {
        if (so.signal.aborted) return { status: 0, body: undefined };
        throw err;
      }
      if (res.statusCode !== 200) return { status: res.statusCode ?? 0, body: parseJson(await readBody(res, maxBody)) };
      return new Promise<KubeResponse<unknown>>((resolve, reject) => {
        let pending = '';
        let timer: NodeJS.Timeout | undefined;
        const idle = () => {
          clearTimeout(timer);
          timer = setTimeout(
            () => res.destroy(new Error(`watch ${path}: nothing received for ${so.idleTimeoutMs} ms`)),
            so.idleTimeoutMs,
          );
          timer.unref();
        };
        const done = (err?: Error) => {
          clearTimeout(timer);
          so.signal.removeEventListener('abort', onAbort);
          if (err && !so.signal.aborted) reject(err);
          else resolve({ status: 200, body: undefined });
        };
        const onAbort = () => res.destroy();
        so.signal.addEventListener('abort', onAbort, { once: true });
        idle();
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          idle();
          pending += chunk;
          let nl: number;
          while ((nl = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, nl).trim();
            pending = pending.slice(nl + 1);
            if (line) onLine(line);
          }
        });
        res.on('end', () => done());
        res.on('error', (err) => done(err));
        res.on('close', () => done(res.complete ? undefined : new Error(`watch ${path}: connection closed`)));
      });
    },
    close() {
      closed = true;
      agent?.agent.destroy();
      for (const a of retired) a.destroy();
      retired.clear();
    },
  };
}
