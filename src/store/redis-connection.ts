import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { KubegateConfig } from '../config/schema.ts';

/** How kubegate connects to Redis: one place that reads `store.redis` (and KUBEGATE_REDIS_URL). */
export interface RedisConnection {
  /** Key prefix of every key kubegate writes (several installations can share a Redis). */
  keyPrefix: string;
  /** A new client; `extra` options override the defaults (e.g. retries for a cache that may fail fast). */
  connect(extra?: RedisOptions): RedisClient;
  /** What the client connects to, for logs (no credentials). */
  describe(): string;
}

/** A client of either kind; both speak the commands the store and the query cache use. */
export type RedisClient = Redis | Cluster;

/** A second connection to the same Redis (blocking reads need their own). */
export function duplicateRedis(client: RedisClient, options: RedisOptions): RedisClient {
  return client instanceof Cluster ? client.duplicate(undefined, { redisOptions: options }) : client.duplicate(options);
}

/**
 * The connection factory for the config's Redis: standalone by URL, Sentinel (`sentinels` + `sentinelName`,
 * the URL is then ignored), or Cluster (`cluster` seed nodes; ioredis discovers the rest). Every key kubegate
 * writes carries a hash tag (`{collection}`, `{resource}`), so on a Cluster the keys one Lua script touches
 * live in one slot.
 *
 * @example
 * const redis = redisConnection(config);
 * const client = redis.connect({ maxRetriesPerRequest: 2 });
 */
export function redisConnection(config: KubegateConfig, env: NodeJS.ProcessEnv = process.env): RedisConnection {
  const r = config.store?.redis ?? {};
  const sentinel = r.sentinels && r.sentinelName ? { sentinels: r.sentinels, name: r.sentinelName } : undefined;
  const url = env.KUBEGATE_REDIS_URL ?? r.url ?? 'redis://127.0.0.1:6379';
  const cluster = r.cluster && r.cluster.length > 0 ? r.cluster : undefined;
  return {
    keyPrefix: r.keyPrefix ?? 'kubegate:',
    connect: (extra = {}) =>
      cluster
        ? new Cluster(cluster, {
            redisOptions: extra,
            // After a failover the slot map changes: refresh it quickly and keep retrying.
            slotsRefreshTimeout: 2000,
            clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
          })
        : sentinel
          ? new Redis({ ...sentinel, ...extra })
          : new Redis(url, extra),
    describe: () =>
      cluster
        ? `cluster ${cluster.map((n) => `${n.host}:${n.port}`).join(',')}`
        : sentinel
          ? `sentinel master ${sentinel.name}`
          : new URL(url).host,
  };
}
