import { KubegateError } from '../errors.ts';
/**
 * The Store: where a collection's resourceVersion counter, snapshot and event stream live.
 * `memory` keeps them in this process; `redis` shares them between replicas. Replicas never serve from the
 * Store directly: each keeps a local view fed by {@link Store.subscribe} (docs/architecture.md, "High availability").
 */

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** An object as stored: its JSON without resourceVersion (each replica adds it when it encodes). */
export interface StoredObject {
  key: string;
  rv: number;
  hash: string;
  body: string;
}

/** One change proposed by the poller; the store gives it its resourceVersion. */
export interface Change {
  type: EventType;
  key: string;
  hash: string;
  /** Object JSON without resourceVersion; for DELETED, the last known state. */
  body: string;
}

/** A committed change. */
export interface StoredEvent extends Change {
  rv: number;
}

export interface CollectionSnapshot {
  rv: number;
  objects: StoredObject[];
  /** True once a poll has committed to this collection (an empty collection can be synced). */
  synced: boolean;
}

export interface Lease {
  /** Fencing token: increases every time the lease changes hands. */
  fence: number;
  holder: string;
}

export interface Subscription {
  close(): void;
}

export interface SubscribeHandlers {
  /** Committed events, in resourceVersion order, each delivered once. */
  onEvents(events: StoredEvent[]): void;
  /** The stream cannot bridge a gap (trimmed or store lost): the view must reload the snapshot. */
  onReset(snapshot: CollectionSnapshot): void;
}

export interface Store {
  readonly type: 'memory' | 'redis';
  /** Current snapshot (warm start). */
  load(collection: string): Promise<CollectionSnapshot>;
  /** Acquire or renew the poll lease; returns it when `holder` holds it, null when another replica does. */
  acquireLease(collection: string, holder: string, ttlMs: number): Promise<Lease | null>;
  /** Give the lease up (graceful shutdown) so another replica takes over at once. */
  releaseLease(collection: string, lease: Lease): Promise<void>;
  /**
   * Atomically: check the fence still holds, give each change the next resourceVersion, apply it to the
   * snapshot and append it to the event stream. Throws {@link FencedError} when the lease was lost.
   */
  commit(collection: string, lease: Lease, changes: Change[]): Promise<StoredEvent[]>;
  /** Tail committed events after `afterRv`. */
  subscribe(collection: string, afterRv: number, handlers: SubscribeHandlers): Subscription;
  /** True while the store is reachable. */
  healthy(): boolean;
  /** When the store became unreachable (ms since epoch), if it is now. */
  downSince?(): number | undefined;
  close(): Promise<void>;
}

/** The lease was taken over by another replica: this writer must stop. */
export class FencedError extends KubegateError {
  override name = 'FencedError';
  override readonly code: string = 'KUBEGATE_FENCED';
}
