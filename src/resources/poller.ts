import type { AdapterContext, AdapterLogger, MirrorResource, ObjectInput } from '../sdk/types.ts';
import type { Change, Lease, Store } from '../store/types.ts';
import { FencedError } from '../store/types.ts';
import type { CollectionView } from './view.ts';
import { buildObject, rfc3339 } from './object.ts';
import { SkipError, SkipLedger } from './skips.ts';
import { RELEASE_AFTER_ITEMS, releaseMemory } from './memory.ts';
import { OwnError, failureReason } from '../resilience/reason.ts';

/** What the poller knows about the upstream's health; read by the server for Warnings and 503s. */
export interface PollStatus {
  lastAttempt: number | undefined;
  lastSuccess: number | undefined;
  /** Why the last poll failed, sanitized (a status code or a fixed phrase, never upstream text). */
  lastError: string | undefined;
  consecutiveFailures: number;
  polls: number;
  /** True while this replica holds the poll lease. */
  leader: boolean;
}

export interface PollerOptions {
  adapter: string;
  group: string;
  version: string;
  collection: string;
  resource: MirrorResource;
  config: unknown;
  intervalMs: number;
  view: CollectionView;
  store: Store;
  holder: string;
  leaseTtlMs: number;
  fetch: AdapterContext<unknown>['fetch'];
  log: AdapterLogger;
  now?: () => number;
  /** Called after every poll attempt (metrics). */
  onPoll?: (ok: boolean, ms: number, changes: number, error?: unknown) => void;
  /** Where skipped items are reported; by default a ledger of its own (logging through `log`). */
  skips?: SkipLedger;
}

export { rfc3339 };

/** A poll refused because it would delete too many objects at once (`deleteGuard`). */
export class DeleteGuardError extends OwnError {
  override name = 'DeleteGuardError';
}

/**
 * Polls one mirrored collection: list → map → diff against the view → commit through the store.
 * A failed or suspicious poll changes nothing; the failure is reported in {@link PollStatus}.
 */
export class Poller {
  readonly status: PollStatus = {
    lastAttempt: undefined,
    lastSuccess: undefined,
    lastError: undefined,
    consecutiveFailures: 0,
    polls: 0,
    leader: false,
  };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private abort = new AbortController();
  private lease: Lease | null = null;
  private stopped = false;
  private readonly o: PollerOptions;
  private readonly now: () => number;
  private firstPoll: Promise<void> | undefined;
  config: unknown;
  /** Items the last successful poll skipped, by reason. */
  readonly skips: SkipLedger;

  /** The configured poll interval. */
  get intervalMs(): number {
    return this.o.intervalMs;
  }

  constructor(o: PollerOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.config = o.config;
    this.skips = o.skips ?? new SkipLedger({ adapter: o.adapter, resource: o.collection, log: o.log, now: this.now });
  }

  /** Starts polling; the returned promise settles after the first attempt. */
  start(): Promise<void> {
    this.firstPoll = this.tick();
    return this.firstPoll;
  }

  /** Settles once the first poll attempt is over (success or not). */
  ready(): Promise<void> {
    return this.firstPoll ?? Promise.resolve();
  }

  /** Polls now; resolves after a poll that started after this call (config reload, tests). */
  pollNow(): Promise<void> {
    if (this.queued) return this.queued;
    if (this.running) {
      this.queued = this.running.then(() => {
        this.queued = undefined;
        return this.pollNow();
      });
      return this.queued;
    }
    this.running = this.pollOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort(new Error('kubegate is shutting down'));
    await this.running?.catch(() => undefined);
    if (this.lease) await this.o.store.releaseLease(this.o.collection, this.lease).catch(() => undefined);
  }

  private async tick(): Promise<void> {
    await this.pollNow().catch((err: unknown) => this.o.log.error('poll crashed', { reason: failureReason(err) }));
    if (!this.stopped) {
      // A replica waiting for another's first poll looks again soon rather than a whole interval later.
      const waiting = !this.status.leader && !this.o.view.synced;
      this.timer = setTimeout(() => void this.tick(), waiting ? Math.min(this.o.intervalMs, 1000) : this.o.intervalMs);
      this.timer.unref();
    }
  }

