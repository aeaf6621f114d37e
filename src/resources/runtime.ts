import { randomUUID } from 'node:crypto';
import { KubeError, toStatus } from '../k8s/errors.ts';
import type { TSchema } from '@sinclair/typebox';
import type { LoadedAdapter } from '../config/adapters.ts';
import type { GroupVersionInfo, ResourceInfo } from '../k8s/types.ts';
import type { AdapterLogger, MirrorResource, PassThroughResource, ResourceDefinition } from '../sdk/types.ts';
import { parseDuration } from '../sdk/duration.ts';
import type { Store } from '../store/types.ts';
import { createProjection, type ObjectEntry } from './entry.ts';
import {
  createUpstreamClient,
  type ResilienceOptions,
  type UpstreamClient,
  type UpstreamEvents,
} from '../resilience/fetch.ts';
import type { AdapterEntry } from '../config/schema.ts';
import type { Metrics } from '../observability/metrics.ts';
import { CollectionView } from './view.ts';
import { Poller } from './poller.ts';
import { WatchHub } from './watch.ts';
import { ChangeFeed } from './feed.ts';
import { createEncoder } from './encode.ts';
import { PassThroughQueries } from './passthrough-queries.ts';
import { SkipLedger, type SkippedItem } from './skips.ts';
import { createMemoryQueryCache, type QueryCache } from '../store/query-cache.ts';
import type { CommonParts } from '../registry/base.ts';
import { MirrorStorage, type MirrorParts } from '../registry/mirror.ts';
import { PassThroughStorage } from '../registry/passthrough.ts';
import { WriteStorage } from '../registry/writes.ts';
import type { ServedResource } from '../registry/types.ts';
import { VersionedWrites } from '../registry/versioned-writes.ts';
import { servedVersions, type ServedVersion } from '../registry/versions.ts';
import type { ResourceHealth } from './self-adapter.ts';
import type { UserInfo } from '../auth/types.ts';
import { secretValues, setSecrets } from '../observability/mask.ts';

export interface RuntimeOptions {
  store: Store;
  log: AdapterLogger & { child?: (b: Record<string, unknown>) => AdapterLogger };
  watch: { bookmarkIntervalMs: number; maxEvents: number; maxEventAgeMs: number; maxBufferedBytes: number };
  /** Identity of this replica for poll leases. */
  holder?: string;
  /** How long a poll lease lasts without renewal; default three poll intervals, at least 10 s. */
  leaseTtlMs?: number;
  /** ERROR frame of a watch cut by the server (a Status object); default {@link statusErrorFrame}. */
  errorFrame?: (code: number, reason: string, message: string) => Buffer;
  /** Metrics hooks per adapter. */
  upstreamEvents?: (adapter: string) => UpstreamEvents;
  metrics?: Pick<Metrics, 'poll' | 'skipped' | 'watchEvent' | 'staleServe'>;
  /** Per-query cache of pass-through resources (shared by replicas with Redis). */
  queryCache?: QueryCache;
  /** Pass-through serving: how long misses are cached, and the per-user gate on upstream calls. */
  passThrough?: { notFoundTtlMs?: number; admit?: (caller: UserInfo | undefined) => void };
  now?: () => number;
  /** The fetch under every adapter's policy; default the global one (recorded fixtures in `kubegate/testing`). */
  baseFetch?: typeof fetch;
  /** Sees every skipped item of every resource (`kubegate/testing` reports each one). */
  onSkip?: (adapter: string, resource: string, skip: SkippedItem) => void;
}

/** The parts of one mirrored collection (tests drive its poller directly). */
export interface Collection extends MirrorParts {
  /** `group/plural`. */
  id: string;
}

