import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defineResource } from '../sdk/define.ts';
import type { ObjectInput } from '../sdk/types.ts';
import { createMemoryStore } from '../store/memory.ts';
import type { ObjectEntry } from './entry.ts';
import { CollectionView } from './view.ts';
import { Poller } from './poller.ts';
import { WatchHub, type FrameEncoder, type WatchSink } from './watch.ts';

interface Frame {
  type: string;
  object: {
    metadata: { name: string; resourceVersion: string; labels?: Record<string, string> };
    status?: { v: number };
    code?: number;
  };
}

const encode: FrameEncoder = (type, e, rv) =>
  Buffer.from(JSON.stringify({ type, object: e ? e.obj : { metadata: { resourceVersion: String(rv) } } }) + '\n');
const errorFrame = (code: number, reason: string, message: string) =>
  Buffer.from(JSON.stringify({ type: 'ERROR', object: { code, reason, message } }) + '\n');

function sink(limit = Infinity): WatchSink & { frames: () => Frame[]; ended: boolean } {
  let buf = '';
  let queued = 0;
  const s = {
    ended: false,
    write: (b: Buffer) => {
      buf += b.toString();
      queued += b.length;
      return true;
    },
    end: () => {
      s.ended = true;
    },
    // A sink with a limit behaves like a socket that stopped draining after `limit` bytes.
    buffered: () => (queued > limit ? 2 << 20 : 0),
    frames: () =>
      buf
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Frame),
  };
  return s;
}

function world(opts: { maxEvents?: number } = {}) {
  let items: ObjectInput[] = [];
  const resource = defineResource<unknown>({
    kind: 'Thing',
    plural: 'things',
    scope: 'Cluster',
    mode: 'mirror',
    schema: {},
    deleteGuard: { maxDeleteRatio: 1 },
    list: () => Promise.resolve(items),
  });
  const store = createMemoryStore();
  const view = new CollectionView({ maxEvents: opts.maxEvents ?? 10_000, maxEventAgeMs: 3_600_000, maxSnapshots: 8 });
  store.subscribe('c', view.rv, { onEvents: (e) => view.apply(e), onReset: (s) => view.reset(s) });
  const nop = () => undefined;
  const poller = new Poller({
    adapter: 't',
    group: 'g.example.com',
    version: 'v1',
    collection: 'c',
    resource,
    config: {},
    intervalMs: 1000,
    view,
    store,
    holder: 'h',
    leaseTtlMs: 1000,
    fetch,
    log: { debug: nop, info: nop, warn: nop, error: nop },
  });
  const hub = new WatchHub(view, { bookmarkIntervalMs: 60_000, maxBufferedBytes: 1 << 20, errorFrame });
  return {
    view,
    hub,
    async set(next: ObjectInput[]) {
      items = next;
      await poller.pollNow();
    },
  };
}

type State = Map<string, string>; // name → "v=<n>,color=<c>"
const stateOf = (entries: readonly ObjectEntry[], pred: (e: ObjectEntry) => boolean = () => true): State =>
  new Map(entries.filter(pred).map((e) => [e.obj.metadata.name, JSON.stringify(e.obj.status)]));

function applyEvents(start: State, frames: Frame[]): State {
  const s = new Map(start);
  for (const f of frames) {
    const name = f.object.metadata.name;
    if (f.type === 'ADDED') {
      if (s.has(name)) throw new Error(`duplicate ADDED ${name}`);
      s.set(name, JSON.stringify(f.object.status));
    } else if (f.type === 'MODIFIED') {
      if (!s.has(name)) throw new Error(`MODIFIED for unknown ${name}`);
      s.set(name, JSON.stringify(f.object.status));
    } else if (f.type === 'DELETED') {
      if (!s.delete(name)) throw new Error(`DELETED for unknown ${name}`);
    } else throw new Error(`unexpected ${f.type}`);
  }
  return s;
}

