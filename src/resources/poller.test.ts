import { describe, expect, it } from 'vitest';
import { defineResource } from '../sdk/define.ts';
import type { ObjectInput } from '../sdk/types.ts';
import { createMemoryStore } from '../store/memory.ts';
import { CollectionView } from './view.ts';
import { Poller } from './poller.ts';

function setup(
  initial: ObjectInput[] | (() => ObjectInput[]),
  guard?: { maxDeleteRatio?: number },
  shared?: { store: ReturnType<typeof createMemoryStore>; holder: string },
) {
  let items = typeof initial === 'function' ? initial : () => initial;
  let fail: string | undefined;
  const resource = defineResource<unknown>({
    kind: 'Thing',
    plural: 'things',
    scope: 'Namespaced',
    mode: 'mirror',
    schema: {},
    ...(guard ? { deleteGuard: guard } : {}),
    list: (ctx) => {
      if (fail) return Promise.reject(Object.assign(new Error(`{"echo":"${fail}"}`), { status: 503 }));
      const out = items();
      for (const x of out) if (x.name === 'bad') ctx.skip('bad item');
      return Promise.resolve(out.filter((x) => x.name !== 'bad'));
    },
  });
  const store = shared?.store ?? createMemoryStore();
  const view = new CollectionView({ maxEvents: 100, maxEventAgeMs: 60_000, maxSnapshots: 4 });
  store.subscribe('g/things', view.rv, { onEvents: (e) => view.apply(e), onReset: (s) => view.reset(s) });
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const poller = new Poller({
    adapter: 'test',
    group: 'g.example.com',
    version: 'v1',
    collection: 'g/things',
    resource,
    config: {},
    intervalMs: 1000,
    view,
    store,
    holder: shared?.holder ?? 'me',
    leaseTtlMs: 10_000,
    fetch: fetch,
    log,
  });
  return {
    view,
    poller,
    store,
    set: (f: () => ObjectInput[]) => (items = f),
    fail: (m: string | undefined) => (fail = m),
  };
}

const thing = (name: string, v = 1, ns = 'a'): ObjectInput => ({ name, namespace: ns, labels: { v }, status: { v } });

