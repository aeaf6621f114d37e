import type {
  AdapterContext,
  AdapterLogger,
  ObjectInput,
  PassThroughResource,
  PushedDownRequirement,
} from '../sdk/types.ts';
import type { QueryCache } from '../store/query-cache.ts';
import type { LabelSelector } from '../k8s/labels.ts';
import type { FieldSelector } from '../k8s/fields.ts';
import type { UserInfo } from '../auth/types.ts';
import { KubeError, upstreamUnavailable } from '../k8s/errors.ts';
import { failureReason } from '../resilience/reason.ts';
import type { ObjectEntry } from './entry.ts';
import { makeEntry, objectKey } from './entry.ts';
import { buildObject, rfc3339 } from './object.ts';
import { SkipError, SkipLedger, summarizeSkips, type SkipKind } from './skips.ts';

/** One skipped item of a fetch. */
interface Skip {
  kind: SkipKind;
  reason: string;
  item?: string | undefined;
}

/** Skipped items of a cached page, by reason (they travel with the page to every replica serving it). */
export type PageSkips = ReturnType<typeof summarizeSkips>;
import { couldExist } from './names.ts';

/** A cached page: built object bodies, the upstream cursor, and when it was fetched (µs: the resourceVersion). */
interface CachedPage {
  rv: number;
  fetchedAt: number;
  cursor?: string;
  objects: { key: string; hash: string; body: string }[];
  skipped: PageSkips;
}

export interface PassThroughOptions {
  adapter: string;
  group: string;
  version: string;
  collection: string;
  resource: PassThroughResource;
  config: unknown;
  cache: QueryCache;
  ttlMs: number;
  /** How long an answer "no such object" is cached (briefly: misses are cheap to ask for and unbounded). */
  notFoundTtlMs?: number;
  /** Cached values outlive their TTL this long to be served (with a Warning) when the upstream fails. */
  staleMs: number;
  /** How long a replica waits for another replica's fetch of the same query. */
  lockMs: number;
  fetch: AdapterContext<unknown>['fetch'];
  log: AdapterLogger;
  /** Where skipped items are reported; by default a ledger of its own (logging through `log`). */
  skips?: SkipLedger;
  /**
   * Called before a request of `caller` makes an upstream call (a cache miss this replica fetches); throws to
   * refuse it (the per-user upstream limit answers 429).
   */
  admit?: (caller: UserInfo | undefined) => void;
  /**
   * The resourceVersion of an answer, read before its upstream call: with a change feed, the feed's (so a watch
   * from a list's resourceVersion misses no change made after the list); by default the time in microseconds.
   */
  resourceVersion?: () => number;
}

export interface PageResult {
  entries: ObjectEntry[];
  rv: number;
  cursor: string | undefined;
  /** Set when the upstream failed and this is older data: its age in ms and the cause. */
  stale?: { ageMs: number; cause: string };
  /** Items of this page (or object) the upstream sent but kubegate could not serve. */
  skipped?: PageSkips;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** At most one log line per this long per resource about failing lookups (a failing upstream is asked often). */
const FAILURE_LOG_EVERY_MS = 10_000;

/**
 * Serving of a pass-through resource: list pages and gets forwarded to the upstream, cached per query,
 * coalesced within the process (one promise per key) and across replicas (a short lock in the shared cache).
 * The resourceVersion of a page is the time it was fetched, in microseconds: monotonic like a mirrored
 * collection's counter, and the same on every replica that serves the cached page.
 */
export class PassThroughQueries {
  private readonly inflight = new Map<string, Promise<CachedPage>>();
  private readonly o: PassThroughOptions;
  private readonly namePattern: RegExp | undefined;
  private lastFailureLog = { at: 0, reason: '', suppressed: 0 };
  /** Upstream calls made by this replica (tests and metrics). */
  upstreamCalls = 0;
  /** Cached answers fetched before this time (µs) are not served fresh: a write went through since. */
  private writtenAt = 0;
  config: unknown;
  /** Items skipped by this replica's recent fetches, by reason. */
  readonly skips: SkipLedger;

  constructor(o: PassThroughOptions) {
    this.o = o;
    this.config = o.config;
    this.skips =
      o.skips ?? new SkipLedger({ adapter: o.adapter, resource: o.collection, log: o.log, retainMs: 10 * 60_000 });
    const p = o.resource.namePattern;
    this.namePattern = p === undefined ? undefined : p instanceof RegExp ? p : new RegExp(p);
  }

