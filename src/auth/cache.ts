/** Counters of a {@link ReviewCache}: answers from the cache, calls made, and callers that joined a call in flight. */
export interface ReviewCacheStats {
  hits: number;
  misses: number;
  coalesced: number;
}

export interface ReviewCache<V> {
  /**
   * The cached value for `key`, or the value of `load()`, cached for the TTL it returns (0: not cached).
   * Concurrent calls for one key share one `load()`. A rejected load is not cached.
   */
  get(key: string, load: () => Promise<{ value: V; ttlMs: number }>): Promise<V>;
  readonly stats: ReviewCacheStats;
  readonly size: number;
  clear(): void;
}

export interface ReviewCacheOptions {
  /** Entries kept at most; the oldest go first (default 10 000). */
  maxEntries?: number;
  now?: () => number;
}

/**
 * A small TTL cache for TokenReview and SubjectAccessReview answers, with in-flight coalescing: a burst of
 * identical requests (a kubectl fan-out, an informer relist) costs the kube-apiserver one review.
 *
 * @example
 * const cache = createReviewCache<boolean>();
 * const allowed = await cache.get(key, async () => ({ value: await review(), ttlMs: 10_000 }));
 */
export function createReviewCache<V>(o: ReviewCacheOptions = {}): ReviewCache<V> {
  const max = o.maxEntries ?? 10_000;
  if (!(Number.isInteger(max) && max > 0)) throw new Error('maxEntries must be a positive integer');
  const now = o.now ?? Date.now;
  const entries = new Map<string, { value: V; expires: number }>();
  const inflight = new Map<string, Promise<V>>();
  const stats: ReviewCacheStats = { hits: 0, misses: 0, coalesced: 0 };

  return {
    stats,
    get size() {
      return entries.size;
    },
    clear() {
      entries.clear();
    },
    get(key, load) {
      const e = entries.get(key);
      if (e) {
        if (e.expires > now()) {
          stats.hits++;
          return Promise.resolve(e.value);
        }
        entries.delete(key);
      }
      const pending = inflight.get(key);
      if (pending) {
        stats.coalesced++;
        return pending;
      }
      stats.misses++;
      const p = (async () => {
        try {
          const { value, ttlMs } = await load();
          if (ttlMs > 0) {
            entries.delete(key);
            entries.set(key, { value, expires: now() + ttlMs });
            // Map iteration is insertion order: the first key is the oldest entry.
            while (entries.size > max) entries.delete(entries.keys().next().value as string);
          }
          return value;
        } finally {
          inflight.delete(key);
        }
      })();
      inflight.set(key, p);
      return p;
    },
  };
}
