import type { AdapterContext, AdapterLogger, PassThroughResource } from '../sdk/types.ts';
import type { Change, CollectionSnapshot, EventType, Lease, Store, StoredEvent } from '../store/types.ts';
import { FencedError } from '../store/types.ts';
import { failureReason } from '../resilience/reason.ts';
import { makeEntry, type Projection } from './entry.ts';
import { buildObject, rfc3339 } from './object.ts';
import type { SkipLedger } from './skips.ts';
import { ReplayLog } from './replay-log.ts';
import type { ViewEvent } from './view.ts';

/**
 * The one key a change feed writes in the store. Its value is the last event, and with it the upstream cursor:
 * the feed's snapshot holds one object however many changes went through, while the event stream carries
 * each change with its resourceVersion (the store gives it, as for mirrors).
 */
const SLOT = 'feed';

/** A change as the store carries it (the store's own key and type are the slot's, not the object's). */
interface Envelope {
  /** Watch event type of the object's change; absent for a batch that only moved the cursor. */
  t?: EventType;
  /** The object's key and JSON (without resourceVersion). */
  k?: string;
  h?: string;
  b?: string;
  /** The upstream cursor after the batch this change belongs to. */
  c?: string;
  /** The feed lost its place upstream: what came before cannot be trusted to be complete. */
  r?: boolean;
}

/**
 * The numbered, bounded log of a pass-through resource's changes, as a watch hub reads it (watch.ts,
 * EventLog): events after a resourceVersion, or none (410) when they have left the log. It keeps no objects,
 * only the last `maxEvents` changes of at most `maxEventAgeMs`.
 */
export class FeedLog extends ReplayLog {
  private started = false;
  private readonly projection: Projection | undefined;

  constructor(o: { maxEvents: number; maxEventAgeMs: number; projection?: Projection; now?: () => number }) {
    super(o, o.now ?? Date.now);
    this.projection = o.projection;
  }

  /** Events currently kept. */
  get size(): number {
    return this.log.length;
  }

  /** Committed events from the store. */
  apply(events: StoredEvent[]): void {
    const at = this.now();
    const out: ViewEvent[] = [];
    for (const e of events) {
      if (e.rv <= this.rv) continue;
      this.rv = e.rv;
      const env = parseEnvelope(e.body);
      if (env?.r) {
        // Changes may have been missed: no watcher can resume from before this point.
        this.rv = e.rv;
        this.logStartRv = e.rv;
        this.log = [];
        out.length = 0;
        for (const l of this.listeners) l.onReset();
        continue;
      }
      if (!env?.t || env.k === undefined || env.b === undefined) continue;
      const entry = makeEntry(env.k, e.rv, env.h ?? '', env.b, this.projection);
      // The feed does not carry the previous state. For selector transitions the object is taken to have
      // matched before as it matches now: a MODIFIED stays a MODIFIED for a namespaced watcher.
      out.push({ type: env.t, rv: e.rv, entry, prev: env.t === 'MODIFIED' ? entry : undefined, at });
    }
    this.started = true;
    this.trim(at);
    if (out.length > 0) {
      this.log.push(...out);
      this.trim(at);
    }
    this.wake();
    if (out.length > 0) for (const l of this.listeners) l.onEvents(out);
  }

  /** Starts over at a snapshot's resourceVersion: after a gap, watchers must relist (410). */
  reset(snap: Pick<CollectionSnapshot, 'rv'>): void {
    const had = this.started;
    this.started = true;
    this.rv = snap.rv;
    this.logStartRv = snap.rv;
    this.log = [];
    this.wake();
    if (had) for (const l of this.listeners) l.onReset();
  }

  /** Drops events past the log's bounds (also called by the feed's timer, so an idle log ages out too). */
  trim(now = this.now()): void {
    this.trimLog(now);
  }
}

