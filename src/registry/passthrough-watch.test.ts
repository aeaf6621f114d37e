import { describe, expect, it } from 'vitest';
import { defineResource } from '../sdk/define.ts';
import type { ChangeBatch, ObjectChange } from '../sdk/types.ts';
import { parseFieldSelector } from '../k8s/fields.ts';
import { parseLabelSelector } from '../k8s/labels.ts';
import { negotiate } from '../k8s/negotiate.ts';
import type { ListOptions } from '../k8s/params.ts';
import type { UpstreamClient } from '../resilience/fetch.ts';
import { createEncoder } from '../resources/encode.ts';
import { ChangeFeed } from '../resources/feed.ts';
import { PassThroughQueries } from '../resources/passthrough-queries.ts';
import { resourceInfo, statusErrorFrame } from '../resources/runtime.ts';
import { SkipLedger } from '../resources/skips.ts';
import { WatchHub, type WatchSink } from '../resources/watch.ts';
import { createMemoryStore } from '../store/memory.ts';
import { createMemoryQueryCache } from '../store/query-cache.ts';
import type { Store } from '../store/types.ts';
import { PassThroughStorage } from './passthrough.ts';

const GROUP = 'g.example.com';
const log = { debug() {}, info() {}, warn() {}, error() {} };

interface Frame {
  type: string;
  object: {
    metadata?: { name?: string; namespace?: string; resourceVersion?: string };
    code?: number;
    reason?: string;
  };
}

function sink(): WatchSink & { frames: () => Frame[]; ended: boolean } {
  let buf = '';
  const s = {
    ended: false,
    write: (b: Buffer) => ((buf += b.toString()), true),
    end: () => void (s.ended = true),
    buffered: () => 0,
    frames: () =>
      buf
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Frame),
  };
  return s;
}

const change = (type: ObjectChange['type'], name: string, namespace = 'default', v = 1): ObjectChange => ({
  type,
  object: { name, namespace, spec: { v } },
});

/**
 * One replica of a pass-through resource with a change feed: the upstream's feed is a queue of batches the
 * test fills, its list one object; the clock is the test's. Feeds are polled by hand (no timers, no sleeps).
 */
function replica(store: Store, holder: string, clock: { now: number }, o: { maxEvents?: number } = {}) {
  const up = {
    reads: 0,
    lists: 0,
    sinces: [] as (string | undefined)[],
    queue: [] as ChangeBatch[],
    position: 'c0',
  };
  const resource = defineResource<unknown>({
    kind: 'Thing',
    plural: 'things',
    scope: 'Namespaced',
    mode: 'passthrough',
    schema: {},
    listPage: () => {
      up.lists++;
      return Promise.resolve({ items: [{ name: 'a', namespace: 'default', spec: { v: 1 } }] });
    },
    get: () => Promise.resolve(undefined),
    changes: {
      read: (_ctx, since) => {
        up.reads++;
        up.sinces.push(since);
        const next = up.queue.shift();
        if (next?.cursor) up.position = next.cursor;
        return Promise.resolve(next ?? { changes: [], cursor: up.position });
      },
    },
  });
  const info = resourceInfo(GROUP, 'v1', resource);
  const skips = new SkipLedger({ adapter: 'things', resource: `things.${GROUP}`, log });
  const now = () => clock.now;
  const feed = new ChangeFeed({
    adapter: 'things',
    group: GROUP,
    version: 'v1',
    collection: `${GROUP}/things@changes`,
    resource,
    config: {},
    intervalMs: 1000,
    store,
    holder,
    leaseTtlMs: 10_000,
    fetch: globalThis.fetch,
    log,
    skips,
    maxEvents: o.maxEvents ?? 100,
    maxEventAgeMs: 60_000,
    now,
  });
  const hub = new WatchHub(feed.log, {
    bookmarkIntervalMs: 60_000,
    maxBufferedBytes: 1 << 20,
    errorFrame: statusErrorFrame,
  });
  const queries = new PassThroughQueries({
    adapter: 'things',
    group: GROUP,
    version: 'v1',
    collection: `${GROUP}/things`,
    resource,
    config: {},
    cache: createMemoryQueryCache({ maxEntries: 100, maxBytes: 1 << 20 }),
    ttlMs: 0,
    staleMs: 0,
    lockMs: 1000,
    fetch: globalThis.fetch,
    log,
    skips,
    resourceVersion: () => feed.log.rv,
  });
  const storage = new PassThroughStorage({
    adapter: 'things',
    info,
    encoder: createEncoder(info),
    field: (e, f) => e.field(f),
    supportedFields: new Set(['metadata.name', 'metadata.namespace']),
    upstream: { fetch: globalThis.fetch, breakerState: () => 'closed' } as unknown as UpstreamClient,
    skips,
    queries,
    feed: { log: feed.log, hub, status: feed.status },
    now,
  });
  /** Starts a watch (as the handler does) and returns its sink. */
  const watch = async (o: Partial<ListOptions> = {}, namespace?: string) => {
    if (!storage.watcher) throw new Error('no watcher');
    const prepared = await storage.watcher.watch(namespace, { ...options(), watch: true, ...o }, negotiate(undefined));
    const s = sink();
    prepared.start(s);
    return s;
  };
  return { up, feed, hub, storage, watch, start: () => feed.start() };
}

