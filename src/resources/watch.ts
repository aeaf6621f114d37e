import type { ObjectEntry } from './entry.ts';
import { withResourceVersion } from './entry.ts';
import type { CollectionView, ViewEvent } from './view.ts';
import type { EventType } from '../store/types.ts';
import { releaseMemory } from './memory.ts';

/** Where a watcher's frames go: the raw HTTP/1.1 or HTTP/2 response. */
export interface WatchSink {
  write(chunk: Buffer): boolean;
  end(): void;
  /** Bytes queued and not yet accepted by the socket. */
  buffered(): number;
  /**
   * `write`, then `written` once the chunk (and everything before it) has been handed on. A sink that has it
   * receives the initial state at the pace the client reads it instead of all at once.
   */
  writeThen?(chunk: Buffer, written: () => void): boolean;
  /**
   * Drops the stream at once, its queued bytes with it (a client that does not read would never see a final
   * ERROR frame queued behind them). Without it, a cut watcher gets an ERROR frame and an end.
   */
  destroy?(): void;
  /** Whether this watcher must be cut to protect the other streams of its connection. */
  congested?(): boolean;
}

/** Bytes of initial events one watcher writes per round (see pump): few watchers starting per second, or many. */
const FEW_WATCHERS = 16;
const ROUND_BYTES_FEW = 256 << 10;
const ROUND_BYTES_MANY = 4 << 10;
/** After this many bytes of initial state sent to watchers starting together, memory is handed back. */
const RELEASE_AFTER_BYTES = 16 << 20;

/** Encodes one watch event for one watcher's format. `first` is true for the watcher's first event. */
export type FrameEncoder = (
  type: EventType | 'BOOKMARK',
  entry: ObjectEntry | undefined,
  rv: number,
  first: boolean,
  initialEventsEnd?: boolean,
) => Buffer;

export interface WatchOptions {
  sink: WatchSink;
  /** Whether an object version is visible to this watcher (namespace, label and field selectors). */
  filter: ((e: ObjectEntry) => boolean) | undefined;
  encode: FrameEncoder;
  /** Frame cache key: watchers with the same format share encoded frames of unfiltered events. */
  format: string;
  bookmarks: boolean;
  timeoutMs: number;
  onClose?: () => void;
}

export interface HubOptions {
  bookmarkIntervalMs: number;
  /** A watcher with more than this many bytes queued is cut off with an ERROR event. */
  maxBufferedBytes: number;
  /** ERROR frame encoder (a Status object, whatever the watcher's format). */
  errorFrame: (code: number, reason: string, message: string) => Buffer;
}

class Watcher {
  lastRv = 0;
  first = true;
  closed = false;
  /** Initial state still being sent (a shared snapshot) and the next position in it; undefined once live. */
  initial: readonly ObjectEntry[] | undefined;
  next = 0;
  fromRv = 0;
  initialEventsEnd = false;
  /** Bytes of initial events written since the last wait. */
  roundBytes = 0;
  nextBookmark: number;
  readonly deadline: number;
  readonly o: WatchOptions;
  constructor(o: WatchOptions, now: number, bookmarkMs: number) {
    this.o = o;
    this.deadline = now + o.timeoutMs;
    this.nextBookmark = now + bookmarkMs;
  }
}

/**
 * What a hub reads: a numbered, bounded event log. A mirrored collection's view is one; a pass-through
 * resource's change feed (feed.ts) is another, with the same resourceVersions and 410 semantics.
 */
export type EventLog = Pick<CollectionView, 'rv' | 'logStartRv' | 'eventsAfter' | 'subscribe'>;

/**
 * Fan-out of one collection's events to its watchers: one reader (the view or change feed), many subscribers. Frames of
 * unfiltered watchers are encoded once per event and format and shared; a watcher that does not drain is cut
 * off rather than buffered without bound.
 */