function parseEnvelope(body: string): Envelope | undefined {
  try {
    const v = JSON.parse(body) as unknown;
    return typeof v === 'object' && v !== null ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The upstream cursor a feed's snapshot holds (undefined for a feed never read). */
export function cursorOf(snap: CollectionSnapshot): string | undefined {
  const slot = snap.objects.find((o) => o.key === SLOT);
  return slot ? parseEnvelope(slot.body)?.c : undefined;
}

/** Health of a change feed, for `kubectl get adapters` and the stale-data Warning. */
export interface FeedStatus {
  leader: boolean;
  polls: number;
  lastSuccess: number | undefined;
  lastError: string | undefined;
  consecutiveFailures: number;
}

export interface ChangeFeedOptions {
  adapter: string;
  group: string;
  version: string;
  /** The store collection of the feed, e.g. `payments.kubegate.dev/charges@changes`. */
  collection: string;
  resource: PassThroughResource;
  config: unknown;
  intervalMs: number;
  store: Store;
  holder: string;
  leaseTtlMs: number;
  fetch: AdapterContext<unknown>['fetch'];
  log: AdapterLogger;
  skips: SkipLedger;
  /** Bounds of the event log (the `watch` section: maxEvents, maxEventAgeMs). */
  maxEvents: number;
  maxEventAgeMs: number;
  projection?: Projection;
  now?: () => number;
  /** Called after every read of the upstream feed (metrics, tests). */
  onPoll?: (ok: boolean, changes: number) => void;
}

/**
 * Reads a pass-through resource's change feed and numbers its changes: one replica at a time (the poll lease,
 * as for a mirror's poller) calls the adapter's `changes.read` from the stored cursor and commits the changes
 * with the cursor through the store, which gives them resourceVersions; every replica's {@link FeedLog} tails
 * the store and feeds its watch hub. Read once per resource, whatever the number of watchers.
 */
export class ChangeFeed {
  readonly log: FeedLog;
  readonly status: FeedStatus = {
    leader: false,
    polls: 0,
    lastSuccess: undefined,
    lastError: undefined,
    consecutiveFailures: 0,
  };
  config: unknown;
  readonly adapter: string;
  private readonly o: ChangeFeedOptions;
  private readonly now: () => number;
  private lease: Lease | null = null;
  /** The cursor, known while this replica holds the lease it was read under. */
  private cursor: { fence: number; value: string | undefined } | undefined;
  private running: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private subscription: { close(): void } | undefined;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(o: ChangeFeedOptions) {
    this.o = o;
    this.adapter = o.adapter;
    this.now = o.now ?? Date.now;
    this.config = o.config;
    this.log = new FeedLog({
      maxEvents: o.maxEvents,
      maxEventAgeMs: o.maxEventAgeMs,
      now: this.now,
      ...(o.projection ? { projection: o.projection } : {}),
    });
  }

  /** Loads the feed's position from the store, tails it, and starts reading the upstream feed. */
  async start(): Promise<void> {
    const { store, collection } = this.o;
    this.log.reset(await store.load(collection));
    this.subscription = store.subscribe(collection, this.log.rv, {
      onEvents: (events) => this.log.apply(events),
      onReset: (snap) => this.log.reset(snap),
    });
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort(new Error('kubegate is shutting down'));
    await this.running?.catch(() => undefined);
    this.subscription?.close();
    if (this.lease) await this.o.store.releaseLease(this.o.collection, this.lease).catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.pollNow().then((more) => {
        this.log.trim();
        this.schedule(more ? 0 : this.o.intervalMs);
      });
    }, ms);
    this.timer.unref();
  }

  /**
   * Reads the upstream feed once (when this replica holds the lease) and commits what it returned. Resolves
   * true when the adapter said more changes are waiting. Exposed for tests, which drive the feed by hand.
   */
  pollNow(): Promise<boolean> {
    this.running ??= this.pollOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pollOnce(): Promise<boolean> {
    const { store, collection } = this.o;
    try {
      this.lease = await store.acquireLease(collection, this.o.holder, this.o.leaseTtlMs);
    } catch (err) {
      this.lease = null;
      this.o.log.warn('could not reach the store for the change feed lease', { collection, err: String(err) });
    }
    this.status.leader = this.lease !== null;
    if (!this.lease) {
      this.cursor = undefined;
      return false;
    }
    const lease = this.lease;
    this.status.polls++;
    try {
      // A new lease may follow another replica's reads: start where the store says the feed is.
      if (this.cursor?.fence !== lease.fence)
        this.cursor = { fence: lease.fence, value: cursorOf(await store.load(collection)) };
      const since = this.cursor.value;
      const feed = this.o.resource.changes;
      if (!feed) return false;
      const batch = await feed.read(this.ctx(), since);
      // Asked from nowhere, the feed gives a position: changes it may return with it came before any list's
      // resourceVersion could refer to them, and are not delivered.
      const changes = since === undefined ? [] : this.build(batch.changes, batch.cursor ?? since);
      if (batch.reset) {
        this.o.log.warn('the change feed lost its place upstream; watchers are asked to relist', { collection });
        changes.unshift({
          type: 'MODIFIED',
          key: SLOT,
          hash: `reset:${batch.cursor ?? ''}:${this.now()}`,
          body: JSON.stringify({ r: true, ...(batch.cursor ? { c: batch.cursor } : {}) }),
        });
      } else if (changes.length === 0 && batch.cursor !== undefined && batch.cursor !== since)
        changes.push({
          type: 'MODIFIED',
          key: SLOT,
          hash: `cursor:${batch.cursor}`,
          body: JSON.stringify({ c: batch.cursor }),
        });
      if (changes.length > 0) await store.commit(collection, lease, changes);
      this.cursor = { fence: lease.fence, value: batch.cursor ?? since };
      this.status.lastSuccess = this.now();
      this.status.lastError = undefined;
      this.status.consecutiveFailures = 0;
      this.o.onPoll?.(true, batch.changes.length);
      return batch.more === true;
    } catch (err) {
      if (err instanceof FencedError) {
        this.lease = null;
        this.cursor = undefined;
      }
      const reason = err instanceof FencedError ? 'another replica took the change feed lease' : failureReason(err);
      if (reason !== this.status.lastError)
        this.o.log.warn('reading the change feed failed; watchers keep their place', { collection, reason });
      this.status.lastError = reason;
      this.status.consecutiveFailures++;
      this.o.onPoll?.(false, 0);
      return false;
    }
  }

  private ctx(): AdapterContext<unknown> {
    return {
      config: this.config,
      fetch: this.o.fetch,
      signal: this.abort.signal,
      log: this.o.log,
      skip: (reason) => this.o.skips.record('adapter', reason),
    };
  }

  /** The changes as store changes of the slot, each with the batch's cursor; items that cannot be served are skipped. */
  private build(
    changes: { type: EventType; object: Parameters<typeof buildObject>[0] }[],
    cursor: string | undefined,
  ): Change[] {
    const { resource: r, group, version } = this.o;
    const t = { group, version, kind: r.kind, namespaced: r.scope === 'Namespaced', schema: r.schema };
    const now = rfc3339(this.now());
    const out: Change[] = [];
    for (const ch of changes) {
      try {
        const built = buildObject(ch.object, t, () => now);
        const env: Envelope = {
          t: ch.type,
          k: built.key,
          h: built.hash,
          b: built.body,
          ...(cursor ? { c: cursor } : {}),
        };
        // Distinct hashes: the store skips a change whose hash equals the slot's, taking it for a no-op.
        out.push({
          type: 'MODIFIED',
          key: SLOT,
          hash: `${ch.type}:${built.hash}:${cursor ?? ''}:${out.length}`,
          body: JSON.stringify(env),
        });
      } catch (err) {
        this.o.skips.recordError(err);
      }
    }
    return out;
  }
}
