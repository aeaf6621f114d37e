import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LoadedAdapter } from '../config/adapters.ts';
import { createSelfAdapter } from '../resources/self-adapter.ts';
import type { KubegateConfig } from '../config/schema.ts';
import { parseDuration } from '../sdk/duration.ts';
import { createRuntime, type Runtime } from '../resources/runtime.ts';
import { createStaticPolicyAuthorizer, createStaticTokenAuthenticator } from '../auth/static.ts';
import { createDelegatedAuth } from '../auth/delegation.ts';
import { createUserRateLimiter } from '../auth/ratelimit.ts';
import { createMemoryStore } from '../store/memory.ts';
import { createRedisStore } from '../store/redis.ts';
import { createPassThroughServing } from '../resources/passthrough-setup.ts';
import type { Store } from '../store/types.ts';
import { adapterLogger, createLogger } from '../observability/log.ts';
import { buildApp } from './app.ts';
import { createMetrics, type Metrics } from '../observability/metrics.ts';
import { startIncidentEvents, type IncidentEventsOptions } from '../observability/events.ts';

export interface GatewayOptions {
  config: KubegateConfig;
  adapters: LoadedAdapter[];
  tls: { cert: string; key: string };
  logger?: Logger;
  /** Override the store (tests). */
  store?: Store;
  /** Aggregated mode: where and how Kubernetes Events about upstream incidents are posted. */
  events?: IncidentEventsOptions;
}

export interface Gateway {
  app: FastifyInstance;
  metrics: Metrics;
  runtime: Runtime;
  store: Store;
  /** https://host:port */
  url: string;
  close(): Promise<void>;
}

/** Creates the store named by the config. */
export function createStore(config: KubegateConfig, log?: Logger): Promise<Store> {
  const type = config.store?.type ?? 'memory';
  if (type === 'memory') return Promise.resolve(createMemoryStore());
  const r = config.store?.redis ?? {};
  return Promise.resolve(
    createRedisStore({
      ...(r.sentinels && r.sentinelName
        ? { redis: { sentinels: r.sentinels, name: r.sentinelName } }
        : { url: process.env.KUBEGATE_REDIS_URL ?? r.url ?? 'redis://127.0.0.1:6379' }),
      keyPrefix: r.keyPrefix ?? 'kubegate:',
      streamMaxLen: config.watch?.maxEvents ?? 10_000,
      ...(log ? { log: { warn: (msg: string, extra?: Record<string, unknown>) => log.warn(extra ?? {}, msg) } } : {}),
    }),
  );
}

/** Starts kubegate: store, pollers, and the HTTPS server. */
export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const { config } = o;
  const logger = o.logger ?? createLogger();
  const store = o.store ?? (await createStore(config, logger));
  const w = config.watch ?? {};
  // Set once the runtime exists; the metrics and the self adapter read it lazily.
  // eslint-disable-next-line prefer-const
  let created: Runtime | undefined;
  const mirrors = () => (created?.health() ?? []).flatMap((h) => (h.mirror ? [h.mirror] : []));
  const metrics = createMetrics({
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
  const incidents =
    config.mode === 'aggregated'
      ? startIncidentEvents(metrics, { kubeconfig: config.auth?.kubeconfig, log: logger, ...o.events })
      : undefined;
  const observed = incidents?.metrics ?? metrics;
  const passThrough = createPassThroughServing(config, logger, metrics.registry);
  const self = createSelfAdapter({
    resources: () => created?.health() ?? [],
    p99: (a) => metrics.upstreamP99(a),
    errorRate: (a) => metrics.upstreamErrorRate(a),
  });
  const selfEntry: LoadedAdapter = { entry: { name: 'kubegate', module: '(built in)' }, definition: self, config: {} };
  const runtime = createRuntime([...o.adapters, selfEntry], {
    store,
    queryCache: passThrough.cache,
    passThrough: { notFoundTtlMs: passThrough.notFoundTtlMs, admit: passThrough.admit },
    ...(config.store?.leaseTtl !== undefined
      ? { leaseTtlMs: parseDuration(config.store.leaseTtl, 'store.leaseTtl') }
      : {}),
    metrics: observed,
    upstreamEvents: (a) => observed.upstreamEvents(a),
    log: adapterLogger(logger),
    watch: {
      bookmarkIntervalMs: parseDuration(w.bookmarkInterval ?? '60s', 'watch.bookmarkInterval'),
      maxEvents: w.maxEvents ?? 10_000,
      maxEventAgeMs: parseDuration(w.maxEventAge ?? '15m', 'watch.maxEventAge'),
      maxBufferedBytes: w.maxBufferedBytes ?? 4 << 20,
    },
  });
  created = runtime;
  const auth = config.auth ?? {};
  const tokens = (auth.tokens ?? []).map((t) => {
    const token = t.token ?? (t.tokenEnv ? process.env[t.tokenEnv] : undefined);
    if (!token) throw new Error(`auth.tokens: the token of user "${t.user}" is empty (token or tokenEnv)`);
    return { token, user: t.user, ...(t.uid ? { uid: t.uid } : {}), ...(t.groups ? { groups: t.groups } : {}) };
  });
  // Aggregated: the kube-apiserver authenticates (front proxy, client certs, TokenReview) and authorizes
  // (SubjectAccessReview); static tokens still work beside it for break-glass access. Standalone: the config.
  const delegated =
    config.mode === 'aggregated'
      ? createDelegatedAuth({
          ...(auth.kubeconfig ? { kubeconfig: auth.kubeconfig } : {}),
          log: {
            warn: (msg: string, extra?: Record<string, unknown>) => logger.warn(extra ?? {}, msg),
            info: (msg: string, extra?: Record<string, unknown>) => logger.info(extra ?? {}, msg),
          },
        })
      : undefined;
  if (delegated) {
    await Promise.race([delegated.ready, new Promise((r) => setTimeout(r, 10_000).unref())]);
  }
  const app = buildApp({
    runtime,
    store,
    authenticators: [
      ...(delegated?.authenticators ?? []),
      ...(tokens.length > 0 || !delegated ? [createStaticTokenAuthenticator(tokens)] : []),
    ],
    authorizer: delegated?.authorizer ?? createStaticPolicyAuthorizer(auth.policy ?? []),
    tlsRequestCert: delegated !== undefined,
    ...(auth.rateLimit
      ? { rateLimiter: createUserRateLimiter({ rate: auth.rateLimit.perSecond, burst: auth.rateLimit.burst }) }
      : {}),
    anonymous: auth.anonymous ?? false,
    readyChecks: [passThrough.readyCheck],
    tls: o.tls,
    logger,
    metrics,
  });
  await runtime.start();
  const host = config.server?.host ?? '127.0.0.1';
  const port = config.server?.port ?? 8443;
  await app.listen({ host, port });
  const addr = app.server.address();
  const actualPort = addr && typeof addr === 'object' ? addr.port : port;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  return {
    app,
    metrics,
    runtime,
    store,
    url,
    async close() {
      await runtime.stop();
      await app.close();
      await store.close();
      await passThrough.close();
      await delegated?.close();
      await incidents?.close();
    },
  };
}
