import type { Logger } from 'pino';
import type { LoadedAdapter } from '../config/adapters.ts';
import type { KubegateConfig } from '../config/schema.ts';
import { adapterLogger, createLogger } from '../observability/log.ts';
import { createMetrics, type Metrics } from '../observability/metrics.ts';
import { startIncidentEvents, type IncidentEventsOptions } from '../observability/events.ts';
import { createRuntime, type Runtime } from '../resources/runtime.ts';
import { createPassThroughServing, type PassThroughServing } from '../resources/passthrough-setup.ts';
import { createSelfAdapter } from '../resources/self-adapter.ts';
import { parseDuration } from '../sdk/duration.ts';
import type { Store } from '../store/types.ts';
import { buildApp, type KubegateApp } from './app.ts';
import { DEFAULT_LIMITS, type ServerLimits } from './limits.ts';
import { DEFAULT_WATCH_LIMITS, sessionMemoryProblem, type WatchLimits } from './watch-limits.ts';
import { createConfiguredAuth, createConfiguredStore, type GatewayAuth } from './parts.ts';
import { createConfiguredAudit } from '../audit/setup.ts';

export type { GatewayAuth } from './parts.ts';
export type { KubegateApp } from './app.ts';

/** The parts a gateway is composed of; each defaults to what the config names. Tests inject their own. */
export interface GatewayParts {
  /** The shared store (default: `store` of the config). */
  store?: Store;
  /** Authentication and authorization (default: `auth` and `mode` of the config). */
  auth?: GatewayAuth;
  /** The process logger (default: kubegate's own, to stdout). */
  logger?: Logger;
  /** Wall clock in ms (default Date.now). */
  clock?: () => number;
  /** Aggregated mode: where and how Kubernetes Events about upstream incidents are posted. */
  events?: IncidentEventsOptions;
}

export interface GatewayOptions extends GatewayParts {
  config: KubegateConfig;
  adapters: LoadedAdapter[];
  tls: { cert: string; key: string; ca?: string };
}

export interface Gateway {
  app: KubegateApp;
  metrics: Metrics;
  runtime: Runtime;
  store: Store;
  /** https://host:port */
  url: string;
  close(): Promise<void>;
}

/** Metrics whose gauges read the runtime's health (set once it exists). */
function runtimeMetrics(runtime: () => Runtime | undefined, store: Store): Metrics {
  const mirrors = () => (runtime()?.health() ?? []).flatMap((h) => (h.mirror ? [h.mirror] : []));
  return createMetrics({
    objects: () => mirrors().map((m) => ({ adapter: m.adapter, resource: m.resource, count: m.objects })),
    watchers: () => mirrors().map((m) => ({ resource: m.resource, count: m.watchers })),
    leaders: () => mirrors().map((m) => ({ adapter: m.adapter, resource: m.resource, leader: m.leader })),
    intervals: () => mirrors().map((m) => ({ adapter: m.adapter, resource: m.resource, seconds: m.intervalMs / 1000 })),
    storeUp: () => store.healthy(),
    lastSuccess: () =>
      mirrors().map((m) => ({
        adapter: m.adapter,
        resource: m.resource,
        seconds: m.lastSuccess === undefined ? undefined : m.lastSuccess / 1000,
      })),
  });
}

/** The runtime of the config's adapters plus kubegate's own `adapters` resource. */
function configuredRuntime(
  o: GatewayOptions,
  parts: { store: Store; logger: Logger; passThrough: (m: Metrics) => PassThroughServing },
) {
  const { config } = o;
  const w = config.watch ?? {};
  // Set once the runtime exists; the metrics and the self adapter read it lazily.
  const ref: { runtime?: Runtime } = {};
  const metrics = runtimeMetrics(() => ref.runtime, parts.store);
  const incidents =
    config.mode === 'aggregated'
      ? startIncidentEvents(metrics, { kubeconfig: config.auth?.kubeconfig, log: parts.logger, ...o.events })
      : undefined;
  // Poll and upstream outcomes also feed the incident Events; request metrics and the gauges stay as they are.
  const observed = incidents?.metrics ?? metrics;
  const passThrough = parts.passThrough(metrics);
  const self = createSelfAdapter({
    resources: () => ref.runtime?.health() ?? [],
    p99: (a) => metrics.upstreamP99(a),
    errorRate: (a) => metrics.upstreamErrorRate(a),
  });
  const selfEntry: LoadedAdapter = { entry: { name: 'kubegate', module: '(built in)' }, definition: self, config: {} };
  ref.runtime = createRuntime([...o.adapters, selfEntry], {
    store: parts.store,
    queryCache: passThrough.cache,
    passThrough: { notFoundTtlMs: passThrough.notFoundTtlMs, admit: passThrough.admit },
    ...(config.store?.leaseTtl !== undefined
      ? { leaseTtlMs: parseDuration(config.store.leaseTtl, 'store.leaseTtl') }
      : {}),
    metrics: observed,
    upstreamEvents: (a) => observed.upstreamEvents(a),
    log: adapterLogger(parts.logger),
    watch: {
      bookmarkIntervalMs: parseDuration(w.bookmarkInterval ?? '60s', 'watch.bookmarkInterval'),
      maxEvents: w.maxEvents ?? 10_000,
      maxEventAgeMs: parseDuration(w.maxEventAge ?? '15m', 'watch.maxEventAge'),
      maxBufferedBytes: w.maxBufferedBytes ?? 4 << 20,
    },
    ...(o.clock ? { now: o.clock } : {}),
  });
  return { runtime: ref.runtime, metrics, passThrough, closeEvents: () => incidents?.close() ?? Promise.resolve() };
}

