import type { QueryCache } from './query-cache.ts';

export interface GuardedQueryCache extends QueryCache {
  /** When the cache became unreachable (ms since epoch), while it is. */
  downSince(): number | undefined;
  /** Reports a failure seen outside a call (the connection's error events). */
  noteError(err: unknown): void;
  /** Reports the connection usable again (its ready event): calls go to the cache at once. */
  noteReady(): void;
}

/** While the cache is down, one call at most this often goes to it to find out whether it is back. */
const PROBE_EVERY_MS = 1000;

/**
 * A query cache whose failures do not fail requests: a read that fails is a miss, a lock that fails is taken
 * (the caller fetches), a write that fails is dropped, so requests go on to the upstream (still under the
 * per-user and adapter limits) instead of answering "upstream unavailable" for what is a cache outage. While
 * it is down, calls skip it (no request waits on a dead connection) but for one probe a second. The outage is
 * logged once when it starts and once when it ends, and {@link GuardedQueryCache.downSince} feeds readiness.
 *
 * @example
 * const cache = guardQueryCache(createRedisQueryCache(redis), log);
 * cache.downSince(); // undefined while Redis answers
 */
export function guardQueryCache(
  inner: QueryCache,
  log: {
    warn(msg: string, extra?: Record<string, unknown>): void;
    info(msg: string, extra?: Record<string, unknown>): void;
  },
  now: () => number = Date.now,
): GuardedQueryCache {
  let since: number | undefined;
  let lastProbe = 0;
  const up = () => {
    if (since === undefined) return;
    log.info('query cache reachable again; pass-through answers are cached again', {
      downForMs: now() - since,
    });
    since = undefined;
  };
  const down = (err: unknown) => {
    if (since !== undefined) return;
    since = now();
    const code = (err as { code?: unknown }).code;
    log.warn('query cache unreachable; pass-through requests go to the upstream uncached', {
      reason: err instanceof Error ? err.message.slice(0, 200) : 'unknown error',
      ...(typeof code === 'string' ? { code } : {}),
    });
  };
  const guard = async <T>(f: () => Promise<T>, fallback: T): Promise<T> => {
    if (since !== undefined) {
      if (now() - lastProbe < PROBE_EVERY_MS) return fallback;
      lastProbe = now();
    }
    try {
      const v = await f();
      up();
      return v;
    } catch (err) {
      down(err);
      return fallback;
    }
  };
  return {
    get: (r, k) => guard(() => inner.get(r, k), undefined),
    set: (r, k, v, ttl) => guard(() => inner.set(r, k, v, ttl), undefined),
    tryLock: (r, k, ttl) => guard(() => inner.tryLock(r, k, ttl), true),
    unlock: (r, k) => guard(() => inner.unlock(r, k), undefined),
    usage: () => guard(() => inner.usage(), []),
    downSince: () => since,
    noteError: down,
    noteReady: up,
  };
}
