import type { CollectionSnapshot, EventType, StoredEvent } from '../store/types.ts';
import type { ObjectEntry, Projection } from './entry.ts';
import { makeEntry, withResourceVersion } from './entry.ts';
import { RELEASE_AFTER_ITEMS, releaseMemory } from './memory.ts';
import { ReplayLog } from './replay-log.ts';

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
  /** What entries keep besides their JSON (selectable fields, Table cells). */
  projection?: Projection;
  now?: () => number;
}

export interface ViewListener {
  onEvents(events: ViewEvent[]): void;
  /** The view was reloaded from a snapshot: watchers cannot be told what changed and must relist. */
  onReset(): void;
}

/**
 * The local view of one collection: current objects, recent snapshots and a bounded event log. Everything
 * kubegate serves for mirrored resources comes from here, synchronously (docs/architecture.md, "Performance").
 */
export class CollectionView extends ReplayLog {
  /** True once the view holds data from a first load or poll. */
  synced = false;
  private readonly byKey = new Map<string, ObjectEntry>();
  /** The objects sorted by key, in chunks shared with the snapshots until a change copies one. */
  private readonly index = new ChunkedIndex();
  private sortedCache: ObjectEntry[] | undefined;
  /** Past versions as the chunk lists they had: a snapshot costs the chunks that changed since. */
  private readonly snapshots = new Map<number, ObjectEntry[][]>();
  /** The last past snapshot handed out as one array (continue tokens read the same one page after page). */
  private flatSnapshot: { rv: number; entries: ObjectEntry[] } | undefined;
  private readonly opts: ViewOptions;

  constructor(opts: ViewOptions) {
    super(opts, opts.now ?? Date.now);
    this.opts = opts;
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
      this.sortedCache = this.index.flat();
      this.snapshots.set(this.rv, this.index.freeze());
      while (this.snapshots.size > this.opts.maxSnapshots) {
        const oldest = this.snapshots.keys().next().value;
        if (oldest === undefined) break;
        this.snapshots.delete(oldest);
        if (this.flatSnapshot?.rv === oldest) this.flatSnapshot = undefined;
      }
    }
    return this.sortedCache;
  }

  /** The sorted objects as they were at `rv`, if that snapshot is still kept. */
  snapshotAt(rv: number): ObjectEntry[] | undefined {
    if (rv === this.rv) return this.sorted();
    if (this.flatSnapshot?.rv === rv) return this.flatSnapshot.entries;
    const chunks = this.snapshots.get(rv);
    if (!chunks) return undefined;
    this.flatSnapshot = { rv, entries: chunks.flat() };
    return this.flatSnapshot.entries;
  }

  /** Applies committed events from the store. */
  apply(events: StoredEvent[]): void {
    const out: ViewEvent[] = [];
    const at = this.now();
    // A large batch (a first poll) re-sorts once instead of inserting one by one.
    const bulk = events.length > CHUNK && events.length * 8 > this.byKey.size;
    for (const e of events) {
      if (e.rv <= this.rv) continue; // already applied (at-least-once delivery from a stream)
      const prev = this.byKey.get(e.key);
      let entry: ObjectEntry;
      if (e.type === 'DELETED') {
        this.byKey.delete(e.key);
        if (prev && !bulk) this.index.delete(e.key);
        entry = withResourceVersion(prev ?? makeEntry(e.key, e.rv, e.hash, e.body, this.opts.projection), e.rv);
      } else {
        entry = makeEntry(e.key, e.rv, e.hash, e.body, this.opts.projection);
        this.byKey.set(e.key, entry);
        if (!bulk) this.index.put(entry);
      }
      this.rv = e.rv;
      out.push({ type: e.type, rv: e.rv, entry, prev: e.type === 'MODIFIED' ? prev : undefined, at });
    }
    this.synced = true;
    if (out.length === 0) return;
    if (bulk) this.index.load(this.byKey.values());
    if (out.length >= RELEASE_AFTER_ITEMS) releaseMemory();
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
    for (const o of snap.objects) this.byKey.set(o.key, makeEntry(o.key, o.rv, o.hash, o.body, this.opts.projection));
    this.index.load(this.byKey.values());
    if (this.byKey.size >= RELEASE_AFTER_ITEMS) releaseMemory();
    this.rv = snap.rv;
    this.sortedCache = undefined;
    this.snapshots.clear();
    this.flatSnapshot = undefined;
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
}

/** Entries per chunk of the sorted index: a change copies one chunk (a few KiB), not the whole list. */
const CHUNK = 512;

const byKeyOrder = (a: ObjectEntry, b: ObjectEntry) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The objects sorted by key as a list of chunks with copy-on-write: {@link freeze} hands out the current chunk
 * list and later changes copy only the chunks they touch, so snapshots kept for continue tokens share every
 * unchanged chunk instead of each holding its own copy of the whole list.
 */
class ChunkedIndex {
  private chunks: ObjectEntry[][] = [];
  /** Chunks created since the last freeze: only these may change in place. */
  private owned = new Set<ObjectEntry[]>();

  load(entries: Iterable<ObjectEntry>): void {
    const all = [...entries].sort(byKeyOrder);
    this.chunks = [];
    this.owned = new Set();
    for (let i = 0; i < all.length; i += CHUNK) this.adopt(this.chunks.length, all.slice(i, i + CHUNK));
  }

  /** The current chunk list; from now on it is shared and never changes. */
  freeze(): ObjectEntry[][] {
    this.owned.clear();
    return this.chunks.slice();
  }

  flat(): ObjectEntry[] {
    return this.chunks.flat();
  }

  put(e: ObjectEntry): void {
    if (this.chunks.length === 0) {
      this.adopt(0, [e]);
      return;
    }
    const ci = this.chunkFor(e.key);
    const chunk = this.writable(ci);
    const i = lowerBound(chunk, e.key);
    if (chunk[i]?.key === e.key) chunk[i] = e;
    else chunk.splice(i, 0, e);
    if (chunk.length > 2 * CHUNK) this.adopt(ci + 1, chunk.splice(CHUNK));
  }

  delete(key: string): void {
    if (this.chunks.length === 0) return;
    const ci = this.chunkFor(key);
    const i = lowerBound(this.chunks[ci] as ObjectEntry[], key);
    if ((this.chunks[ci] as ObjectEntry[])[i]?.key !== key) return;
    const chunk = this.writable(ci);
    chunk.splice(i, 1);
    if (chunk.length === 0) {
      this.chunks.splice(ci, 1);
      this.owned.delete(chunk);
    }
  }

  private adopt(at: number, chunk: ObjectEntry[]): void {
    this.chunks.splice(at, 0, chunk);
    this.owned.add(chunk);
  }

  private writable(ci: number): ObjectEntry[] {
    const chunk = this.chunks[ci] as ObjectEntry[];
    if (this.owned.has(chunk)) return chunk;
    const copy = chunk.slice();
    this.chunks[ci] = copy;
    this.owned.add(copy);
    return copy;
  }

  /** The last chunk whose first key is <= key (or the first chunk). */
  private chunkFor(key: string): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (((this.chunks[mid] as ObjectEntry[])[0] as ObjectEntry).key <= key) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo - 1);
  }
}

/** The index of the first entry whose key is not below `key` (entries sorted by key). */
export function lowerBound(entries: readonly ObjectEntry[], key: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((entries[mid] as ObjectEntry).key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