describe('watch emulation (property)', () => {
  it('events applied to the starting list give exactly the final state, for every watcher and selector', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const upstreamState = fc.array(
      fc.record({
        name: fc.constantFrom(...names),
        v: fc.integer({ min: 0, max: 3 }),
        color: fc.constantFrom('red', 'blue'),
      }),
      { maxLength: 6 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(upstreamState, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(8), { maxLength: 4 }),
        async (steps, starts) => {
          const w = world();
          const red = (e: ObjectEntry) => e.obj.metadata.labels?.color === 'red';
          const watchers: { start: State; sink: ReturnType<typeof sink>; filter?: (e: ObjectEntry) => boolean }[] = [];
          for (let i = 0; i <= steps.length; i++) {
            for (const s of starts.filter((x) => x === i)) {
              const filter = s % 2 === 0 ? red : undefined;
              const sk = sink();
              const list = w.view.sorted();
              w.hub.add(
                { sink: sk, filter, encode, format: filter ? 'f' : 'j', bookmarks: false, timeoutMs: 60_000 },
                [],
                w.view.rv,
                false,
              );
              watchers.push({ start: stateOf(list, filter), sink: sk, ...(filter ? { filter } : {}) });
            }
            const step = steps[i];
            if (!step) continue;
            const dedup = new Map(step.map((x) => [x.name, x]));
            await w.set(
              [...dedup.values()].map((x) => ({
                name: x.name,
                labels: { color: x.color },
                status: { v: x.v, color: x.color },
              })),
            );
          }
          for (const x of watchers) {
            const frames = x.sink.frames();
            const rvs = frames.map((f) => Number(f.object.metadata.resourceVersion));
            expect([...rvs].sort((p, q) => p - q)).toEqual(rvs);
            expect(applyEvents(x.start, frames)).toEqual(stateOf(w.view.sorted(), x.filter));
          }
          w.hub.close();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a watch from a resourceVersion that left the log gets ERROR 410 Expired', async () => {
    const w = world({ maxEvents: 2 });
    await w.set([{ name: 'a', status: { v: 1 } }]);
    const old = w.view.rv;
    for (let v = 2; v < 6; v++) await w.set([{ name: 'a', status: { v } }]);
    const sk = sink();
    w.hub.add(
      { sink: sk, filter: undefined, encode, format: 'j', bookmarks: false, timeoutMs: 60_000 },
      [],
      old,
      false,
    );
    expect(sk.frames()[0]).toMatchObject({ type: 'ERROR', object: { code: 410 } });
    expect(sk.ended).toBe(true);
  });

  it('cuts off a watcher that does not drain, with an ERROR event, and keeps serving the others', async () => {
    const w = world();
    await w.set([{ name: 'a', status: { v: 0 } }]);
    const slow = sink(500);
    const fast = sink();
    const opts = { filter: undefined, encode, format: 'j', bookmarks: false, timeoutMs: 60_000 };
    w.hub.add({ ...opts, sink: slow }, [], w.view.rv, false);
    w.hub.add({ ...opts, sink: fast }, [], w.view.rv, false);
    for (let v = 1; v < 20; v++) await w.set([{ name: 'a', status: { v } }]);
    expect(slow.ended).toBe(true);
    expect(slow.frames().at(-1)?.type).toBe('ERROR');
    expect(fast.frames()).toHaveLength(19);
    expect(w.hub.size).toBe(1);
  });

  it('an object leaving the selector is DELETED for that watcher, entering is ADDED', async () => {
    const w = world();
    await w.set([{ name: 'a', labels: { color: 'red' }, status: { v: 0 } }]);
    const sk = sink();
    const red = (e: ObjectEntry) => e.obj.metadata.labels?.color === 'red';
    w.hub.add(
      { sink: sk, filter: red, encode, format: 'f', bookmarks: false, timeoutMs: 60_000 },
      w.view.sorted(),
      w.view.rv,
      false,
    );
    await w.set([{ name: 'a', labels: { color: 'blue' }, status: { v: 1 } }]);
    await w.set([{ name: 'a', labels: { color: 'red' }, status: { v: 2 } }]);
    expect(sk.frames().map((f) => f.type)).toEqual(['ADDED', 'DELETED', 'ADDED']);
    // The DELETED carries the last state the watcher could see, stamped with the deletion's version.
    const del = sk.frames()[1];
    expect(del?.object.metadata.labels?.color).toBe('red');
    expect(Number(del?.object.metadata.resourceVersion)).toBeGreaterThan(
      Number(sk.frames()[0]?.object.metadata.resourceVersion),
    );
  });
});

describe('initial state to a watcher that reads slowly', () => {
  it('arrives whole, in rounds, followed by the changes committed meanwhile, each once', async () => {
    const w = world();
    const big = 'x'.repeat(2000);
    await w.set(Array.from({ length: 200 }, (_, i) => ({ name: `o-${i}`, status: { v: 0 }, spec: { big } })));
    // A sink that hands chunks on only when the test says so, as a client reading slowly would.
    const base = sink();
    const waiting: (() => void)[] = [];
    const slow: WatchSink = { ...base, writeThen: (b, written) => (base.write(b), waiting.push(written), true) };
    w.hub.add(
      { sink: slow, filter: undefined, encode, format: 'json', bookmarks: false, timeoutMs: 60_000 },
      w.view.sorted(),
      w.view.rv,
      false,
    );
    const sentBefore = base.frames().length;
    expect(sentBefore).toBeGreaterThan(0);
    expect(sentBefore).toBeLessThan(200);
    await w.set(
      Array.from({ length: 200 }, (_, i) => ({ name: `o-${i}`, status: { v: i === 7 ? 1 : 0 }, spec: { big } })),
    );
    while (waiting.length > 0) waiting.shift()?.();
    const frames = base.frames();
    expect(
      frames
        .filter((f) => f.type === 'ADDED')
        .map((f) => f.object.metadata.name)
        .sort(),
    ).toEqual(Array.from({ length: 200 }, (_, i) => `o-${i}`).sort());
    expect(frames.slice(200).map((f) => [f.type, f.object.metadata.name, f.object.status?.v])).toEqual([
      ['MODIFIED', 'o-7', 1],
    ]);
  });
});