export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  private ticker: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;
  private readonly view: EventLog;
  private readonly o: HubOptions;

  constructor(view: EventLog, o: HubOptions) {
    this.view = view;
    this.o = o;
    this.unsubscribe = view.subscribe({
      onEvents: (events) => this.dispatch(events),
      onReset: () => this.closeAll(410, 'Expired', 'the watch cache was reset; relist to continue'),
    });
  }

  get size(): number {
    return this.watchers.size;
  }

  /**
   * Starts a watch: `initial` are synthetic ADDED events (state at `fromRv`), then the log after `fromRv`,
   * then live events. Returns a function that ends the watch.
   */
  add(o: WatchOptions, initial: ObjectEntry[], fromRv: number, initialEventsEnd: boolean): () => void {
    const now = Date.now();
    const w = new Watcher(o, now, this.o.bookmarkIntervalMs);
    this.countStart(now);
    w.lastRv = fromRv;
    w.fromRv = fromRv;
    w.initial = initial;
    w.initialEventsEnd = initialEventsEnd;
    this.pumping++;
    this.watchers.add(w);
    this.pump(w);
    this.ensureTicker();
    return () => this.remove(w);
  }

  /**
   * Sends the initial state, then the log after `fromRv`, then goes live. The initial state goes out in
   * rounds, the next once the previous one was handed on: 256 KiB while few watchers are starting, 4 KiB each
   * when many are (more than 16 in two seconds), so 10,000 watchers starting at once do not each queue a copy of the collection (a burst
   * whose memory would stay with the process afterwards; after a large one it is handed back, see
   * memory.ts and BENCHMARKS.md "Watch"). Events committed meanwhile wait in the
   * view's log, as for any watcher that starts from an older resourceVersion.
   */
  /** Watchers still receiving their initial state, and the initial bytes sent since memory was handed back. */
  private pumping = 0;
  private pumped = 0;
  /** Watchers started in this second and the one before. */
  private starts = { second: 0, now: 0, before: 0 };

  private countStart(now: number): void {
    const second = Math.floor(now / 1000);
    const s = this.starts;
    if (second !== s.second) {
      s.before = second === s.second + 1 ? s.now : 0;
      s.now = 0;
      s.second = second;
    }
    s.now++;
  }

  private roundBytes(): number {
    return this.starts.now + this.starts.before <= FEW_WATCHERS ? ROUND_BYTES_FEW : ROUND_BYTES_MANY;
  }

  private pumpDone(): void {
    if (--this.pumping > 0 || this.pumped < RELEASE_AFTER_BYTES) return;
    this.pumped = 0;
    releaseMemory();
  }

  private pump(w: Watcher): void {
    const init = w.initial;
    if (!init || w.closed) return;
    const { filter, sink } = w.o;
    while (w.next < init.length) {
      const e = init[w.next++] as ObjectEntry;
      if (filter && !filter(e)) continue;
      const frame = w.o.encode('ADDED', e, e.rv, w.first);
      w.first = false;
      w.roundBytes += frame.length;
      this.pumped += frame.length;
      if (sink.writeThen && w.roundBytes >= this.roundBytes() && w.next < init.length) {
        w.roundBytes = 0;
        this.write(w, frame, e.rv, () => this.pump(w));
        return;
      }
      if (!this.write(w, frame, e.rv)) return;
    }
    w.initial = undefined;
    this.pumpDone();
    if (w.initialEventsEnd) this.send(w, 'BOOKMARK', undefined, w.fromRv, true);
    const backlog = this.view.eventsAfter(w.fromRv);
    if (backlog === undefined) {
      this.cut(w, 410, 'Expired', `too old resource version: ${w.fromRv} (${this.view.logStartRv})`);
    } else if (backlog.length > 0) {
      this.deliver(w, backlog);
    }
  }

  close(): void {
    this.closeAll(0, '', '');
    this.unsubscribe();
  }

  /** Ends every watch; with a code, sends an ERROR event first. */
  closeAll(code: number, reason: string, message: string): void {
    for (const w of [...this.watchers]) {
      if (code) this.cut(w, code, reason, message);
      else this.remove(w, true);
    }
  }

  /** How long the last fan-out took (ms): writing one batch of events to every watcher. */
  lastDispatchMs = 0;

  private dispatch(events: ViewEvent[]): void {
    const t0 = performance.now();
    for (const w of this.watchers) this.deliver(w, events);
    this.lastDispatchMs = performance.now() - t0;
  }

  private deliver(w: Watcher, events: ViewEvent[]): void {
    // Still sending its initial state: it reads these from the log when done.
    if (w.initial) return;
    const { filter } = w.o;
    for (const ev of events) {
      if (w.closed) return;
      if (ev.rv <= w.lastRv) continue;
      if (!filter) {
        this.sendShared(w, ev);
        continue;
      }
      // Selector transitions (what the apiserver's watch cache does): leaving the selector is a DELETED
      // (last visible state, stamped with this event's version); entering it is an ADDED.
      const now = filter(ev.entry);
      if (ev.type === 'MODIFIED') {
        const before = ev.prev ? filter(ev.prev) : false;
        if (now && before) this.sendShared(w, ev);
        else if (now) this.send(w, 'ADDED', ev.entry, ev.rv);
        else if (before && ev.prev) this.send(w, 'DELETED', withResourceVersion(ev.prev, ev.rv), ev.rv);
        else w.lastRv = ev.rv;
      } else if (now) {
        this.sendShared(w, ev);
      } else {
        w.lastRv = ev.rv;
      }
    }
  }

  private sendShared(w: Watcher, ev: ViewEvent): void {
    if (w.first) {
      this.send(w, ev.type, ev.entry, ev.rv);
      return;
    }
    let cache = frameCache.get(ev);
    if (!cache) frameCache.set(ev, (cache = new Map<string, Buffer>()));
    let frame = cache.get(w.o.format);
    if (!frame) cache.set(w.o.format, (frame = w.o.encode(ev.type, ev.entry, ev.rv, false)));
    this.write(w, frame, ev.rv);
  }

  private send(
    w: Watcher,
    type: EventType | 'BOOKMARK',
    e: ObjectEntry | undefined,
    rv: number,
    initialEnd = false,
  ): void {
    // Only Table rows carry column definitions, and only in the watcher's first row event.
    const isRow = type !== 'BOOKMARK';
    const frame = w.o.encode(type, e, rv, w.first && isRow, initialEnd);
    if (isRow) w.first = false;
    this.write(w, frame, rv);
  }

  /** Writes one frame; false when the watcher is (now) closed. */
  private write(w: Watcher, frame: Buffer, rv: number, written?: () => void): boolean {
    if (w.closed) return false;
    w.lastRv = Math.max(w.lastRv, rv);
    const { sink } = w.o;
    if (written && sink.writeThen) sink.writeThen(frame, written);
    else sink.write(frame);
    if (sink.buffered() > this.o.maxBufferedBytes || sink.congested?.()) {
      if (sink.destroy) {
        // Freed now, not when the client eventually disconnects.
        this.remove(w);
        sink.destroy();
      } else {
        this.cut(w, 410, 'Expired', 'the watch could not keep up with events (client too slow); relist to continue');
      }
      return false;
    }
    return true;
  }

  private cut(w: Watcher, code: number, reason: string, message: string): void {
    if (w.closed) return;
    w.o.sink.write(this.o.errorFrame(code, reason, message));
    this.remove(w, true);
  }

  private remove(w: Watcher, end = false): void {
    if (w.closed) return;
    w.closed = true;
    if (w.initial) this.pumpDone();
    this.watchers.delete(w);
    if (end) w.o.sink.end();
    w.o.onClose?.();
    if (this.watchers.size === 0 && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  private ensureTicker(): void {
    if (this.ticker) return;
    // One timer per collection, not per watcher: 10,000 watchers cost one interval.
    this.ticker = setInterval(() => this.tick(), Math.min(1000, this.o.bookmarkIntervalMs));
    this.ticker.unref();
  }

  private tick(): void {
    const now = Date.now();
    for (const w of [...this.watchers]) {
      if (now >= w.deadline) {
        this.remove(w, true);
        continue;
      }
      if (w.o.bookmarks && !w.initial && now >= w.nextBookmark) {
        w.nextBookmark = now + this.o.bookmarkIntervalMs;
        this.write(w, w.o.encode('BOOKMARK', undefined, Math.max(w.lastRv, this.view.rv), false), this.view.rv);
      }
    }
  }
}

/** Encoded frames per event and format, released with the event when it leaves the log. */
const frameCache = new WeakMap<ViewEvent, Map<string, Buffer>>();