export interface Runtime {
  groupVersions: GroupVersionInfo[];
  /** The served resource at `/apis/<group>/<version>/<plural>`, whatever keeps its data. */
  resource(group: string, version: string, plural: string): ServedResource | undefined;
  hasGroupVersion(group: string, version: string): boolean;
  /** Mirrored resources (health, metrics, `kubectl get adapters`). */
  mirrors: MirrorStorage[];
  passthrough: PassThroughStorage[];
  /** The parts of the mirrored collections, in the order of {@link mirrors}. */
  collections: Collection[];
  /** Health of every served resource (readiness, metrics, `kubectl get adapters`). */
  health(): ResourceHealth[];
  /** Replaces an adapter's (validated) config and polls its collections at once (config reload). */
  reconfigure(adapter: string, config: unknown): Promise<void>;
  start(): Promise<void>;
  /** Stops the pollers and ends every watch. */
  stop(): Promise<void>;
}

/** The watch ERROR frame: a Status object, whatever the watcher's format. */
export function statusErrorFrame(code: number, reason: string, message: string): Buffer {
  return Buffer.from(`{"type":"ERROR","object":${JSON.stringify(toStatus(new KubeError(code, reason, message)))}}\n`);
}

function jsonSchema(s: TSchema | undefined): object | undefined {
  return s ? (JSON.parse(JSON.stringify(s)) as object) : undefined;
}

/** Describes a resource definition for the wire (discovery, OpenAPI, Table). */
export function resourceInfo(group: string, version: string, r: ResourceDefinition): ResourceInfo {
  const spec = jsonSchema(r.schema.spec);
  const status = jsonSchema(r.schema.status);
  return {
    group,
    version,
    kind: r.kind,
    plural: r.plural,
    singular: r.singular ?? r.kind.toLowerCase(),
    shortNames: r.shortNames ?? [],
    categories: r.categories ?? [],
    namespaced: r.scope === 'Namespaced',
    // A pass-through resource is watchable only through its change feed: advertising watch without one would
    // make informers fail.
    verbs: [...(r.mode === 'mirror' || r.changes ? ['get', 'list', 'watch'] : ['get', 'list']), ...writeVerbs(r)],
    subresources: r.proxy ? [{ name: 'proxy', verbs: (r.proxy.allow?.methods ?? ['GET']).map(proxyVerb) }] : [],
    columns: (r.columns ?? []).map((c) => ({ ...c })),
    schema: { ...(spec ? { spec } : {}), ...(status ? { status } : {}) },
    fields: r.fields ?? [],
    description: r.description ?? `${r.kind} objects served by kubegate from an external API.`,
  };
}

/** The write verbs a resource offers: `create`, `delete`, and `update` + `patch` (docs/adapters.md, "Writes"). */
export function writeVerbs(r: ResourceDefinition): string[] {
  return [...(r.create ? ['create'] : []), ...(r.delete ? ['delete'] : []), ...(r.update ? ['update', 'patch'] : [])];
}

/** How long a write waits for the refresh that makes it visible before answering anyway. */
const REFRESH_WAIT_MS = 5000;

/** Attaches the writes a resource declares to its storage (they read through it). */
function enableWrites(
  storage: MirrorStorage | PassThroughStorage,
  scope: AdapterScope,
  r: ResourceDefinition,
  config: () => unknown,
  refresh: () => Promise<void>,
): void {
  if (!r.create && !r.delete && !r.update) return;
  const w = new WriteStorage({
    adapter: scope.loaded.entry.name,
    info: storage.info,
    def: r,
    config,
    fetch: scope.upstream.fetch,
    log: scope.log,
    getter: storage.getter,
    refresh: () =>
      Promise.race([refresh(), new Promise<void>((resolve) => setTimeout(resolve, REFRESH_WAIT_MS).unref())]),
  });
  if (r.create) storage.creater = w;
  if (r.delete) storage.deleter = w;
  if (r.update) storage.updater = w;
}

/** What every resource of one adapter shares. */
interface AdapterScope {
  loaded: LoadedAdapter;
  log: AdapterLogger;
  upstream: UpstreamClient;
}