  private async pollOnce(): Promise<void> {
    const { store, collection } = this.o;
    try {
      this.lease = await store.acquireLease(collection, this.o.holder, this.o.leaseTtlMs);
    } catch (err) {
      this.lease = null;
      this.o.log.warn('could not reach the store for the poll lease', { collection, err: String(err) });
    }
    this.status.leader = this.lease !== null;
    if (!this.lease) return this.followEmpty();
    const started = this.now();
    this.status.lastAttempt = started;
    this.status.polls++;
    this.skips.beginPoll();
    try {
      const inputs = await this.listAll();
      const changes = this.diff(inputs);
      // An empty first result is committed too: it is how the other replicas learn the collection is synced.
      if (changes.length > 0 || !this.o.view.synced) await store.commit(collection, this.lease, changes);
      if (changes.length === 0) this.o.view.markSynced();
      this.status.lastSuccess = this.now();
      this.status.lastError = undefined;
      this.status.consecutiveFailures = 0;
      this.skips.endPoll();
      this.o.onPoll?.(true, this.now() - started, changes.length);
      if (inputs.length >= RELEASE_AFTER_ITEMS) releaseMemory();
    } catch (err) {
      this.skips.abandonPoll();
      if (err instanceof FencedError) this.lease = null;
      this.status.lastError = err instanceof FencedError ? 'another replica took the poll lease' : failureReason(err);
      this.status.consecutiveFailures++;
      this.o.log.warn('poll failed; keeping the last good data', { collection, reason: this.status.lastError });
      this.o.onPoll?.(false, this.now() - started, 0, err);
    }
  }

  /**
   * On a replica without the lease: a collection the lease holder found empty brings no event, so the view
   * learns it is synced from the store's snapshot (only when that snapshot is empty: objects arrive as events).
   */
  private async followEmpty(): Promise<void> {
    if (this.o.view.synced) return;
    try {
      const snap = await this.o.store.load(this.o.collection);
      if (snap.synced && snap.objects.length === 0) this.o.view.markSynced();
    } catch {
      // The store is unreachable: readiness reports it; the next tick looks again.
    }
  }

  private async listAll(): Promise<ObjectInput[]> {
    const ctx: AdapterContext<unknown> = {
      config: this.config,
      fetch: this.o.fetch,
      signal: this.abort.signal,
      log: this.o.log,
      skip: (reason) => this.skips.record('adapter', reason),
    };
    const result = this.o.resource.list(ctx);
    if (result instanceof Promise) return result;
    const out: ObjectInput[] = [];
    for await (const page of result) {
      if (Array.isArray(page)) out.push(...page);
      else out.push(page);
    }
    return out;
  }

  /** Maps inputs to objects and compares them with the view. Exposed for tests. */
  diff(inputs: ObjectInput[]): Change[] {
    const { view, resource, group, version } = this.o;
    const seen = new Set<string>();
    const changes: Change[] = [];
    const nowIso = rfc3339(this.now());
    const t = {
      group,
      version,
      kind: resource.kind,
      namespaced: resource.scope === 'Namespaced',
      schema: resource.schema,
    };
    for (const input of inputs) {
      try {
        const built = buildObject(input, t, (key) => view.get(key)?.creationTimestamp ?? nowIso);
        if (seen.has(built.key))
          throw new SkipError('duplicate', 'another item of this poll has the same name', built.key);
        seen.add(built.key);
        const prev = view.get(built.key);
        if (prev?.hash === built.hash) continue;
        changes.push({ type: prev ? 'MODIFIED' : 'ADDED', ...built });
      } catch (err) {
        this.skips.recordError(err);
      }
    }
    const deletions: Change[] = [];
    for (const e of view.sorted()) {
      if (!seen.has(e.key)) deletions.push({ type: 'DELETED', key: e.key, hash: e.hash, body: e.body });
    }
    const guard = resource.deleteGuard ?? {};
    const ratio = guard.maxDeleteRatio ?? 0.5;
    const minObjects = guard.minObjects ?? 4;
    if (view.size >= minObjects && deletions.length > ratio * view.size) {
      throw new DeleteGuardError(
        `the upstream returned ${seen.size} objects where ${view.size} were known; refusing to delete ` +
          `${deletions.length} (more than ${Math.round(ratio * 100)}%, deleteGuard.maxDeleteRatio)`,
      );
    }
    return [...changes, ...deletions];
  }
}
