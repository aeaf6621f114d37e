/**
 * The per-query cache of pass-through resources. With Redis it is shared by replicas, so N replicas asking
 * the same query make one upstream call: the first takes a short lock and fetches, the others wait for the
 * value to appear.
 */
export interface QueryCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** True when this caller got the lock (it must fetch, then set and unlock). */
  tryLock(key: string, ttlMs: number): Promise<boolean>;
  unlock(key: string): Promise<void>;
}

/** Single-replica cache: a Map with expiry times, swept as it is read. */
export function createMemoryQueryCache(now: () => number = Date.now): QueryCache {
  const values = new Map<string, { v: string; until: number }>();
  const locks = new Map<string, number>();
  let reads = 0;
  const sweep = () => {
    const t = now();
    for (const [k, x] of values) if (x.until <= t) values.delete(k);
    for (const [k, until] of locks) if (until <= t) locks.delete(k);
  };
  return {
    get(key) {
      if (++reads % 1000 === 0) sweep();
      const x = values.get(key);
      if (!x || x.until <= now()) return Promise.resolve(undefined);
      return Promise.resolve(x.v);
    },
    set(key, value, ttlMs) {
      values.set(key, { v: value, until: now() + ttlMs });
      return Promise.resolve();
    },
    tryLock(key, ttlMs) {
      const until = locks.get(key);
      if (until !== undefined && until > now()) return Promise.resolve(false);
      locks.set(key, now() + ttlMs);
      return Promise.resolve(true);
    },
    unlock(key) {
      locks.delete(key);
      return Promise.resolve();
    },
  };
}