function commonParts(scope: AdapterScope, info: ResourceInfo, o: RuntimeOptions, mirror: boolean): CommonParts {
  const adapter = scope.loaded.entry.name;
  return {
    adapter,
    skips: new SkipLedger({
      adapter,
      resource: `${info.plural}.${info.group}`,
      log: scope.log,
      count: (kind, n) => o.metrics?.skipped(adapter, info.plural, n, kind),
      ...(o.onSkip ? { onSkip: (x: SkippedItem) => o.onSkip?.(adapter, info.plural, x) } : {}),
      // A pass-through resource has no "last poll": its skips are those of recent fetches.
      ...(mirror ? {} : { retainMs: 10 * 60_000 }),
    }),
    info,
    upstream: scope.upstream,
    encoder: createEncoder(info),
    field: fieldGetter(),
    supportedFields: new Set(['metadata.name', 'metadata.namespace', ...info.fields]),
  };
}

function createPassThrough(
  scope: AdapterScope,
  info: ResourceInfo,
  r: PassThroughResource,
  o: RuntimeOptions,
  queryCache: QueryCache,
  holder: string,
  feeds: { feed: ChangeFeed; hub: WatchHub }[],
): PassThroughStorage {
  const { entry, definition: def, config } = scope.loaded;
  const common = commonParts(scope, info, o, false);
  let feed: ChangeFeed | undefined;
  let hub: WatchHub | undefined;
  if (r.changes) {
    const intervalMs = parseDuration(r.changes.interval ?? '5s', `${entry.name}: changes.interval`);
    feed = new ChangeFeed({
      adapter: entry.name,
      group: def.group,
      version: def.version,
      collection: `${def.group}/${r.plural}@changes`,
      resource: r,
      config,
      intervalMs,
      store: o.store,
      holder,
      leaseTtlMs: o.leaseTtlMs ?? Math.max(3 * intervalMs, 10_000),
      fetch: scope.upstream.fetch,
      log: scope.log,
      skips: common.skips,
      maxEvents: o.watch.maxEvents,
      maxEventAgeMs: o.watch.maxEventAgeMs,
      ...(o.now ? { now: o.now } : {}),
    });
    hub = new WatchHub(feed.log, {
      bookmarkIntervalMs: o.watch.bookmarkIntervalMs,
      maxBufferedBytes: o.watch.maxBufferedBytes,
      errorFrame: o.errorFrame ?? statusErrorFrame,
    });
    feeds.push({ feed, hub });
  }
  const log = feed?.log;
  const queries = new PassThroughQueries({
    adapter: entry.name,
    group: def.group,
    version: def.version,
    collection: `${def.group}/${r.plural}`,
    resource: r,
    config,
    cache: queryCache,
    ttlMs: parseDuration(r.cacheTtl ?? '10s', `${entry.name}: cacheTtl`),
    ...(o.passThrough?.notFoundTtlMs !== undefined ? { notFoundTtlMs: o.passThrough.notFoundTtlMs } : {}),
    ...(o.passThrough?.admit ? { admit: o.passThrough.admit } : {}),
    staleMs: 10 * 60_000,
    lockMs: 10_000,
    fetch: scope.upstream.fetch,
    log: scope.log,
    skips: common.skips,
    // Never 0 (a continue token needs a version, and "0" means "any" to clients): before the feed's first
    // commit, lists are at 1, the version that first commit (a cursor, never a change) takes.
    ...(log ? { resourceVersion: () => Math.max(1, log.rv) } : {}),
  });
  const storage = new PassThroughStorage({
    ...common,
    queries,
    ...(feed && hub ? { feed: { log: feed.log, hub, status: feed.status } } : {}),
    ...(o.now ? { now: o.now } : {}),
    ...(r.proxy ? { proxy: { def: r.proxy, config: () => queries.config, upstream: scope.upstream } } : {}),
  });
  enableWrites(
    storage,
    scope,
    r,
    () => queries.config,
    () => {
      queries.invalidate();
      return Promise.resolve();
    },
  );
  return storage;
}

