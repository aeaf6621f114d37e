import type { RedisClient } from './redis-connection.ts';
import {
  DEFAULT_QUERY_CACHE_LIMITS,
  checkQueryCacheLimits,
  type QueryCache,
  type QueryCacheLimits,
} from './query-cache.ts';

/**
 * KEYS: index (sorted set: value key → expiry ms), sizes (hash: value key → bytes, `#total` → their sum),
 * value key. ARGV: value, ttlMs, maxEntries, maxBytes.
 *
 * Stores the value, then trims the resource back within its limits: first index entries whose values have
 * expired, then the entries closest to expiry (misses first, as they live shortest; for equal TTLs, the
 * oldest). Times come from the Redis clock so replicas with skewed clocks agree. Evicted value keys are
 * named inside the script; they share the index's hash tag, so a Cluster keeps them in one slot.
 */
const SET_BOUNDED = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local maxEntries = tonumber(ARGV[3])
local maxBytes = tonumber(ARGV[4])
local size = string.len(ARGV[1]) + string.len(KEYS[3])
local old = tonumber(redis.call('HGET', KEYS[2], KEYS[3]) or '0')
redis.call('SET', KEYS[3], ARGV[1], 'PX', ttl)
redis.call('ZADD', KEYS[1], now + ttl, KEYS[3])
redis.call('HSET', KEYS[2], KEYS[3], size)
local total = redis.call('HINCRBY', KEYS[2], '#total', size - old)
local function drop(k)
  local s = tonumber(redis.call('HGET', KEYS[2], k) or '0')
  redis.call('HDEL', KEYS[2], k)
  redis.call('ZREM', KEYS[1], k)
  total = redis.call('HINCRBY', KEYS[2], '#total', -s)
end
for _, k in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 256)) do drop(k) end
local evicted = 0
while redis.call('ZCARD', KEYS[1]) > maxEntries or total > maxBytes do
  local first = redis.call('ZRANGE', KEYS[1], 0, 0)
  if #first == 0 then break end
  redis.call('DEL', first[1])
  drop(first[1])
  evicted = evicted + 1
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last == 2 then
  redis.call('PEXPIREAT', KEYS[1], tonumber(last[2]) + 1000)
  redis.call('PEXPIREAT', KEYS[2], tonumber(last[2]) + 1000)
end
return evicted
`;

/** KEYS: index, sizes. Returns {entries, bytes} (entries not yet trimmed after expiry included). */
const USAGE = `
return { redis.call('ZCARD', KEYS[1]), tonumber(redis.call('HGET', KEYS[2], '#total') or '0') }
`;

/**
 * The pass-through query cache in Redis, shared by replicas: values with a TTL, and a short lock (SET NX PX)
 * so only one replica fetches a given query from the upstream at a time. Each resource keeps at most
 * `maxEntries` values and `maxBytes` of them: a sorted-set index per resource, trimmed on every write (see
 * {@link SET_BOUNDED}). Keys carry the resource as hash tag (`{payments.kubegate.dev/charges}`), so a
 * Cluster keeps a resource's keys in one slot.
 *
 * @example
 * const cache = createRedisQueryCache(new Redis(), 'kubegate:', { maxEntries: 10_000, maxBytes: 32 << 20 });
 */
export function createRedisQueryCache(
  redis: RedisClient,
  prefix = 'kubegate:',
  limits: QueryCacheLimits = DEFAULT_QUERY_CACHE_LIMITS,
): QueryCache {
  checkQueryCacheLimits(limits);
  const tag = (resource: string) => `{${resource}}`;
  const value = (resource: string, key: string) => `${prefix}qc:${tag(resource)}:${key}`;
  const index = (resource: string) => `${prefix}qc-index:${tag(resource)}`;
  const sizes = (resource: string) => `${prefix}qc-sizes:${tag(resource)}`;
  const lock = (resource: string, key: string) => `${prefix}qc-lock:${tag(resource)}:${key}`;
  /** Resources this replica wrote to (the ones it reports usage of). */
  const known = new Set<string>();
  return {
    async get(resource, key) {
      return (await redis.get(value(resource, key))) ?? undefined;
    },
    async set(resource, key, v, ttlMs) {
      known.add(resource);
      await redis.eval(
        SET_BOUNDED,
        3,
        index(resource),
        sizes(resource),
        value(resource, key),
        v,
        String(Math.max(1, Math.round(ttlMs))),
        String(limits.maxEntries),
        String(limits.maxBytes),
      );
    },
    async tryLock(resource, key, ttlMs) {
      return (await redis.set(lock(resource, key), '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX')) === 'OK';
    },
    async unlock(resource, key) {
      await redis.del(lock(resource, key));
    },
    async usage() {
      return Promise.all(
        [...known].map(async (resource) => {
          const [entries, bytes] = (await redis.eval(USAGE, 2, index(resource), sizes(resource))) as [number, number];
          return { resource, entries, bytes };
        }),
      );
    },
  };
}