describe('Poller', () => {
  it('an empty first poll makes the other replicas ready too (an empty collection sends no event)', async () => {
    const leader = setup([]);
    // The follower subscribed before the lease holder's first poll, as replicas starting together do.
    const follower = setup([], undefined, { store: leader.store, holder: 'other' });
    await leader.poller.pollNow();
    expect(leader.view.synced).toBe(true);
    expect(follower.view.synced).toBe(false);
    await follower.poller.pollNow();
    expect(follower.poller.status.leader).toBe(false);
    expect(follower.view.synced).toBe(true);
  });

  it('adds, modifies only on content change, and deletes', async () => {
    const t = setup([thing('x'), thing('y'), thing('z'), thing('w')]);
    await t.poller.pollNow();
    expect(t.view.size).toBe(4);
    const rv1 = t.view.rv;
    const x1 = t.view.get('a/x');
    await t.poller.pollNow();
    expect(t.view.rv).toBe(rv1); // nothing changed: no new resourceVersion
    t.set(() => [thing('x', 2), thing('y'), thing('z'), thing('w'), thing('v')]);
    await t.poller.pollNow();
    const x2 = t.view.get('a/x');
    expect(Number(x2?.obj.metadata.resourceVersion)).toBeGreaterThan(Number(x1?.obj.metadata.resourceVersion));
    expect(x2?.obj.metadata.uid).toBe(x1?.obj.metadata.uid);
    expect(x2?.obj.metadata.creationTimestamp).toBe(x1?.obj.metadata.creationTimestamp);
    expect(t.view.get('a/y')?.rv).toBe(t.view.get('a/y')?.rv);
    const events = t.view.eventsAfter(rv1) ?? [];
    expect(events.map((e) => `${e.type} ${e.entry.key}`)).toEqual(['MODIFIED a/x', 'ADDED a/v']);
    t.set(() => [thing('x', 2), thing('y'), thing('z'), thing('v')]);
    await t.poller.pollNow();
    expect(t.view.get('a/w')).toBeUndefined();
  });

  it('keeps the snapshot on a failed poll and reports the failure', async () => {
    const t = setup([thing('x')]);
    await t.poller.pollNow();
    t.fail('upstream said 503');
    await t.poller.pollNow();
    expect(t.view.size).toBe(1);
    // The error's text (which may quote the upstream) is not kept: its status is.
    expect(t.poller.status.lastError).toBe('upstream answered 503');
    expect(t.poller.status.consecutiveFailures).toBe(1);
    t.fail(undefined);
    await t.poller.pollNow();
    expect(t.poller.status.lastError).toBeUndefined();
  });

  it('refuses a poll that would delete more than maxDeleteRatio (flapping upstream)', async () => {
    const t = setup(() => Array.from({ length: 10 }, (_, i) => thing(`n${i}`)), { maxDeleteRatio: 0.3 });
    await t.poller.pollNow();
    t.set(() => []);
    await t.poller.pollNow();
    expect(t.view.size).toBe(10);
    expect(t.poller.status.lastError).toMatch(/refusing to delete 10/);
    t.set(() => Array.from({ length: 8 }, (_, i) => thing(`n${i}`)));
    await t.poller.pollNow();
    expect(t.view.size).toBe(8);
  });

  it('skips bad items (missing namespace, duplicates, reported by the adapter) without failing the poll', async () => {
    const t = setup([thing('x'), { name: 'nons' }, thing('x'), { name: 'bad', namespace: 'a' }, thing('y')]);
    await t.poller.pollNow();
    expect(t.view.sorted().map((e) => e.key)).toEqual(['a/x', 'a/y']);
    expect(
      t.poller.skips
        .list()
        .map((r) => [r.kind, r.count])
        .sort(),
    ).toEqual([
      ['adapter', 1],
      ['duplicate', 1],
      ['namespace', 1],
    ]);
    expect(t.poller.skips.total()).toBe(3);
  });

  it('sanitizes names and labels and uses the upstream creation time', async () => {
    const t = setup([
      {
        name: 'Web Server #1',
        namespace: 'Team A',
        labels: { 'bad key!': 'x', ok: 'with space' },
        creationTimestamp: '2024-05-01T10:00:00.123Z',
      },
    ]);
    await t.poller.pollNow();
    const e = t.view.sorted()[0];
    expect(e?.obj.metadata.name).toMatch(/^web-server-1-[0-9a-f]{8}$/);
    expect(e?.obj.metadata.namespace).toMatch(/^team-a-[0-9a-f]{8}$/);
    expect(e?.obj.metadata.creationTimestamp).toBe('2024-05-01T10:00:00Z');
    expect(e?.obj.metadata.labels).toEqual({ 'bad-key': 'x', ok: 'with-space' });
  });
});

describe('schema checks', () => {
  it('skips and reports an item whose status does not match the resource schema', async () => {
    const { Type } = await import('@sinclair/typebox');
    const store = createMemoryStore();
    const view = new CollectionView({ maxEvents: 100, maxEventAgeMs: 60_000, maxSnapshots: 4 });
    store.subscribe('g/s', view.rv, { onEvents: (e) => view.apply(e), onReset: (s) => view.reset(s) });
    const resource = defineResource<unknown>({
      kind: 'Thing',
      plural: 'things',
      scope: 'Cluster',
      mode: 'mirror',
      schema: { status: Type.Object({ temperatureC: Type.Number() }) },
      list: () =>
        Promise.resolve([
          { name: 'ok', status: { temperatureC: 1 } },
          { name: 'bad', status: { temperatureC: 'hot' } },
        ]),
    });
    const nop = () => undefined;
    const warned: Record<string, unknown>[] = [];
    const poller = new Poller({
      adapter: 't',
      group: 'g.example.com',
      version: 'v1',
      collection: 'g/s',
      resource,
      config: {},
      intervalMs: 1000,
      view,
      store,
      holder: 'h',
      leaseTtlMs: 1000,
      fetch,
      log: { debug: nop, info: nop, warn: (_m, e) => warned.push(e ?? {}), error: nop },
    });
    await poller.pollNow();
    expect(view.sorted().map((e) => e.key)).toEqual(['ok']);
    expect(poller.skips.list()).toMatchObject([
      { kind: 'schema', reason: 'status.temperatureC: expected number, got a string', count: 1, example: 'bad' },
    ]);
    expect(poller.status.lastError).toBeUndefined();
    // The same reason at the next polls is not logged again, and the upstream's value never reaches the log.
    await poller.pollNow();
    await poller.pollNow();
    expect(warned).toEqual([
      { resource: 'g/s', kind: 'schema', reason: 'status.temperatureC: expected number, got a string', item: 'bad' },
    ]);
    expect(JSON.stringify(warned)).not.toContain('hot');
  });
});
