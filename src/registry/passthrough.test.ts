import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineResource } from '../sdk/define.ts';
import type { ObjectInput } from '../sdk/types.ts';
import { KubeError, toStatus } from '../k8s/errors.ts';
import { parseFieldSelector } from '../k8s/fields.ts';
import { parseLabelSelector } from '../k8s/labels.ts';
import type { ListOptions } from '../k8s/params.ts';
import type { UpstreamClient } from '../resilience/fetch.ts';
import { createEncoder } from '../resources/encode.ts';
import { PassThroughQueries } from '../resources/passthrough-queries.ts';
import { resourceInfo } from '../resources/runtime.ts';
import { SkipLedger } from '../resources/skips.ts';
import { createMemoryQueryCache } from '../store/query-cache.ts';
import { PassThroughStorage } from './passthrough.ts';

const GROUP = 'g.example.com';
const TTL_MS = 10_000;
const STALE_MS = 60_000;
const bob = { name: 'bob', groups: [] };

/** An upstream whose answers the test releases and breaks by hand, counting the calls it gets. */
function fakeUpstream() {
  const items: ObjectInput[] = [
    { name: 'a', namespace: 'default', spec: { v: 1 } },
    { name: 'b', namespace: 'default', spec: { v: 2 } },
  ];
  const u = {
    lists: 0,
    gets: 0,
    failing: false,
    gate: undefined as Promise<void> | undefined,
    async answer<T>(v: () => T): Promise<T> {
      if (u.gate) await u.gate;
      if (u.failing) throw Object.assign(new Error('<html>gateway 10.0.0.1 down</html>'), { status: 502 });
      return v();
    },
  };
  const resource = defineResource<unknown>({
    kind: 'Thing',
    plural: 'things',
    scope: 'Namespaced',
    mode: 'passthrough',
    schema: {},
    listPage: () => {
      u.lists++;
      return u.answer(() => ({ items }));
    },
    get: (_ctx, { name }) => {
      u.gets++;
      return u.answer(() => items.find((i) => i.name === name));
    },
  });
  return { u, resource };
}

function setup() {
  const { u, resource } = fakeUpstream();
  const info = resourceInfo(GROUP, 'v1', resource);
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const skips = new SkipLedger({ adapter: 'things', resource: `things.${GROUP}`, log });
  const queries = new PassThroughQueries({
    adapter: 'things',
    group: GROUP,
    version: 'v1',
    collection: `${GROUP}/things`,
    resource,
    config: {},
    cache: createMemoryQueryCache({ maxEntries: 100, maxBytes: 1 << 20 }),
    ttlMs: TTL_MS,
    staleMs: STALE_MS,
    lockMs: 1000,
    fetch: globalThis.fetch,
    log,
    skips,
  });
  const upstream = { fetch: globalThis.fetch, breakerState: () => 'closed' } as unknown as UpstreamClient;
  const storage = new PassThroughStorage({
    adapter: 'things',
    info,
    encoder: createEncoder(info),
    field: () => undefined,
    supportedFields: new Set(['metadata.name', 'metadata.namespace']),
    upstream,
    skips,
    queries,
  });
  return { u, storage, queries };
}

function listOptions(): ListOptions {
  return {
    labelSelector: parseLabelSelector(''),
    fieldSelector: parseFieldSelector('', ['metadata.name']),
    watch: false,
    allowWatchBookmarks: false,
    includeObject: 'Metadata',
  };
}

const names = (p: { entries: readonly { obj: { metadata: { name?: string } } }[] }) =>
  p.entries.map((e) => e.obj.metadata.name);