function createMirror(
  scope: AdapterScope,
  info: ResourceInfo,
  r: MirrorResource,
  o: RuntimeOptions,
  holder: string,
): Collection {
  const { entry, definition: def, config } = scope.loaded;
  const view = new CollectionView({
    maxEvents: o.watch.maxEvents,
    maxEventAgeMs: o.watch.maxEventAgeMs,
    maxSnapshots: 32,
    projection: createProjection(info),
    ...(o.now ? { now: o.now } : {}),
  });
  const id = `${def.group}/${r.plural}`;
  const pollIntervalMs = parseDuration(entry.pollInterval ?? r.pollInterval ?? '30s', `${entry.name}: pollInterval`);
  const m = o.metrics;
  const common = commonParts(scope, info, o, true);
  const poller: Poller = new Poller({
    adapter: entry.name,
    group: def.group,
    version: def.version,
    collection: id,
    resource: r,
    config,
    intervalMs: pollIntervalMs,
    view,
    store: o.store,
    holder,
    leaseTtlMs: o.leaseTtlMs ?? Math.max(3 * pollIntervalMs, 10_000),
    fetch: scope.upstream.fetch,
    log: scope.log,
    ...(o.now ? { now: o.now } : {}),
    skips: common.skips,
    onPoll: (ok, ms, n, err) => m?.poll(entry.name, r.plural, ok, ms / 1000, n, err),
  });
  if (m) {
    view.subscribe({
      onEvents: (events) => {
        const counts: Record<string, number> = {};
        for (const e of events) counts[e.type] = (counts[e.type] ?? 0) + 1;
        for (const [t, n] of Object.entries(counts)) m.watchEvent(r.plural, t, n);
      },
      onReset: () => undefined,
    });
  }
  const hub = new WatchHub(view, {
    bookmarkIntervalMs: o.watch.bookmarkIntervalMs,
    maxBufferedBytes: o.watch.maxBufferedBytes,
    errorFrame: o.errorFrame ?? statusErrorFrame,
  });
  const downSince = o.store.downSince?.bind(o.store);
  return {
    ...common,
    id,
    view,
    poller,
    hub,
    pollIntervalMs,
    ...(r.proxy ? { proxy: { def: r.proxy, config: () => poller.config, upstream: scope.upstream } } : {}),
    ...(downSince ? { storeDownSince: downSince } : {}),
    ...(m ? { onStale: () => m.staleServe(entry.name, r.plural) } : {}),
    ...(o.now ? { now: o.now } : {}),
  };
}

