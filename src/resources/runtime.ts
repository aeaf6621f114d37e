import { randomUUID } from 'node:crypto';
import type { TSchema } from '@sinclair/typebox';
import type { LoadedAdapter } from '../config/adapters.ts';
import type { GroupVersionInfo, ResourceInfo } from '../k8s/types.ts';
import type { AdapterLogger, ProxyDefinition, ResourceDefinition } from '../sdk/types.ts';
import { parseDuration } from '../sdk/duration.ts';
import type { Store } from '../store/types.ts';
import type { ObjectEntry } from './entry.ts';
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
import { createEncoder, type Encoder } from './encode.ts';
import { PassThroughCollection } from './passthrough.ts';
import { SkipLedger } from './skips.ts';
import { createMemoryQueryCache, type QueryCache } from '../store/query-cache.ts';

export interface RuntimeOptions {
  store: Store;
  log: AdapterLogger & { child?: (b: Record<string, unknown>) => AdapterLogger };
  watch: { bookmarkIntervalMs: number; maxEvents: number; maxEventAgeMs: number; maxBufferedBytes: number };
  /** Identity of this replica for poll leases. */
  holder?: string;
  /** How long a poll lease lasts without renewal; default three poll intervals, at least 10 s. */
  leaseTtlMs?: number;
  errorFrame: (code: number, reason: string, message: string) => Buffer;
  /** Metrics hooks per adapter. */
  upstreamEvents?: (adapter: string) => UpstreamEvents;
  metrics?: Pick<Metrics, 'poll' | 'skipped' | 'watchEvent'>;
  /** Per-query cache of pass-through resources (shared by replicas with Redis). */
  queryCache?: QueryCache;
}

/** Everything kubegate keeps about one served collection. */
export interface Collection {
  adapter: string;
  info: ResourceInfo;
  /** `group/plural`. */
  id: string;
  view: CollectionView;
  poller: Poller;
  hub: WatchHub;
  upstream: UpstreamClient;
  pollIntervalMs: number;
  encoder: Encoder;
  /** Value of a selectable field of an object (field selectors). */
  field(e: ObjectEntry, field: string): string | undefined;
  supportedFields: ReadonlySet<string>;
  /** The proxy subresource, when the resource declares one, with the adapter's current config. */
  proxy?: ProxyTarget;
  /** Upstream items the last poll could not serve, by reason. */
  skips: SkipLedger;
}

export interface ProxyTarget {
  def: ProxyDefinition<unknown>;
  config(): unknown;
}

/** A pass-through collection: forwarded to the upstream, cached per query. */
export interface PassCollection {
  adapter: string;
  info: ResourceInfo;
  id: string;
  pass: PassThroughCollection;
  upstream: UpstreamClient;
  encoder: Encoder;
  field(e: ObjectEntry, field: string): string | undefined;
  supportedFields: ReadonlySet<string>;
  proxy?: ProxyTarget;
  /** Upstream items recent fetches could not serve, by reason. */
  skips: SkipLedger;
}

export interface Runtime {
  groupVersions: GroupVersionInfo[];
  /** Mirrored collections. */
  collections: Collection[];
  passthrough: PassCollection[];
  findPassThrough(group: string, version: string, plural: string): PassCollection | undefined;
  /** Lookup by `group/version/plural`. */
  find(group: string, version: string, plural: string): Collection | undefined;
  hasGroupVersion(group: string, version: string): boolean;
  /** Replaces an adapter's (validated) config and polls its collections at once (config reload). */
  reconfigure(adapter: string, config: unknown): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
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
    // Pass-through resources have no change feed yet: advertising watch would make informers fail.
    verbs: r.mode === 'mirror' ? ['get', 'list', 'watch'] : ['get', 'list'],
    subresources: r.proxy ? [{ name: 'proxy', verbs: (r.proxy.allow?.methods ?? ['GET']).map(proxyVerb) }] : [],
    columns: (r.columns ?? []).map((c) => ({ ...c })),
    schema: { ...(spec ? { spec } : {}), ...(status ? { status } : {}) },
    fields: r.fields ?? [],
    description: r.description ?? `${r.kind} objects served by kubegate from an external API.`,
  };
}