  private rvNow(): number {
    return this.o.resourceVersion ? this.o.resourceVersion() : Date.now() * 1000;
  }

  private get resourceName(): string {
    return `${this.o.resource.plural}.${this.o.group}`;
  }

  /**
   * The failure as callers see it: the one upstream-unavailable 503 (see errors.ts) with the sanitized reason,
   * logged at most every few seconds.
   */
  private unavailable(err: unknown): { error: KubeError; why: string } {
    const why = failureReason(err);
    const now = Date.now();
    const l = this.lastFailureLog;
    if (why !== l.reason || now - l.at >= FAILURE_LOG_EVERY_MS) {
      this.o.log.warn('pass-through lookup failed', {
        collection: this.o.collection,
        reason: why,
        ...(l.suppressed > 0 ? { alsoFailedSinceLastLine: l.suppressed } : {}),
      });
      this.lastFailureLog = { at: now, reason: why, suppressed: 0 };
    } else l.suppressed++;
    return { error: upstreamUnavailable(this.o.adapter, this.resourceName, why), why };
  }

  private ctx(skipped: Skip[]): AdapterContext<unknown> {
    return {
      config: this.config,
      fetch: this.o.fetch,
      signal: AbortSignal.timeout(60_000),
      log: this.o.log,
      skip: (reason) => skipped.push({ kind: 'adapter', reason }),
    };
  }

  /** Reports a fetch's skipped items and summarizes them for the cached page. */
  private noteSkips(skipped: Skip[]): PageSkips {
    for (const x of skipped) this.skips.record(x.kind, x.reason, x.item);
    return summarizeSkips(skipped);
  }

  private build(items: ObjectInput[], skipped: Skip[]): CachedPage['objects'] {
    const { resource: r, group, version } = this.o;
    const t = { group, version, kind: r.kind, namespaced: r.scope === 'Namespaced', schema: r.schema };
    const now = rfc3339(Date.now());
    const out: CachedPage['objects'] = [];
    for (const item of items) {
      try {
        out.push(buildObject(item, t, () => now));
      } catch (err) {
        skipped.push(
          err instanceof SkipError
            ? { kind: err.kind, reason: err.reason, item: err.item }
            : { kind: 'mapping', reason: err instanceof Error ? err.message : String(err) },
        );
      }
    }
    return out;
  }