/** Builds the served resources (views, pollers and watch hubs of mirrors; query caches of pass-throughs). */
export function createRuntime(adapters: LoadedAdapter[], o: RuntimeOptions): Runtime {
  const holder = o.holder ?? randomUUID();
  const collections: Collection[] = [];
  const groupVersions: GroupVersionInfo[] = [];
  /** The definitions of mirrored resources that declare writes, and their adapter. */
  const writable = new Map<Collection, { r: MirrorResource; scope: AdapterScope }>();
  const passthrough: PassThroughStorage[] = [];
  const versionsOf = new Map<Collection, ServedVersion[]>();
  const queryCache = o.queryCache ?? createMemoryQueryCache();
  const feeds: { feed: ChangeFeed; hub: WatchHub }[] = [];
  for (const loaded of adapters) {
    const { definition: def, entry } = loaded;
    setSecrets(entry.name, secretValues(def.config, loaded.config));
    const scope: AdapterScope = {
      loaded,
      log: o.log.child ? o.log.child({ adapter: entry.name }) : o.log,
      upstream: createUpstreamClient({
        ...resilienceOptions(entry.resilience),
        ...(o.upstreamEvents ? { events: o.upstreamEvents(entry.name) } : {}),
        ...(o.baseFetch ? { baseFetch: o.baseFetch } : {}),
      }),
    };
    // One group-version per version any resource is served in, the adapter's own first.
    const gvs = new Map<string, GroupVersionInfo>();
    const gvOf = (version: string) => {
      let gv = gvs.get(version);
      if (!gv) gvs.set(version, (gv = { group: def.group, version, resources: [] }));
      return gv;
    };
    gvOf(def.version);
    for (const r of def.resources as ResourceDefinition[]) {
      const info = resourceInfo(def.group, def.version, r);
      if (r.mode === 'passthrough') {
        gvOf(def.version).resources.push(info);
        passthrough.push(createPassThrough(scope, info, r, o, queryCache, holder, feeds));
        continue;
      }
      const c = createMirror(scope, info, r, o, holder);
      const served = servedVersions(info, r);
      for (const v of served) gvOf(v.info.version).resources.push(v.info);
      collections.push(c);
      versionsOf.set(c, served);
      writable.set(c, { r, scope });
    }
    for (const gv of gvs.values()) if (gv.resources.length > 0) groupVersions.push(gv);
  }
  // The storage version's resource of each collection (health, metrics), and what each served version adds.
  const mirrors = collections.map((c) => {
    const hub = versionsOf.get(c)?.find((v) => v.hub);
    const m = new MirrorStorage(hub?.deprecation ? { ...c, info: hub.info, deprecation: hub.deprecation } : c);
    const w = writable.get(c);
    // A write is visible once the poll that follows it committed (on the replica holding the poll lease).
    if (w)
      enableWrites(
        m,
        w.scope,
        w.r,
        () => c.poller.config,
        () => c.poller.pollNow(),
      );
    return m;
  });
  const servedMirrors = collections.flatMap((c, i) => {
    const hub = mirrors[i] as MirrorStorage;
    return (versionsOf.get(c) ?? []).map((v) => {
      if (v.hub) return hub;
      const m = new MirrorStorage({
        ...c,
        info: v.info,
        encoder: createEncoder(v.info),
        supportedFields: new Set(['metadata.name', 'metadata.namespace', ...v.info.fields]),
        ...(v.convert ? { convert: v.convert } : {}),
        ...(v.deprecation ? { deprecation: v.deprecation } : {}),
      });
      // The other versions write through the hub's writes, converting both ways (src/registry/versioned-writes.ts).
      if (v.writes)
        Object.assign(
          m,
          VersionedWrites.over({
            info: v.info,
            hub: hub.info,
            creater: hub.creater,
            deleter: hub.deleter,
            updater: hub.updater,
            getter: m.getter,
            writes: v.writes,
          }),
        );
      return m;
    });
  });
  // Nested maps: a lookup per request without building a key string.
  const tree = new Map<string, Map<string, Map<string, ServedResource>>>();
  const node = (g: string, v: string) => {
    let vs = tree.get(g);
    if (!vs) tree.set(g, (vs = new Map<string, Map<string, ServedResource>>()));
    let n = vs.get(v);
    if (!n) vs.set(v, (n = new Map<string, ServedResource>()));
    return n;
  };
  for (const gv of groupVersions) node(gv.group, gv.version);
  for (const r of [...servedMirrors, ...passthrough]) node(r.info.group, r.info.version).set(r.info.plural, r);
  const subscriptions: { close(): void }[] = [];
  return {
    groupVersions,
    mirrors,
    passthrough,
    collections,
    resource: (g, v, p) => tree.get(g)?.get(v)?.get(p),
    hasGroupVersion: (g, v) => tree.get(g)?.has(v) ?? false,
    health: () => [
      ...mirrors.map((m) => {
        const mirror = m.status();
        return { ...where(m.info), adapter: m.adapter, breaker: mirror.breaker, skipped: m.skipped(), mirror };
      }),
      ...passthrough.map((p) => {
        const st = p.status();
        return {
          ...where(p.info),
          adapter: p.adapter,
          breaker: st.breaker,
          skipped: p.skipped(),
          ...(st.feed ? { feed: st.feed } : {}),
        };
      }),
    ],
    async reconfigure(adapter, config) {
      const mine = collections.filter((c) => c.adapter === adapter);
      const pass = passthrough.filter((p) => p.adapter === adapter);
      if (mine.length === 0 && pass.length === 0) throw new Error(`no adapter named "${adapter}"`);
      const def = adapters.find((a) => a.entry.name === adapter)?.definition;
      if (def) setSecrets(adapter, secretValues(def.config, config));
      for (const p of pass) p.reconfigure(config);
      for (const f of feeds) if (f.feed.adapter === adapter) f.feed.config = config;
      for (const c of mine) c.poller.config = config;
      await Promise.all(mine.map((c) => c.poller.pollNow()));
    },
    async start() {
      for (const c of collections) {
        c.view.reset(await o.store.load(c.id));
        subscriptions.push(
          o.store.subscribe(c.id, c.view.rv, {
            onEvents: (events) => c.view.apply(events),
            onReset: (s) => c.view.reset(s),
          }),
        );
      }
      for (const f of feeds) await f.feed.start();
      // Pollers start in the background: discovery and OpenAPI answer at once even when an upstream is down.
      for (const c of collections) void c.poller.start();
    },
    async stop() {
      for (const c of collections) c.hub.closeAll(0, '', '');
      for (const f of feeds) f.hub.closeAll(0, '', '');
      await Promise.all(feeds.map((f) => f.feed.stop()));
      for (const f of feeds) f.hub.close();
      await Promise.all(collections.map((c) => c.poller.stop()));
      for (const c of collections) c.hub.close();
      for (const s of subscriptions) s.close();
    },
  };
}

