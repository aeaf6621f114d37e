import type { ViewEvent, ViewListener } from './view.ts';

/** How many events, and how old, a {@link ReplayLog} keeps. */
export interface ReplayBounds {
  maxEvents: number;
  maxEventAgeMs: number;
}

/**
 * The numbered, bounded event log a watch hub replays from (watch.ts, EventLog): the mirror's view and the
 * pass-through change feed's log both keep one. It answers events after a resourceVersion (or none when they
 * have left the log: the watcher gets 410), tells listeners of new events, and wakes callers waiting for a
 * resourceVersion to be reached.
 */
export abstract class ReplayLog {
  rv = 0;
  /** Any resourceVersion >= logStartRv can be watched from (events after it are all in the log). */
  logStartRv = 0;
  protected log: ViewEvent[] = [];
  protected readonly listeners = new Set<ViewListener>();
  /** Waiters for a resourceVersion not reached yet. */
  private waiters: { rv: number; resolve: () => void }[] = [];

  private readonly bounds: ReplayBounds;
  protected readonly now: () => number;

  protected constructor(bounds: ReplayBounds, now: () => number) {
    this.bounds = bounds;
    this.now = now;
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

  /** Resolves once the log reached `rv`, or false after `ms`. */
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

  /** Drops events past the log's bounds (count, then age). */
  protected trimLog(now: number): void {
    const { maxEvents, maxEventAgeMs } = this.bounds;
    let drop = Math.max(0, this.log.length - maxEvents);
    while (drop < this.log.length && now - (this.log[drop]?.at ?? now) > maxEventAgeMs) drop++;
    if (drop > 0) {
      this.logStartRv = this.log[drop - 1]?.rv ?? this.logStartRv;
      this.log = this.log.slice(drop);
    }
  }

  /** Resolves the waiters whose resourceVersion is reached. */
  protected wake(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.rv <= this.rv);
    this.waiters = this.waiters.filter((w) => w.rv > this.rv);
    for (const w of ready) w.resolve();
  }
}
