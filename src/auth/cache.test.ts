import { describe, expect, it } from 'vitest';
import { createReviewCache } from './cache.ts';

describe('createReviewCache', () => {
  it('answers from the cache until the TTL runs out', async () => {
    let t = 0;
    let loads = 0;
    const c = createReviewCache<string>({ now: () => t });
    const load = () => Promise.resolve({ value: `v${++loads}`, ttlMs: 10_000 });
    expect(await c.get('k', load)).toBe('v1');
    t = 9_999;
    expect(await c.get('k', load)).toBe('v1');
    t = 10_000;
    expect(await c.get('k', load)).toBe('v2');
    expect(c.stats).toEqual({ hits: 1, misses: 2, coalesced: 0 });
  });

  it('shares one load between concurrent callers', async () => {
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const c = createReviewCache<number>();
    const load = async () => {
      loads++;
      await gate;
      return { value: 42, ttlMs: 1000 };
    };
    const all = Promise.all(Array.from({ length: 20 }, () => c.get('k', load)));
    release();
    expect(await all).toEqual(Array(20).fill(42));
    expect(loads).toBe(1);
    expect(c.stats).toEqual({ hits: 0, misses: 1, coalesced: 19 });
  });

  it('does not cache failures or zero TTLs', async () => {
    const c = createReviewCache<number>();
    await expect(c.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await c.get('k', () => Promise.resolve({ value: 1, ttlMs: 0 }))).toBe(1);
    expect(await c.get('k', () => Promise.resolve({ value: 2, ttlMs: 1000 }))).toBe(2);
    expect(c.stats.misses).toBe(3);
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const c = createReviewCache<number>({ maxEntries: 2 });
    for (const k of ['a', 'b', 'c']) await c.get(k, () => Promise.resolve({ value: 1, ttlMs: 1000 }));
    expect(c.size).toBe(2);
    let reloaded = false;
    await c.get('a', () => ((reloaded = true), Promise.resolve({ value: 1, ttlMs: 1000 })));
    expect(reloaded).toBe(true);
    expect(() => createReviewCache({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