function where(info: ResourceInfo): { group: string; version: string; plural: string } {
  return { group: info.group, version: info.version, plural: info.plural };
}

/** Reads `metadata.name`, `metadata.namespace` or a declared dotted path; non-scalars do not match. */
function fieldGetter(): (e: ObjectEntry, field: string) => string | undefined {
  return (e, field) => e.field(field);
}

/** Maps `adapters[].resilience` (durations as strings) to the policy's options. */
export function resilienceOptions(r: AdapterEntry['resilience']): Partial<ResilienceOptions> {
  if (!r) return {};
  const d = (v: string | number | undefined, what: string) =>
    v === undefined ? undefined : parseDuration(v, `resilience.${what}`);
  const out: Partial<ResilienceOptions> = {};
  const set = <K extends keyof ResilienceOptions>(k: K, v: ResilienceOptions[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('timeoutMs', d(r.timeout, 'timeout'));
  set('deadlineMs', d(r.deadline, 'deadline'));
  set('retries', r.retries);
  set('backoffInitialMs', d(r.backoffInitial, 'backoffInitial'));
  set('backoffMaxMs', d(r.backoffMax, 'backoffMax'));
  set('breakerThreshold', r.breakerThreshold);
  set('halfOpenAfterMs', d(r.halfOpenAfter, 'halfOpenAfter'));
  set('maxConcurrent', r.maxConcurrent);
  set('maxQueued', r.maxQueued);
  set('rateLimitPerSecond', r.rateLimitPerSecond);
  set('rateLimitBurst', r.rateLimitBurst);
  set('maxResponseBytes', r.maxResponseBytes);
  set('proxyMaxConcurrent', r.proxy?.maxConcurrent);
  set('proxyMaxQueued', r.proxy?.maxQueued);
  set('proxyMaxConcurrentPerUser', r.proxy?.maxConcurrentPerUser);
  set('proxyIdleTimeoutMs', d(r.proxy?.idleTimeout, 'proxy.idleTimeout'));
  set('proxyMaxDurationMs', d(r.proxy?.maxDuration, 'proxy.maxDuration'));
  set('proxyMaxRequestBytes', r.proxy?.maxRequestBytes);
  return out;
}

/** RBAC verb of an HTTP method on the proxy subresource. */
function proxyVerb(method: string): string {
  const m: Record<string, string> = {
    GET: 'get',
    HEAD: 'get',
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: 'delete',
  };
  return m[method.toUpperCase()] ?? method.toLowerCase();
}