function options(): ListOptions {
  return {
    labelSelector: parseLabelSelector(''),
    fieldSelector: parseFieldSelector('', ['metadata.name', 'metadata.namespace']),
    watch: false,
    allowWatchBookmarks: false,
    includeObject: 'Metadata',
  };
}

const seen = (s: { frames: () => Frame[] }) =>
  s.frames().map((f) => `${f.type} ${f.object.metadata?.name ?? f.object.reason ?? ''}`);

describe('pass-through watch over a change feed', () => {
  it('numbers changes and resumes a watch from a list: nothing after the list is missed, nothing before replayed', async () => {
    const clock = { now: 0 };
    const r = replica(createMemoryStore(), 'one', clock);
    await r.start();
    await r.feed.pollNow(); // first read: the current position, no changes
    expect(r.up.sinces).toEqual([undefined]);
    r.up.queue.push({ changes: [change('ADDED', 'old')], cursor: 'c1' });
    await r.feed.pollNow();
    const list = await r.storage.list(undefined, options());
    const listRv = list.meta.resourceVersion;
    expect(listRv).toBe(r.feed.log.rv);
    r.up.queue.push({ changes: [change('ADDED', 'new'), change('MODIFIED', 'new', 'default', 2)], cursor: 'c2' });
    await r.feed.pollNow();
    expect(r.up.sinces).toEqual([undefined, 'c0', 'c1']);
    const w = await r.watch({ resourceVersion: listRv });
    expect(seen(w)).toEqual(['ADDED new', 'MODIFIED new']);
    const rvs = w.frames().map((f) => Number(f.object.metadata?.resourceVersion));
    expect(rvs[0]).toBeGreaterThan(listRv);
    expect(rvs[1]).toBeGreaterThan(rvs[0] ?? 0);
    // Live events reach it too; a watch without resourceVersion starts now.
    const fromNow = await r.watch();
    r.up.queue.push({ changes: [change('MODIFIED', 'old', 'default', 3)], cursor: 'c3' });
    await r.feed.pollNow();
    expect(seen(w)).toEqual(['ADDED new', 'MODIFIED new', 'MODIFIED old']);
    expect(seen(fromNow)).toEqual(['MODIFIED old']);
  });

  it('reads the upstream feed once per poll whatever the number of watchers, and filters per watcher', async () => {
    const r = replica(createMemoryStore(), 'one', { now: 0 });
    await r.start();
    await r.feed.pollNow();
    const all = await Promise.all(Array.from({ length: 50 }, () => r.watch()));
    const checkout = await r.watch({}, 'checkout');
    const reads = r.up.reads;
    r.up.queue.push({
      changes: [change('ADDED', 'x', 'checkout'), change('ADDED', 'y'), change('MODIFIED', 'x', 'checkout', 2)],
      cursor: 'c1',
    });
    await r.feed.pollNow();
    expect(r.up.reads - reads).toBe(1);
    for (const w of all) expect(seen(w)).toEqual(['ADDED x', 'ADDED y', 'MODIFIED x']);
    // The feed carries no previous state: in a namespace, a change stays a MODIFIED (not an ADDED).
    expect(seen(checkout)).toEqual(['ADDED x', 'MODIFIED x']);
    expect(r.hub.size).toBe(51);
  });

  it('answers a resourceVersion that left the log with 410 Expired (by count and by age)', async () => {
    const clock = { now: 0 };
    const r = replica(createMemoryStore(), 'one', clock, { maxEvents: 3 });
    await r.start();
    await r.feed.pollNow();
    const listRv = (await r.storage.list(undefined, options())).meta.resourceVersion;
    r.up.queue.push({ changes: ['a', 'b', 'c', 'd', 'e'].map((n) => change('ADDED', n)), cursor: 'c1' });
    await r.feed.pollNow();
    const late = await r.watch({ resourceVersion: listRv });
    expect(late.frames()).toEqual([
      expect.objectContaining({ type: 'ERROR', object: expect.objectContaining({ code: 410, reason: 'Expired' }) }),
    ]);
    expect(late.ended).toBe(true);
    // Within the log, a watch replays what is left.
    const recent = await r.watch({ resourceVersion: r.feed.log.logStartRv });
    expect(seen(recent)).toEqual(['ADDED c', 'ADDED d', 'ADDED e']);
    // An idle log ages out on the feed's clock.
    const rv = r.feed.log.rv;
    clock.now += 61_000;
    r.feed.log.trim();
    expect((await r.watch({ resourceVersion: rv - 1 })).frames()[0]?.object.code).toBe(410);
    expect(seen(await r.watch({ resourceVersion: rv }))).toEqual([]);
  });

  it('ends every watch with 410 when the feed lost its place upstream', async () => {
    const r = replica(createMemoryStore(), 'one', { now: 0 });
    await r.start();
    await r.feed.pollNow();
    const w = await r.watch();
    r.up.queue.push({ changes: [], cursor: 'c9', reset: true });
    await r.feed.pollNow();
    expect(w.frames()[0]?.object).toMatchObject({ code: 410 });
    expect(w.ended).toBe(true);
    const after = await r.watch();
    r.up.queue.push({ changes: [change('ADDED', 'z')], cursor: 'c10' });
    await r.feed.pollNow();
    expect(seen(after)).toEqual(['ADDED z']);
    expect(r.up.sinces.at(-1)).toBe('c9');
  });

  it('is read by one replica at a time; another takes over from the stored cursor with the same numbering', async () => {
    const store = createMemoryStore();
    const clock = { now: 0 };
    const a = replica(store, 'a', clock);
    const b = replica(store, 'b', clock);
    await a.start();
    await b.start();
    await a.feed.pollNow();
    await b.feed.pollNow();
    expect([a.feed.status.leader, b.feed.status.leader]).toEqual([true, false]);
    expect(b.up.reads).toBe(0);
    const onB = await b.watch();
    a.up.queue.push({ changes: [change('ADDED', 'p')], cursor: 'c1' });
    await a.feed.pollNow();
    expect(seen(onB)).toEqual(['ADDED p']);
    expect(b.feed.log.rv).toBe(a.feed.log.rv);
    await a.feed.stop(); // releases the lease
    b.up.queue.push({ changes: [change('MODIFIED', 'p', 'default', 2)], cursor: 'c2' });
    await b.feed.pollNow();
    expect(b.up.sinces).toEqual(['c1']);
    expect(seen(onB)).toEqual(['ADDED p', 'MODIFIED p']);
  });

  it('refuses sendInitialEvents (no initial state to send) and waits briefly for a future resourceVersion', async () => {
    const r = replica(createMemoryStore(), 'one', { now: 0 });
    await r.start();
    await expect(r.watch({ sendInitialEvents: true })).rejects.toMatchObject({ code: 400 });
    const pending = r.watch({ resourceVersion: r.feed.log.rv + 1 });
    r.up.queue.push({ changes: [change('ADDED', 'f')], cursor: 'c1' });
    await r.feed.pollNow();
    const w = await pending;
    expect(seen(w)).toEqual([]);
  });
});
