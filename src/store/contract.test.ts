import { afterAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { createMemoryStore } from './memory.ts';
import { createRedisStore } from './redis.ts';
import { FencedError, type Change, type CollectionSnapshot, type Store, type StoredEvent } from './types.ts';

// One contract, two implementations: memory and Redis (the real server at 127.0.0.1:6379).
const PREFIX = `kgtest:contract:${process.pid}:${Date.now()}:`;
let n = 0;

afterAll(async () => {
  const r = new Redis('redis://127.0.0.1:6379');
  const keys = await r.keys(`${PREFIX}*`);
  if (keys.length) await r.del(...keys);
  await r.quit();
});

const change = (type: Change['type'], key: string, v: number): Change => ({
  type,
  key,
  hash: `h${v}`,
  body: `{"apiVersion":"g/v1","kind":"T","metadata":{"name":"${key}","resourceVersion":""},"v":${v}}`,
});

const until = (f: () => boolean, ms = 5000) =>
  vi.waitFor(() => expect(f(), 'timed out').toBe(true), { timeout: ms, interval: 10 });

function contract(name: string, make: () => Store) {
  describe(`${name} store contract`, () => {
    const col = () => `c${n++}`;

    it('a new collection starts at the wall clock, empty and unsynced', async () => {
      const s = make();
      const before = Date.now() * 1000;
      const snap = await s.load(col());
      expect(snap.rv).toBeGreaterThanOrEqual(before - 1_000_000);
      expect(snap.objects).toEqual([]);
      expect(snap.synced).toBe(false);
      await s.close();
    });

    it('commit gives consecutive versions; load reflects the snapshot', async () => {
      const s = make();
      const c = col();
      const start = (await s.load(c)).rv;
      const lease = (await s.acquireLease(c, 'a', 5000))!;
      const ev = await s.commit(c, lease, [change('ADDED', 'x', 1), change('ADDED', 'y', 1)]);
      expect(ev.map((e) => e.rv)).toEqual([start + 1, start + 2]);
      await s.commit(c, lease, [change('MODIFIED', 'x', 2), change('DELETED', 'y', 1)]);
      const snap = await s.load(c);
      expect(snap.rv).toBe(start + 4);
      expect(snap.synced).toBe(true);
      expect(snap.objects.map((o) => [o.key, o.rv, o.hash])).toEqual([['x', start + 3, 'h2']]);
      await s.close();
    });

    it('subscribers get committed events in order, exactly once', async () => {
      const s = make();
      const c = col();
      const snap = await s.load(c);
      const got: StoredEvent[][] = [[], []];
      const subs = [0, 1].map((i) =>
        s.subscribe(c, snap.rv, { onEvents: (e) => got[i]!.push(...e), onReset: () => undefined }),
      );
      const lease = (await s.acquireLease(c, 'a', 5000))!;
      for (let v = 1; v <= 5; v++) await s.commit(c, lease, [change(v === 1 ? 'ADDED' : 'MODIFIED', 'x', v)]);
      await until(() => got[0]!.length === 5 && got[1]!.length === 5);
      for (const g of got) expect(g.map((e) => e.rv)).toEqual([1, 2, 3, 4, 5].map((i) => snap.rv + i));
      // Exactly once: a later commit arrives after anything the first five could still bring along.
      await s.commit(c, lease, [change('MODIFIED', 'x', 6)]);
      await until(() => got.every((g) => g.some((e) => e.rv === snap.rv + 6)));
      for (const g of got) g.splice(g.findIndex((e) => e.rv === snap.rv + 6));
      expect(got[0]).toHaveLength(5);
      subs.forEach((x) => x.close());
      await s.close();
    });

    it('a subscriber from an older version is brought up to date (replay or reset)', async () => {
      const s = make();
      const c = col();
      const snap = await s.load(c);
      const lease = (await s.acquireLease(c, 'a', 5000))!;
      await s.commit(c, lease, [change('ADDED', 'x', 1), change('ADDED', 'y', 1)]);
      const state = new Map<string, string>();
      let resets: CollectionSnapshot | undefined;
      const sub = s.subscribe(c, snap.rv, {
        onEvents: (e) => e.forEach((x) => (x.type === 'DELETED' ? state.delete(x.key) : state.set(x.key, x.hash))),
        onReset: (r) => {
          resets = r;
          state.clear();
          r.objects.forEach((o) => state.set(o.key, o.hash));
        },
      });
      await until(() => state.size === 2);
      expect(resets === undefined || resets.rv === snap.rv + 2).toBe(true);
      sub.close();
      await s.close();
    });

    it('one lease holder at a time; a deposed holder cannot write', async () => {
      const s = make();
      const c = col();
      const a = (await s.acquireLease(c, 'a', 300))!;
      expect(a).not.toBeNull();
      expect(await s.acquireLease(c, 'b', 300)).toBeNull();
      await s.releaseLease(c, a);
      const b = (await s.acquireLease(c, 'b', 300))!;
      expect(b.fence).toBeGreaterThan(a.fence);
      await expect(s.commit(c, a, [change('ADDED', 'x', 1)])).rejects.toBeInstanceOf(FencedError);
      expect((await s.load(c)).objects).toEqual([]);
      await s.close();
    });
  });
}

contract('memory', () => createMemoryStore());
contract('redis', () => createRedisStore({ url: 'redis://127.0.0.1:6379', keyPrefix: PREFIX }));
