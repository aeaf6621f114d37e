import type { Redis } from 'ioredis';
import type { QueryCache } from './query-cache.ts';

/**
 * The pass-through query cache in Redis, shared by replicas: values with a TTL (SET PX) and a short lock
 * (SET NX PX) so only one replica fetches a given query from the upstream at a time. Keys are hashed into
 * the `{qc}` slot family per collection prefix so a Cluster keeps them together.
 */
export function createRedisQueryCache(redis: Redis, prefix = 'kubegate:'): QueryCache {
  const k = (key: string) => `${prefix}qc:${key}`;
  const lock = (key: string) => `${prefix}qc-lock:${key}`;
  return {
    async get(key) {
      return (await redis.get(k(key))) ?? undefined;
    },
    async set(key, value, ttlMs) {
      await redis.set(k(key), value, 'PX', Math.max(1, Math.round(ttlMs)));
    },
    async tryLock(key, ttlMs) {
      return (await redis.set(lock(key), '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX')) === 'OK';
    },
    async unlock(key) {
      await redis.del(lock(key));
    },
  };
}