describe('pass-through storage: coalescing and staleness', () => {
  beforeEach(() => {
    // Only the clock is faked: freshness is judged by Date.now(); promises and the cache run for real.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('offers no watcher without a change feed (the handler answers watch with 405)', () => {
    expect(setup().storage.watcher).toBeUndefined();
  });

  it('makes one upstream call for N concurrent identical lists, and all get the same page', async () => {
    const t = setup();
    let release!: () => void;
    t.u.gate = new Promise<void>((r) => (release = r));
    const pending = Array.from({ length: 20 }, () => t.storage.list('default', listOptions(), bob));
    // Every caller is waiting on the one in-flight fetch before the upstream answers.
    await vi.waitFor(() => expect(t.u.lists).toBe(1));
    release();
    const pages = await Promise.all(pending);
    expect(t.u.lists).toBe(1);
    expect(t.queries.upstreamCalls).toBe(1);
    for (const p of pages) {
      expect(names(p)).toEqual(['a', 'b']);
      expect(p.meta.resourceVersion).toBe(pages[0]?.meta.resourceVersion);
      expect(p.warnings).toBeUndefined();
    }
  });

  it('makes one upstream call for N concurrent gets of one object', async () => {
    const t = setup();
    let release!: () => void;
    t.u.gate = new Promise<void>((r) => (release = r));
    const pending = Array.from({ length: 10 }, () => t.storage.get('default', 'a', bob));
    await vi.waitFor(() => expect(t.u.gets).toBe(1));
    release();
    const got = await Promise.all(pending);
    expect(t.u.gets).toBe(1);
    expect(got.map((g) => g.entry.obj.metadata.name)).toEqual(Array(10).fill('a'));
  });

  it('serves a cached answer within its TTL without asking the upstream, and asks again after it', async () => {
    const t = setup();
    const first = await t.storage.list('default', listOptions(), bob);
    vi.advanceTimersByTime(TTL_MS - 1);
    const cached = await t.storage.list('default', listOptions(), bob);
    expect(t.u.lists).toBe(1);
    expect(cached.meta.resourceVersion).toBe(first.meta.resourceVersion);
    expect(cached.warnings).toBeUndefined();
    vi.advanceTimersByTime(2);
    const refreshed = await t.storage.list('default', listOptions(), bob);
    expect(t.u.lists).toBe(2);
    expect(refreshed.meta.resourceVersion).toBeGreaterThan(first.meta.resourceVersion);
  });

  it('serves the stale page with the stale-data Warning after the TTL when the upstream fails', async () => {
    const t = setup();
    const first = await t.storage.list('default', listOptions(), bob);
    await t.storage.get('default', 'a', bob);
    vi.advanceTimersByTime(TTL_MS + 35_000);
    t.u.failing = true;
    const stale = await t.storage.list('default', listOptions(), bob);
    expect(t.u.lists).toBe(2);
    expect(names(stale)).toEqual(['a', 'b']);
    expect(stale.meta.resourceVersion).toBe(first.meta.resourceVersion);
    const warning = '299 - "things: upstream unavailable (upstream answered 502), serving data from 45s ago"';
    expect(stale.warnings).toEqual([warning]);
    expect(JSON.stringify(stale.warnings)).not.toContain('10.0.0.1');
    const got = await t.storage.get('default', 'a', bob);
    expect(got.entry.obj.metadata.name).toBe('a');
    expect(got.warnings).toEqual([warning]);
  });

  it('answers 503 with Retry-After when the upstream fails and nothing is cached', async () => {
    const t = setup();
    t.u.failing = true;
    for (const call of [
      () => t.storage.list('default', listOptions(), bob),
      () => t.storage.get('default', 'a', bob),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KubeError);
      expect(toStatus(err)).toMatchObject({
        code: 503,
        reason: 'ServiceUnavailable',
        message: 'things: upstream unavailable for things.g.example.com: upstream answered 502',
        details: { retryAfterSeconds: 5 },
      });
    }
    // Recovery: the next call after the upstream is back is answered fresh, without a Warning.
    t.u.failing = false;
    const page = await t.storage.list('default', listOptions(), bob);
    expect(names(page)).toEqual(['a', 'b']);
    expect(page.warnings).toBeUndefined();
  });
});