/** The config's `server.timeouts` and `server.http2` over the defaults. */
function serverLimits(config: KubegateConfig): ServerLimits {
  const t = config.server?.timeouts ?? {};
  const h2 = config.server?.http2 ?? {};
  const d = DEFAULT_LIMITS;
  const ms = (v: string | number | undefined, key: string, dflt: number) =>
    v === undefined ? dflt : parseDuration(v, key);
  return {
    handshakeTimeoutMs: ms(t.handshake, 'server.timeouts.handshake', d.handshakeTimeoutMs),
    headersTimeoutMs: ms(t.headers, 'server.timeouts.headers', d.headersTimeoutMs),
    requestTimeoutMs: ms(t.request, 'server.timeouts.request', d.requestTimeoutMs),
    idleTimeoutMs: ms(t.idle, 'server.timeouts.idle', d.idleTimeoutMs),
    maxConcurrentStreams: h2.maxConcurrentStreams ?? d.maxConcurrentStreams,
    initialWindowSize: h2.initialWindowSize ?? d.initialWindowSize,
    maxSessionMemory: h2.maxSessionMemory ?? d.maxSessionMemory,
  };
}

/** The config's watch limits over the defaults. */
function watchLimitsOf(config: KubegateConfig): WatchLimits {
  const w = config.watch ?? {};
  const d = DEFAULT_WATCH_LIMITS;
  return {
    maxPerUser: w.maxPerUser ?? d.maxPerUser,
    maxTotal: w.maxTotal ?? d.maxTotal,
    sessionBufferedBytes: w.sessionBufferedBytes ?? d.sessionBufferedBytes,
  };
}

/** Starts kubegate from its parts: store, query cache, auth, runtime (pollers), and the HTTPS server. */
export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const { config } = o;
  const logger = o.logger ?? createLogger();
  // ioredis is loaded only for a Redis store (src/server/parts.ts).
  const redis =
    config.store?.type === 'redis' ? (await import('../store/redis-connection.ts')).redisConnection(config) : undefined;
  const store = o.store ?? (await createConfiguredStore(config, logger, redis));
  const { runtime, metrics, passThrough, closeEvents } = configuredRuntime(o, {
    store,
    logger,
    passThrough: (m) => createPassThroughServing(config, logger, m.registry, redis),
  });
  const auth = o.auth ?? (await createConfiguredAuth(config, logger));
  const limits = serverLimits(config);
  const watchLimits = watchLimitsOf(config);
  const memoryProblem = sessionMemoryProblem(config);
  if (memoryProblem) throw new Error(memoryProblem);
  const audit = config.audit ? createConfiguredAudit(config.audit, { registry: metrics.registry, logger }) : undefined;
  const app = buildApp({
    runtime,
    store,
    limits,
    watchLimits,
    ...(auth.untrusted ? { untrusted: auth.untrusted } : {}),
    authenticators: auth.authenticators,
    authorizer: auth.authorizer,
    tlsRequestCert: auth.requestClientCertificates,
    ...(auth.rateLimiter ? { rateLimiter: auth.rateLimiter } : {}),
    anonymous: auth.anonymous,
    readyChecks: audit ? [passThrough.readyCheck, audit.readyCheck] : [passThrough.readyCheck],
    ...(audit ? { audit: audit.edge } : {}),
    tls: o.tls,
    logger,
    metrics,
    ...(o.clock ? { now: o.clock } : {}),
  });
  await runtime.start();
  const host = config.server?.host ?? '127.0.0.1';
  const port = config.server?.port ?? 8443;
  await app.listen({ host, port });
  const addr = app.server.address();
  const actualPort = addr && typeof addr === 'object' ? addr.port : port;
  return {
    app,
    metrics,
    runtime,
    store,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    async close() {
      await runtime.stop();
      await app.close();
      await store.close();
      await passThrough.close();
      await auth.close?.();
      await closeEvents();
      await audit?.close();
    },
  };
}
