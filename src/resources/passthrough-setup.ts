import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { UserInfo } from '../auth/types.ts';
import type { KubegateConfig } from '../config/schema.ts';
import { registerQueryCacheMetrics } from '../observability/query-cache-metrics.ts';
import { parseDuration } from '../sdk/duration.ts';
import { guardQueryCache, type GuardedQueryCache } from '../store/guarded-query-cache.ts';
import { DEFAULT_QUERY_CACHE_LIMITS, createMemoryQueryCache, type QueryCacheLimits } from '../store/query-cache.ts';
import { createRedisQueryCache } from '../store/redis-query-cache.ts';
import type { RedisClient, RedisConnection } from '../store/redis-connection.ts';
import { DEFAULT_UPSTREAM_BUDGET, createUpstreamBudget } from './upstream-budget.ts';

/** How long the query cache may be unreachable before readiness reports it (as for the shared store). */
const READY_GRACE_MS = 30_000;

/** Misses are cached this long unless `passThrough.cache.notFoundTtl` says otherwise. */
export const DEFAULT_NOT_FOUND_TTL_MS = 1000;

export interface PassThroughServing {
  cache: GuardedQueryCache;
  notFoundTtlMs: number;
  admit: (caller: UserInfo | undefined) => void;
  /** For `/readyz`: the query cache has been unreachable for longer than the grace period. */
  readyCheck: { name: string; check(): string | undefined };
  close(): Promise<void>;
}

/**
 * Everything pass-through serving needs from the config (`passThrough`, `store`): the bounded query cache
 * (in Redis when replicas share one, so they coalesce across processes), guarded so a cache outage is logged
 * and shown in readiness rather than failing requests; how long misses are cached; and the per-user limit on
 * upstream calls. Registers the cache metrics. `redis` is the config's Redis connection, which a Redis store
 * needs (`startGateway` makes it; this module does not load ioredis itself, see src/server/parts.ts).
 */
export function createPassThroughServing(
  config: KubegateConfig,
  logger: Logger,
  registry?: Registry,
  redis?: RedisConnection,
): PassThroughServing {
  const pt = config.passThrough ?? {};
  const limits: QueryCacheLimits = {
    maxEntries: pt.cache?.maxEntries ?? DEFAULT_QUERY_CACHE_LIMITS.maxEntries,
    maxBytes: pt.cache?.maxBytes ?? DEFAULT_QUERY_CACHE_LIMITS.maxBytes,
  };
  const log = {
    warn: (msg: string, extra?: Record<string, unknown>) => logger.warn(extra ?? {}, msg),
    info: (msg: string, extra?: Record<string, unknown>) => logger.info(extra ?? {}, msg),
  };
  let client: RedisClient | undefined;
  let cache: GuardedQueryCache;
  if ((config.store?.type ?? 'memory') === 'memory') {
    cache = guardQueryCache(createMemoryQueryCache(limits), log);
  } else {
    if (!redis) throw new Error('store.type is redis: the pass-through query cache needs the Redis connection');
    // A cache call waits at most a second (then the request goes on uncached); the guard skips the cache
    // while it is down, so only its probes wait.
    client = redis.connect({
      maxRetriesPerRequest: 2,
      commandTimeout: 1000,
      retryStrategy: (times: number) => Math.min(100 * times, 2000),
    });
    cache = guardQueryCache(createRedisQueryCache(client, redis.keyPrefix, limits), log);
    const guarded = cache;
    // Connection errors repeat on every reconnect attempt: the guard logs the outage once, and its end.
    client.on('error', (err: Error) => guarded.noteError(err));
    client.on('ready', () => guarded.noteReady());
  }
  const metrics = registry ? registerQueryCacheMetrics(registry, () => cache.usage()) : undefined;
  const budget = pt.userUpstreamLimit === false ? false : (pt.userUpstreamLimit ?? DEFAULT_UPSTREAM_BUDGET);
  const c = client;
  return {
    cache,
    notFoundTtlMs:
      pt.cache?.notFoundTtl !== undefined
        ? parseDuration(pt.cache.notFoundTtl, 'passThrough.cache.notFoundTtl')
        : DEFAULT_NOT_FOUND_TTL_MS,
    admit: createUpstreamBudget(budget, metrics ? () => metrics.refused() : undefined),
    readyCheck: {
      name: 'query-cache',
      check: () => {
        const since = cache.downSince();
        return since !== undefined && Date.now() - since > READY_GRACE_MS ? 'query cache unreachable' : undefined;
      },
    },
    close: () =>
      c
        ? c.quit().then(
            () => undefined,
            () => c.disconnect(),
          )
        : Promise.resolve(),
  };
}
