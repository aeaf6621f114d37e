import { describe, expect, it, vi } from 'vitest';
import { defineResource } from '../sdk/define.ts';
import type { ObjectInput } from '../sdk/types.ts';
import { tooManyRequests } from '../k8s/errors.ts';
import { createMemoryQueryCache, type QueryCache } from '../store/query-cache.ts';
import { guardQueryCache } from '../store/guarded-query-cache.ts';
import { KubeError } from '../k8s/errors.ts';
import { PassThroughQueries } from './passthrough-queries.ts';

const C = 'g.example.com/things';
const bob = { name: 'bob', groups: [] };

function setup(o: { cache?: QueryCache; namePattern?: RegExp; admit?: (u: unknown) => void } = {}) {
  const known = new Map<string, ObjectInput>([['t-1', { name: 't-1', namespace: 'default', spec: { v: 1 } }]]);
  let failWith: Error | undefined;
  const gets: string[] = [];
  const logs: { msg: string; extra?: Record<string, unknown> }[] = [];
  const cache = o.cache ?? createMemoryQueryCache({ maxEntries: 100, maxBytes: 1 << 20 });
  const resource = defineResource<unknown>({
    kind: 'Thing',
    plural: 'things',
    scope: 'Namespaced',
    mode: 'passthrough',
    schema: {},
    ...(o.namePattern ? { namePattern: o.namePattern } : {}),
    listPage: () => Promise.resolve({ items: [...known.values()] }),
    get: (_ctx, { name }) => {
      gets.push(name);
      if (failWith !== undefined) return Promise.reject(failWith);
      return Promise.resolve(known.get(name));
    },
  });
  const log = {
    debug() {},
    info() {},
    warn: (msg: string, extra?: Record<string, unknown>) => logs.push({ msg, ...(extra ? { extra } : {}) }),
    error() {},
  };
  const pass = new PassThroughQueries({
    adapter: 'things',
    group: 'g.example.com',
    version: 'v1',
    collection: C,
    resource,
    config: {},
    cache,
    ttlMs: 60_000,
    notFoundTtlMs: 50,
    staleMs: 60_000,
    lockMs: 1000,
    fetch: globalThis.fetch,
    log,
    ...(o.admit ? { admit: o.admit } : {}),
  });
  return { pass, cache, gets, logs, fail: (e: Error) => (failWith = e) };
}

describe('pass-through lookups', () => {
  it('answers names no object can have without a cache entry or an upstream call', async () => {
    const t = setup({ namePattern: /^t-\d+$/ });
    for (const name of ['UPPER', 'a_b', 'x'.repeat(254), 'nope-1', '-t-1'])
      expect((await t.pass.get('default', name, bob)).entry).toBeUndefined();
    expect((await t.pass.get('Not A Namespace', 't-1', bob)).entry).toBeUndefined();
    expect(t.gets).toEqual([]);
    expect(await t.cache.usage()).toEqual([]);
    expect((await t.pass.get('default', 't-1', bob)).entry?.obj.metadata.name).toBe('t-1');
    expect(t.gets).toEqual(['t-1']);
  });

  it('caches a miss only briefly, a hit for the TTL', async () => {
    const t = setup();
    await t.pass.get('default', 'ghost', bob);
    await t.pass.get('default', 't-1', bob);
    await t.pass.get('default', 'ghost', bob);
    await t.pass.get('default', 't-1', bob);
    expect(t.gets).toEqual(['ghost', 't-1']);
    // The miss expires after notFoundTtl: the next get asks the upstream again; the hit is still cached.
    await vi.waitFor(
      async () => {
        await t.pass.get('default', 'ghost', bob);
        await t.pass.get('default', 't-1', bob);
        expect(t.gets).toEqual(['ghost', 't-1', 'ghost']);
      },
      { timeout: 2000, interval: 20 },
    );
  });

  it('charges the upstream budget only for lookups that start an upstream call', async () => {
    const admitted: unknown[] = [];
    const t = setup({ admit: (u) => admitted.push(u) });
    await t.pass.get('default', 't-1', bob);
    await t.pass.get('default', 't-1', bob);
    await Promise.all([t.pass.get('default', 'a', bob), t.pass.get('default', 'a', bob)]);
    expect(admitted).toEqual([bob, bob]);
    const over = setup({
      admit: () => {
        throw tooManyRequests('too many', 3);
      },
    });
    await expect(over.pass.get('default', 't-1', bob)).rejects.toMatchObject({ code: 429, reason: 'TooManyRequests' });
    expect(over.gets).toEqual([]);
  });

  it('fails with a typed 503 whose reason and log line hold no upstream text', async () => {
    const t = setup();
    t.fail(Object.assign(new Error('{"error":"db down, key=sk_live_leak0000000"}'), { status: 500 }));
    const err = await t.pass.get('default', 't-1', bob).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({
      code: 503,
      reason: 'ServiceUnavailable',
      message: 'things: upstream unavailable for things.g.example.com: upstream answered 500',
      details: { retryAfterSeconds: 5 },
    });
    expect(JSON.stringify(t.logs)).not.toContain('sk_live_leak');
    expect(t.logs).toEqual([
      { msg: 'pass-through lookup failed', extra: { collection: C, reason: 'upstream answered 500' } },
    ]);
  });

  it("a replica that gets the lock just after another let it go uses that one's answer (one upstream call)", async () => {
    const shared = createMemoryQueryCache({ maxEntries: 100, maxBytes: 1 << 20 });
    const other = setup({ cache: shared });
    // The other replica holds the lock at first; it stores its answer and lets go right after this replica's
    // look at the cache, before this replica tries the lock again.
    let held = true;
    const cache: QueryCache = {
      ...shared,
      tryLock: (c, k, ms) => (held ? Promise.resolve(false) : shared.tryLock(c, k, ms)),
      get: async (c, k) => {
        const v = await shared.get(c, k);
        if (held && v === undefined) {
          held = false;
          await other.pass.get('default', 't-1', bob);
        }
        return v;
      },
    };
    const t = setup({ cache });
    expect((await t.pass.get('default', 't-1', bob)).entry?.obj.metadata.name).toBe('t-1');
    expect(other.gets).toEqual(['t-1']);
    expect(t.gets).toEqual([]);
  });

  it('serves from the upstream when the query cache is down, instead of failing', async () => {
    const broken: QueryCache = {
      get: () => Promise.reject(new Error('down')),
      set: () => Promise.reject(new Error('down')),
      tryLock: () => Promise.reject(new Error('down')),
      unlock: () => Promise.reject(new Error('down')),
      usage: () => Promise.resolve([]),
    };
    const warned: string[] = [];
    const cache = guardQueryCache(broken, { warn: (m) => warned.push(m), info: () => undefined });
    const t = setup({ cache });
    expect((await t.pass.get('default', 't-1', bob)).entry?.obj.metadata.name).toBe('t-1');
    expect(cache.downSince()).toBeTypeOf('number');
    expect(warned).toHaveLength(1);
  });
});
