import { LRUCache } from 'lru-cache';

/** How much one resource may keep in the query cache. */
export interface QueryCacheLimits {
  /** Entries per resource (cached pages and objects, misses included). */
  maxEntries: number;
  /** Bytes per resource: values plus keys (UTF-16 code units, about bytes for the ASCII JSON kept here). */
  maxBytes: number;
}

export const DEFAULT_QUERY_CACHE_LIMITS: QueryCacheLimits = { maxEntries: 10_000, maxBytes: 32 << 20 };

/** What one resource holds in the cache now. */
export interface QueryCacheUsage {
  resource: string;
  entries: number;
  bytes: number;
}

/**
 * The per-query cache of pass-through resources, bounded per resource (entries and bytes). With Redis it is
 * shared by replicas, so N replicas asking the same query make one upstream call: the first takes a short
 * lock and fetches, the others wait for the value to appear.
 */
export interface QueryCache {
  get(resource: string, key: string): Promise<string | undefined>;
  set(resource: string, key: string, value: string, ttlMs: number): Promise<void>;
  /** True when this caller got the lock (it must fetch, then set and unlock). */
  tryLock(resource: string, key: string, ttlMs: number): Promise<boolean>;
  unlock(resource: string, key: string): Promise<void>;
  /** Entries and bytes per resource that has any (metrics, tests). */
  usage(): Promise<QueryCacheUsage[]>;
}

/** Per-entry bookkeeping of lru-cache and the Map holding it, counted into an entry's size. */
const ENTRY_OVERHEAD = 96;

/** Checks limits where they are made; the message names the option. */
export function checkQueryCacheLimits(l: QueryCacheLimits): QueryCacheLimits {
  if (!(Number.isInteger(l.maxEntries) && l.maxEntries >= 1))
    throw new Error(`maxEntries must be a positive integer (got ${String(l.maxEntries)})`);
  if (!(Number.isInteger(l.maxBytes) && l.maxBytes >= 1024))
    throw new Error(`maxBytes must be an integer of at least 1024 (got ${String(l.maxBytes)})`);
  return l;
}

/**
 * Single-replica cache: one LRU per resource (lru-cache), bounded in entries and bytes, with a TTL per entry.
 * One entry may take at most a quarter of the resource's bytes, so one huge page cannot flush everything else.
 *
 * @example
 * const cache = createMemoryQueryCache({ maxEntries: 1000, maxBytes: 8 << 20 });
 * await cache.set('payments.kubegate.dev/charges', 'get|ns/x', '{"objects":[]}', 1000);
 */
export function createMemoryQueryCache(limits: QueryCacheLimits = DEFAULT_QUERY_CACHE_LIMITS): QueryCache {
  checkQueryCacheLimits(limits);
  const caches = new Map<string, LRUCache<string, string>>();
  const of = (resource: string) => {
    let c = caches.get(resource);
    if (!c)
      caches.set(
        resource,
        (c = new LRUCache<string, string>({
          max: limits.maxEntries,
          maxSize: limits.maxBytes,
          maxEntrySize: Math.max(1024, Math.floor(limits.maxBytes / 4)),
          sizeCalculation: (v, k) => v.length + k.length + ENTRY_OVERHEAD,
          // Every set passes its own TTL; this one only turns TTL tracking on.
          ttl: 60_000,
        })),
      );
    return c;
  };
  // Locks only matter between replicas; in one process the caller's in-flight map coalesces. Kept bounded anyway.
  const locks = new LRUCache<string, true>({ max: 10_000, ttl: 60_000 });
  return {
    get(resource, key) {
      return Promise.resolve(caches.get(resource)?.get(key));
    },
    set(resource, key, value, ttlMs) {
      of(resource).set(key, value, { ttl: Math.max(1, Math.round(ttlMs)) });
      return Promise.resolve();
    },
    tryLock(resource, key, ttlMs) {
      const k = `${resource}\n${key}`;
      if (locks.has(k)) return Promise.resolve(false);
      locks.set(k, true, { ttl: Math.max(1, Math.round(ttlMs)) });
      return Promise.resolve(true);
    },
    unlock(resource, key) {
      locks.delete(`${resource}\n${key}`);
      return Promise.resolve();
    },
    usage() {
      return Promise.resolve(
        [...caches].map(([resource, c]) => {
          c.purgeStale();
          return { resource, entries: c.size, bytes: c.calculatedSize };
        }),
      );
    },
  };
}