  /**
   * Fetch-or-wait for one cache key; stale fallbacks when the upstream fails. A page without objects (a miss)
   * is kept only `notFoundTtlMs`, and never served stale.
   */
  private async cached(
    key: string,
    caller: UserInfo | undefined,
    produce: () => Promise<CachedPage>,
  ): Promise<{ page: CachedPage; stale?: PageResult['stale'] }> {
    const { cache, ttlMs, staleMs, lockMs, collection } = this.o;
    const missTtl = Math.min(ttlMs, this.o.notFoundTtlMs ?? ttlMs);
    const read = async (): Promise<CachedPage | undefined> => {
      const raw = await cache.get(collection, key);
      return raw ? (JSON.parse(raw) as CachedPage) : undefined;
    };
    const fresh = await read();
    if (fresh && fresh.fetchedAt > this.writtenAt && Date.now() - fresh.fetchedAt / 1000 < ttlMs)
      return { page: fresh };
    let p = this.inflight.get(key);
    if (!p) {
      // Only a request that starts an upstream call counts against its user's upstream budget.
      this.o.admit?.(caller);
      p = (async () => {
        const deadline = Date.now() + lockMs;
        while (!(await cache.tryLock(collection, key, lockMs))) {
          // Another replica is fetching this query: wait for its result rather than calling the upstream too.
          await sleep(20);
          const v = await read();
          if (v && v.fetchedAt > this.writtenAt && Date.now() - v.fetchedAt / 1000 < ttlMs) return v;
          if (Date.now() > deadline) break;
        }
        try {
          // The replica that held the lock may have stored its answer and let go between our last look and
          // our lock: use that answer rather than asking the upstream again.
          const v = await read();
          if (v && v.fetchedAt > this.writtenAt && Date.now() - v.fetchedAt / 1000 < ttlMs) return v;
          this.upstreamCalls++;
          const page = await produce();
          const miss = page.objects.length === 0;
          await cache.set(collection, key, JSON.stringify(page), miss ? missTtl : ttlMs + staleMs);
          return page;
        } finally {
          await cache.unlock(collection, key);
        }
      })().finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    try {
      return { page: await p };
    } catch (err) {
      if (err instanceof KubeError) throw err;
      const failure = this.unavailable(err);
      if (!fresh || fresh.objects.length === 0) throw failure.error;
      return { page: fresh, stale: { ageMs: Date.now() - fresh.fetchedAt / 1000, cause: failure.why } };
    }
  }

  /**
   * A write went through: answers cached or being fetched until now are not served as fresh any more, so the
   * next list or get asks the upstream (on this replica; others within their cache TTL).
   */
  invalidate(): void {
    this.writtenAt = Date.now() * 1000;
    this.inflight.clear();
  }

  /** One page of the collection as the upstream orders it; selectors are applied by the caller. */
  async listPage(
    q: {
      namespace: string | undefined;
      limit: number;
      cursor: string | undefined;
      labelSelector: LabelSelector;
      fieldSelector: FieldSelector;
    },
    caller?: UserInfo,
  ): Promise<PageResult> {
    const r = this.o.resource;
    const pushLabels = new Set(r.pushDown?.labels ?? []);
    const pushFields = new Set(r.pushDown?.fields ?? []);
    const eq = (
      reqs: readonly { key: string; operator: string; values: readonly string[] }[],
      allowed: Set<string>,
    ): PushedDownRequirement[] =>
      reqs
        .filter(
          (x) =>
            allowed.has(x.key) &&
            (x.operator === '=' || x.operator === '==' || (x.operator === 'in' && x.values.length === 1)),
        )
        .map((x) => ({ key: x.key, value: x.values[0] ?? '' }));
    const labels = eq(q.labelSelector.requirements, pushLabels);
    const fields = eq(
      q.fieldSelector.requirements.map((f) => ({ key: f.field, operator: f.operator, values: [f.value] })),
      pushFields,
    );
    const limit = Math.min(q.limit, r.maxPageSize ?? 100);
    const namespace = r.pushDown?.namespace ? q.namespace : undefined;
    const key = `list|${JSON.stringify([namespace ?? '', limit, q.cursor ?? '', labels, fields])}`;
    const { page, stale } = await this.cached(key, caller, async () => {
      const skipped: Skip[] = [];
      const rv = this.rvNow();
      const res = await r.listPage(this.ctx(skipped), { limit, cursor: q.cursor, namespace, labels, fields });
      const objects = this.build(res.items, skipped);
      return {
        rv,
        fetchedAt: Date.now() * 1000,
        ...(res.cursor ? { cursor: res.cursor } : {}),
        objects,
        skipped: this.noteSkips(skipped),
      };
    });
    return {
      entries: page.objects.map((x) => makeEntry(x.key, page.rv, x.hash, x.body)),
      rv: page.rv,
      cursor: page.cursor,
      ...(stale ? { stale } : {}),
      ...(page.skipped.length > 0 ? { skipped: page.skipped } : {}),
    };
  }

  /**
   * One object, or undefined. A name that no object can have (not a valid object name, or not matching the
   * resource's `namePattern`) is undefined at once: no cache entry, no upstream call.
   */
  async get(
    namespace: string | undefined,
    name: string,
    caller?: UserInfo,
  ): Promise<{ entry: ObjectEntry | undefined; stale?: PageResult['stale']; skipped?: PageSkips }> {
    if (!couldExist(namespace, name, this.namePattern)) return { entry: undefined };
    const key = `get|${objectKey(namespace, name)}`;
    const { page, stale } = await this.cached(key, caller, async () => {
      const skipped: Skip[] = [];
      const rv = this.rvNow();
      const item = await this.o.resource.get(this.ctx(skipped), { name, namespace });
      const objects = item ? this.build([item], skipped) : [];
      return { rv, fetchedAt: Date.now() * 1000, objects, skipped: this.noteSkips(skipped) };
    });
    const want = objectKey(namespace, name);
    const x = page.objects.find((o) => o.key === want);
    return {
      entry: x ? makeEntry(x.key, page.rv, x.hash, x.body) : undefined,
      ...(stale ? { stale } : {}),
      ...(page.skipped.length > 0 ? { skipped: page.skipped } : {}),
    };
  }
}
