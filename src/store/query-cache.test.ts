import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { guardQueryCache } from './guarded-query-cache.ts';
import { createMemoryQueryCache, type QueryCache, type QueryCacheLimits } from './query-cache.ts';
import { createRedisQueryCache } from './redis-query-cache.ts';

// One contract, two implementations: lru-cache in memory and Redis (the real server at 127.0.0.1:6379).
const PREFIX = `kgtest:qc:${process.pid}:${Date.now()}:`;
const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: false });
let n = 0;

// The cache refuses work while its connection is not ready (callers then go to the upstream): wait for it, as a
// loaded machine may take longer to connect than the first test takes to start.
beforeAll(async () => {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
});

afterAll(async () => {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

const R = 'payments.kubegate.dev/charges';
const OTHER = 'weather.kubegate.dev/forecasts';

const impls: [string, (l: QueryCacheLimits) => { cache: QueryCache; prefix: string }][] = [
  ['memory', (l) => ({ cache: createMemoryQueryCache(l), prefix: '' })],
  [
    'redis',
    (l) => {
      const prefix = `${PREFIX}${++n}:`;
      return { cache: createRedisQueryCache(redis, prefix, l), prefix };
    },
  ],
];

describe.each(impls)('query cache (%s)', (kind, make) => {
  it('keeps at most maxEntries per resource, evicting the oldest, without touching other resources', async () => {
    const { cache, prefix } = make({ maxEntries: 50, maxBytes: 1 << 20 });
    await cache.set(OTHER, 'keep', '{"objects":[1]}', 60_000);
    for (let i = 0; i < 500; i++) await cache.set(R, `get|ns/n${i}`, `{"objects":[],"i":${i}}`, 60_000);
    const usage = await cache.usage();
    expect(usage.find((u) => u.resource === R)?.entries).toBe(50);
    expect(await cache.get(R, 'get|ns/n0')).toBeUndefined();
    expect(await cache.get(R, 'get|ns/n499')).toBe('{"objects":[],"i":499}');
    expect(await cache.get(OTHER, 'keep')).toBe('{"objects":[1]}');
    if (kind === 'redis') {
      // What Redis holds for the resource: its values plus the index and the size table.
      const keys = await redis.keys(`${prefix}*{${R}}*`);
      expect(keys.length).toBeLessThanOrEqual(50 + 2);
    }
  });

  it('keeps at most maxBytes per resource, and refuses nothing smaller than a quarter of it', async () => {
    const { cache } = make({ maxEntries: 10_000, maxBytes: 64 * 1024 });
    const value = 'x'.repeat(4000);
    for (let i = 0; i < 100; i++) await cache.set(R, `list|${i}`, value, 60_000);
    const u = (await cache.usage()).find((x) => x.resource === R);
    expect(u?.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(u?.entries).toBeGreaterThanOrEqual(10);
    expect(u?.entries).toBeLessThan(17);
    expect(await cache.get(R, 'list|99')).toBe(value);
  });

  it('forgets an entry after its own TTL (a miss lives shorter than a hit)', async () => {
    const { cache } = make({ maxEntries: 100, maxBytes: 1 << 20 });
    await cache.set(R, 'get|ns/miss', '{"objects":[]}', 50);
    await cache.set(R, 'get|ns/hit', '{"objects":[1]}', 60_000);
    await vi.waitFor(async () => expect(await cache.get(R, 'get|ns/miss')).toBeUndefined(), { timeout: 2000 });
    expect(await cache.get(R, 'get|ns/hit')).toBe('{"objects":[1]}');
  });

  it('lets one caller at a time take a key lock', async () => {
    const { cache } = make({ maxEntries: 100, maxBytes: 1 << 20 });
    expect(await cache.tryLock(R, 'k', 10_000)).toBe(true);
    expect(await cache.tryLock(R, 'k', 10_000)).toBe(false);
    await cache.unlock(R, 'k');
    expect(await cache.tryLock(R, 'k', 10_000)).toBe(true);
  });

  it('rejects limits that cannot work, naming the option', () => {
    expect(() => make({ maxEntries: 0, maxBytes: 1 << 20 })).toThrow(/maxEntries/);
    expect(() => make({ maxEntries: 10, maxBytes: 10 })).toThrow(/maxBytes/);
  });
});

describe('guarded query cache', () => {
  it('turns a cache outage into misses, logs it once when it starts and once when it ends', async () => {
    let broken = true;
    const inner = createMemoryQueryCache({ maxEntries: 10, maxBytes: 1 << 20 });
    const failing: QueryCache = {
      get: (r, k) => (broken ? Promise.reject(new Error('connection is reconnecting')) : inner.get(r, k)),
      set: (r, k, v, t) => (broken ? Promise.reject(new Error('connection is reconnecting')) : inner.set(r, k, v, t)),
      tryLock: (r, k, t) => (broken ? Promise.reject(new Error('connection is reconnecting')) : inner.tryLock(r, k, t)),
      unlock: (r, k) => (broken ? Promise.reject(new Error('connection is reconnecting')) : inner.unlock(r, k)),
      usage: () => inner.usage(),
    };
    const lines: string[] = [];
    const log = { warn: (m: string) => lines.push(`warn ${m}`), info: (m: string) => lines.push(`info ${m}`) };
    let t = 1000;
    const cache = guardQueryCache(failing, log, () => t);
    expect(await cache.get(R, 'k')).toBeUndefined();
    expect(await cache.tryLock(R, 'k', 100)).toBe(true);
    await cache.set(R, 'k', 'v', 1000);
    await cache.unlock(R, 'k');
    expect(cache.downSince()).toBe(1000);
    expect(lines).toEqual(['warn query cache unreachable; pass-through requests go to the upstream uncached']);
    broken = false;
    t = 5000;
    await cache.set(R, 'k', 'v', 1000);
    expect(await cache.get(R, 'k')).toBe('v');
    expect(cache.downSince()).toBeUndefined();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^info query cache reachable again/);
  });

  it('skips a cache that is down, but for one probe a second, and uses it again once it is back', async () => {
    let calls = 0;
    let broken = true;
    const inner = createMemoryQueryCache({ maxEntries: 10, maxBytes: 1 << 20 });
    const counting: QueryCache = {
      ...inner,
      get: (r, k) => {
        calls++;
        return broken ? Promise.reject(new Error('down')) : inner.get(r, k);
      },
    };
    let t = 0;
    const cache = guardQueryCache(counting, { warn: () => undefined, info: () => undefined }, () => t);
    await cache.get(R, 'k');
    for (let i = 0; i < 10; i++) await cache.get(R, 'k');
    expect(calls).toBe(1);
    t = 1500;
    broken = false;
    await cache.get(R, 'k');
    expect(calls).toBe(2);
    expect(cache.downSince()).toBeUndefined();
    cache.noteError(new Error('connection lost'));
    expect(cache.downSince()).toBe(1500);
    cache.noteReady();
    expect(cache.downSince()).toBeUndefined();
  });
});