/** Builds views, pollers and watch hubs for every resource of every loaded adapter. */
export function createRuntime(adapters: LoadedAdapter[], o: RuntimeOptions): Runtime {
  const holder = o.holder ?? randomUUID();
  const collections: Collection[] = [];
  const groupVersions: GroupVersionInfo[] = [];
  const passthrough: PassCollection[] = [];
  const queryCache = o.queryCache ?? createMemoryQueryCache();
  for (const a of adapters) {
    const { definition: def, entry } = a;
    const log = o.log.child ? o.log.child({ adapter: entry.name }) : o.log;
    const upstream = createUpstreamClient({
      ...resilienceOptions(entry.resilience),
      ...(o.upstreamEvents ? { events: o.upstreamEvents(entry.name) } : {}),
    });
    const gv: GroupVersionInfo = { group: def.group, version: def.version, resources: [] };
    for (const r of def.resources as ResourceDefinition[]) {
      const info = resourceInfo(def.group, def.version, r);
      gv.resources.push(info);
      const skips = new SkipLedger({
        adapter: entry.name,
        resource: `${r.plural}.${def.group}`,
        log,
        count: (kind, n) => o.metrics?.skipped(entry.name, r.plural, n, kind),
        ...(r.mode === 'passthrough' ? { retainMs: 10 * 60_000 } : {}),
      });
      if (r.mode === 'passthrough') {
        const ttlMs = parseDuration(r.cacheTtl ?? '10s', `${entry.name}: cacheTtl`);
        const pc: PassCollection = {
          adapter: entry.name,
          info,
          id: `${def.group}/${r.plural}`,
          pass: new PassThroughCollection({
            adapter: entry.name,
            group: def.group,
            version: def.version,
            collection: `${def.group}/${r.plural}`,
            resource: r,
            config: a.config,
            cache: queryCache,
            ttlMs,
            staleMs: 10 * 60_000,
            lockMs: 10_000,
            fetch: upstream.fetch,
            log,
            skips,
          }),
          upstream,
          encoder: createEncoder(info),
          field: fieldGetter(),
          supportedFields: new Set(['metadata.name', 'metadata.namespace', ...info.fields]),
          skips,
        };
        if (r.proxy) pc.proxy = { def: r.proxy, config: () => pc.pass.config };
        passthrough.push(pc);
        continue;
      }
      const view = new CollectionView({
        maxEvents: o.watch.maxEvents,
        maxEventAgeMs: o.watch.maxEventAgeMs,
        maxSnapshots: 32,
      });
      const id = `${def.group}/${r.plural}`;
      const pollIntervalMs = parseDuration(
        entry.pollInterval ?? r.pollInterval ?? '30s',
        `${entry.name}: pollInterval`,
      );
      const poller = new Poller({
        adapter: entry.name,
        group: def.group,
        version: def.version,
        collection: id,
        resource: r,
        config: a.config,
        intervalMs: pollIntervalMs,
        view,
        store: o.store,
        holder,
        leaseTtlMs: o.leaseTtlMs ?? Math.max(3 * pollIntervalMs, 10_000),
        fetch: upstream.fetch,
        log,
        skips,
        onPoll: (ok, ms, n) => o.metrics?.poll(entry.name, r.plural, ok, ms / 1000, n),
      });
      if (o.metrics) {
        const m = o.metrics;
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
        errorFrame: o.errorFrame,
      });
      const c: Collection = {
        adapter: entry.name,
        info,
        id,
        view,
        poller,
        hub,
        upstream,
        pollIntervalMs,
        encoder: createEncoder(info),
        field: fieldGetter(),
        supportedFields: new Set(['metadata.name', 'metadata.namespace', ...info.fields]),
        skips,
      };
      if (r.proxy) c.proxy = { def: r.proxy, config: () => poller.config };
      collections.push(c);
    }
    groupVersions.push(gv);
  }
  // Nested maps: a lookup per request without building a key string.
  const tree = new Map<string, Map<string, { mirror: Map<string, Collection>; pass: Map<string, PassCollection> }>>();
  const node = (g: string, v: string) => {
    let vs = tree.get(g);
    if (!vs)
      tree.set(g, (vs = new Map<string, { mirror: Map<string, Collection>; pass: Map<string, PassCollection> }>()));
    let n = vs.get(v);
    if (!n) vs.set(v, (n = { mirror: new Map(), pass: new Map() }));
    return n;
  };
  for (const gv of groupVersions) node(gv.group, gv.version);
  for (const c of collections) node(c.info.group, c.info.version).mirror.set(c.info.plural, c);
  for (const p of passthrough) node(p.info.group, p.info.version).pass.set(p.info.plural, p);
  const subscriptions: { close(): void }[] = [];
  return {
    groupVersions,
    collections,
    passthrough,
    find: (g, v, p) => tree.get(g)?.get(v)?.mirror.get(p),
    findPassThrough: (g, v, p) => tree.get(g)?.get(v)?.pass.get(p),
    hasGroupVersion: (g, v) => tree.get(g)?.has(v) ?? false,
    async reconfigure(adapter, config) {
      const mine = collections.filter((c) => c.adapter === adapter);
      if (mine.length === 0 && !passthrough.some((p) => p.adapter === adapter))
        throw new Error(`no adapter named "${adapter}"`);
      for (const p of passthrough) if (p.adapter === adapter) p.pass.config = config;
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
      // Pollers start in the background: discovery and OpenAPI answer at once even when an upstream is down.
      for (const c of collections) void c.poller.start();
    },
    async stop() {
      await Promise.all(collections.map((c) => c.poller.stop()));
      for (const c of collections) c.hub.close();
      for (const s of subscriptions) s.close();
    },
  };
}

/** Reads `metadata.name`, `metadata.namespace` or a declared dotted path; non-scalars do not match. */
function fieldGetter(): (e: ObjectEntry, field: string) => string | undefined {
  const paths = new Map<string, string[]>();
  return (e, field) => {
    if (field === 'metadata.name') return e.obj.metadata.name;
    if (field === 'metadata.namespace') return e.obj.metadata.namespace ?? '';
    let p = paths.get(field);
    if (!p) paths.set(field, (p = field.split('.')));
    let v: unknown = e.obj;
    for (const k of p) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  };
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
