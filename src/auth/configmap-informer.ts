import {
  AUTH_CONFIGMAP_NAME,
  AUTH_CONFIGMAP_NAMESPACE,
  parseAuthenticationConfigMap,
  type AuthenticationConfig,
} from './configmap.ts';
import type { KubeClient } from './kube-client.ts';

/** The logger shape kubegate passes around (the SDK's AdapterLogger has it). */
export interface AuthLog {
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
}

export const SILENT_LOG: AuthLog = { info() {}, warn() {} };

interface ConfigMapObject {
  metadata?: { name?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

interface WatchEvent {
  type?: string;
  object?: ConfigMapObject & { code?: number; message?: string; reason?: string };
}

export interface ConfigMapInformerOptions {
  namespace?: string;
  name?: string;
  log?: AuthLog;
  /** Called after every change of the parsed configuration. */
  onChange?: (config: AuthenticationConfig) => void;
  /** Wait after a failure, doubling up to `maxBackoffMs` (defaults 1 s, 30 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A watch's `timeoutSeconds` (default: random 300–600 like client-go's reflector). */
  watchTimeoutSeconds?: () => number;
}

export interface ConfigMapInformer {
  /** The configuration as last read (empty until the first list, and when the configmap does not exist). */
  current(): AuthenticationConfig;
  readonly synced: boolean;
  readonly resourceVersion: string;
  /** The last failure to list or watch, cleared by the next successful list. */
  readonly lastError: string | undefined;
  /** Resolves after the first successful list (also when the configmap does not exist). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Follows `kube-system/extension-apiserver-authentication` the way the kube-apiserver's own
 * RequestHeaderAuthRequestController does: an informer on configmaps in kube-system with
 * `fieldSelector=metadata.name=extension-apiserver-authentication` — list, then watch from the list's
 * resourceVersion, re-watch when the server ends a watch, relist after `410 Gone` or an error (with backoff).
 * So a CA rotated in the configmap applies within a watch event, without restart. A deleted configmap
 * disables front-proxy and client-certificate authentication until it is back.
 *
 * @example
 * const informer = informAuthenticationConfigMap(createKubeClient({ kubeconfig }));
 * await informer.ready;
 * informer.current().requestHeader?.allowedNames;
 */
export function informAuthenticationConfigMap(client: KubeClient, o: ConfigMapInformerOptions = {}): ConfigMapInformer {
  const ns = o.namespace ?? AUTH_CONFIGMAP_NAMESPACE;
  const name = o.name ?? AUTH_CONFIGMAP_NAME;
  const log = o.log ?? SILENT_LOG;
  const initialBackoff = o.initialBackoffMs ?? 1000;
  const maxBackoff = o.maxBackoffMs ?? 30_000;
  const watchTimeout = o.watchTimeoutSeconds ?? (() => 300 + Math.floor(Math.random() * 300));
  const collection = `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps`;
  const selector = `fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`;
  const stop = new AbortController();
  // A function, not the property: TypeScript would keep `aborted` narrowed across awaits.
  const stopped = (): boolean => stop.signal.aborted;

  let config: AuthenticationConfig = {};
  let rv = '';
  let synced = false;
  let lastError: string | undefined;
  let markReady!: () => void;
  let failReady!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  // close() before the first sync rejects `ready`; nobody has to be listening.
  ready.catch(() => {});

  const apply = (cm: ConfigMapObject | undefined): void => {
    if (!cm) {
      if (synced || Object.keys(config).length > 0)
        log.warn(
          `configmap ${ns}/${name} not found: front-proxy and client-certificate authentication are off until it exists`,
        );
      config = {};
    } else {
      const { config: next, problems } = parseAuthenticationConfigMap(cm.data ?? {}, config);
      for (const p of problems)
        log.warn(`configmap ${ns}/${name}: ${p.message}; keeping the previous value`, { field: p.field });
      config = next;
    }
    o.onChange?.(config);
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (stop.signal.aborted) return resolve();
      const wake = () => {
        clearTimeout(t);
        stop.signal.removeEventListener('abort', wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      stop.signal.addEventListener('abort', wake, { once: true });
    });

  const list = async (): Promise<void> => {
    const { status, body } = await client.request<{
      items?: ConfigMapObject[];
      metadata?: { resourceVersion?: string };
      message?: string;
    }>('GET', `${collection}?${selector}`, { timeoutMs: 30_000, signal: stop.signal });
    if (status !== 200)
      throw new Error(`listing configmap ${ns}/${name}: HTTP ${status}${body?.message ? `: ${body.message}` : ''}`);
    apply(body?.items?.find((i) => i.metadata?.name === name));
    rv = body?.metadata?.resourceVersion ?? '';
    lastError = undefined;
    if (!synced) {
      synced = true;
      markReady();
    }
  };

  /** Watches until the server ends the stream (true: re-watch) or answers 410 (false: relist). Throws on errors. */
  const watch = async (): Promise<boolean> => {
    const t = watchTimeout();
    const seen = { gone: false };
    const path = `${collection}?${selector}&watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(rv)}&timeoutSeconds=${t}`;
    const r = await client.stream(
      path,
      (line) => {
        let e: WatchEvent;
        try {
          e = JSON.parse(line) as WatchEvent;
        } catch {
          return;
        }
        const obj = e.object;
        if (e.type === 'ERROR') {
          if (obj?.code === 410) seen.gone = true;
          else lastError = `watch configmap ${ns}/${name}: ${obj?.message ?? 'error event'}`;
          return;
        }
        if (obj?.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
        if (e.type === 'ADDED' || e.type === 'MODIFIED') {
          if (obj?.metadata?.name === name) apply(obj);
        } else if (e.type === 'DELETED') {
          if (obj?.metadata?.name === name) apply(undefined);
        }
      },
      { signal: stop.signal, idleTimeoutMs: (t + 60) * 1000 },
    );
    if (r.status === 410) return false;
    if (r.status !== 200 && r.status !== 0) throw new Error(`watching configmap ${ns}/${name}: HTTP ${r.status}`);
    return !seen.gone;
  };

  const run = async (): Promise<void> => {
    let backoff = initialBackoff;
    while (!stopped()) {
      try {
        await list();
        backoff = initialBackoff;
        for (;;) {
          const started = Date.now();
          if (stopped() || !(await watch())) break;
          // A server that ends watches at once must not make this a busy loop.
          if (!stopped() && Date.now() - started < 1000) await sleep(initialBackoff);
        }
      } catch (err) {
        if (stopped()) break;
        lastError = (err as Error).message;
        log.warn(`authentication configmap: ${lastError}; retrying in ${backoff} ms`);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  };
  const loop = run();

  return {
    current: () => config,
    get synced() {
      return synced;
    },
    get resourceVersion() {
      return rv;
    },
    get lastError() {
      return lastError;
    },
    ready,
    async close() {
      stop.abort();
      if (!synced) failReady(new Error('closed before the authentication configmap was read'));
      await loop;
    },
  };
}
