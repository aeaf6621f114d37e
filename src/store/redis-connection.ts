import { Redis, type RedisOptions } from 'ioredis';
import type { KubegateConfig } from '../config/schema.ts';

/** How kubegate connects to Redis: one place that reads `store.redis` (and KUBEGATE_REDIS_URL). */
export interface RedisConnection {
  /** Key prefix of every key kubegate writes (several installations can share a Redis). */
  keyPrefix: string;
  /** A new client; `extra` options override the defaults (e.g. retries for a cache that may fail fast). */
  connect(extra?: RedisOptions): Redis;
  /** What the client connects to, for logs (no credentials). */
  describe(): string;
}

/**
 * The connection factory for the config's Redis: standalone by URL, or Sentinel (`sentinels` + `sentinelName`,
 * the URL is then ignored).
 *
 * @example
 * const redis = redisConnection(config);
 * const client = redis.connect({ maxRetriesPerRequest: 2 });
 */
export function redisConnection(config: KubegateConfig, env: NodeJS.ProcessEnv = process.env): RedisConnection {
  const r = config.store?.redis ?? {};
  const sentinel = r.sentinels && r.sentinelName ? { sentinels: r.sentinels, name: r.sentinelName } : undefined;
  const url = env.KUBEGATE_REDIS_URL ?? r.url ?? 'redis://127.0.0.1:6379';
  return {
    keyPrefix: r.keyPrefix ?? 'kubegate:',
    connect: (extra = {}) => (sentinel ? new Redis({ ...sentinel, ...extra }) : new Redis(url, extra)),
    describe: () => (sentinel ? `sentinel master ${sentinel.name}` : new URL(url).host),
  };
}
