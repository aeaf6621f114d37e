import type { CollectionSnapshot, EventType, StoredEvent } from '../store/types.ts';
import type { ObjectEntry } from './entry.ts';
import { makeEntry, withResourceVersion } from './entry.ts';

/** A change as watchers see it: the new entry (or last state for DELETED) and, for MODIFIED, the previous one. */
export interface ViewEvent {
  type: EventType;
  rv: number;
  entry: ObjectEntry;
  prev: ObjectEntry | undefined;
  at: number;
  /** Cached watch frame (JSON), built on first use. */
  frame?: Buffer;
}

export interface ViewOptions {
  /** Most events kept for watch replay. */
  maxEvents: number;
  /** Oldest event age kept for watch replay (ms). */
  maxEventAgeMs: number;
  /** Past snapshots kept for consistent continue tokens and Exact lists. */
  maxSnapshots: number;
  now?: () => number;
}

export interface ViewListener {
  onEvents(events: ViewEvent[]): void;
  /** The view was reloaded from a snapshot: watchers cannot be told what changed and must relist. */
  onReset(): void;
}

/**
 * The local view of one collection: current objects, recent snapshots and a bounded event log. Everything
 * kubegate serves for mirrored resources comes from here, synchronously (DESIGN.md "Performance design").
 */
export class CollectionView {
  rv = 0;
  /** True once the view holds data from a first load or poll. */
  synced = false;
  private readonly byKey = new Map<string, ObjectEntry>();
  private sortedCache: ObjectEntry[] | undefined;
  private readonly snapshots = new Map<number, ObjectEntry[]>();
  private log: ViewEvent[] = [];
  /** Any resourceVersion >= logStartRv can be watched from (events after it are all in the log). */
  logStartRv = 0;
  private readonly listeners = new Set<ViewListener>();
  private readonly opts: ViewOptions;
  private readonly now: () => number;
  /** Waiters for a resourceVersion not reached yet. */
  private waiters: { rv: number; resolve: () => void }[] = [];

  constructor(opts: ViewOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): ObjectEntry | undefined {
    return this.byKey.get(key);
  }

  /** Objects sorted by key, shared until the next change (callers must not mutate). */
  sorted(): ObjectEntry[] {
    if (!this.sortedCache) {
      this.sortedCache = [...this.byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      this.snapshots.set(this.rv, this.sortedCache);
      while (this.snapshots.size > this.opts.maxSnapshots) {
        const oldest = this.snapshots.keys().next().value;
        if (oldest === undefined) break;
        this.snapshots.delete(oldest);
      }
    }
    return this.sortedCache;
  }

  /** The sorted objects as they were at `rv`, if that snapshot is still kept. */
  snapshotAt(rv: number): ObjectEntry[] | undefined {
    return rv === this.rv ? this.sorted() : this.snapshots.get(rv);
  }

  /** Events after `rv`, or undefined when some have left the log (the watcher must get 410). */
  eventsAfter(rv: number): ViewEvent[] | undefined {
    if (rv < this.logStartRv) return undefined;
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.log[mid]?.rv ?? 0) <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.log.slice(lo);
  }

  subscribe(l: ViewListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Resolves once the view reached `rv`, or false after `ms`. */
  waitFor(rv: number, ms: number): Promise<boolean> {
    if (this.rv >= rv) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = { rv, resolve: () => resolve(true) };
      this.waiters.push(w);
      setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(this.rv >= rv);
      }, ms).unref();
    });
  }

  /** Applies committed events from the store. */
  apply(events: StoredEvent[]): void {
    const out: ViewEvent[] = [];
    const at = this.now();
    for (const e of events) {
      if (e.rv <= this.rv) continue; // already applied (at-least-once delivery from a stream)
      const prev = this.byKey.get(e.key);
      let entry: ObjectEntry;
      if (e.type === 'DELETED') {
        this.byKey.delete(e.key);
        entry = withResourceVersion(prev ?? makeEntry(e.key, e.rv, e.hash, e.body), e.rv);
      } else {
        entry = makeEntry(e.key, e.rv, e.hash, e.body);
        this.byKey.set(e.key, entry);
      }
      this.rv = e.rv;
      out.push({ type: e.type, rv: e.rv, entry, prev: e.type === 'MODIFIED' ? prev : undefined, at });
    }
    this.synced = true;
    if (out.length === 0) return;
    this.sortedCache = undefined;
    for (const ev of out) this.log.push(ev);
    this.trimLog(at);
    this.wake();
    for (const l of this.listeners) l.onEvents(out);
  }

  /** Replaces the content with a snapshot (warm start, or a gap the stream could not bridge). */
  reset(snap: CollectionSnapshot): void {
    const hadData = this.synced;
    this.byKey.clear();
    for (const o of snap.objects) this.byKey.set(o.key, makeEntry(o.key, o.rv, o.hash, o.body));
    this.rv = snap.rv;
    this.sortedCache = undefined;
    this.snapshots.clear();
    this.log = [];
    this.logStartRv = snap.rv;
    this.synced = snap.synced;
    this.wake();
    if (hadData) for (const l of this.listeners) l.onReset();
  }

  /** Marks the view as having data even though the collection is empty (first poll returned nothing). */
  markSynced(): void {
    this.synced = true;
  }

  private trimLog(now: number): void {
    const { maxEvents, maxEventAgeMs } = this.opts;
    let drop = Math.max(0, this.log.length - maxEvents);
    while (drop < this.log.length && now - (this.log[drop]?.at ?? now) > maxEventAgeMs) drop++;
    if (drop > 0) {
      this.logStartRv = this.log[drop - 1]?.rv ?? this.logStartRv;
      this.log = this.log.slice(drop);
    }
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.rv <= this.rv);
    this.waiters = this.waiters.filter((w) => w.rv > this.rv);
    for (const w of ready) w.resolve();
  }
}
