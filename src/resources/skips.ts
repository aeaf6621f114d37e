import type { AdapterLogger } from '../sdk/types.ts';
import { rfc3339 } from './object.ts';
import { KubegateError } from '../errors.ts';

/**
 * Why an upstream item was not served. `kind` is a small fixed set (a metric label); `reason` is the text
 * operators read, worded without the item's identity so that one cause shared by many items is one reason.
 */
export type SkipKind = 'schema' | 'duplicate' | 'name' | 'namespace' | 'mapping' | 'adapter';

/** Thrown by object building for an item that cannot be served; `item` names it (sanitized, bounded). */
export class SkipError extends KubegateError {
  override name = 'SkipError';
  override readonly code: string = 'KUBEGATE_SKIPPED_ITEM';
  readonly kind: SkipKind;
  readonly reason: string;
  readonly item: string | undefined;
  constructor(kind: SkipKind, reason: string, item?: string) {
    super(item === undefined ? reason : `item "${item}": ${reason}`);
    this.kind = kind;
    this.reason = reason;
    this.item = item;
  }
}

/** One skipped item: why, and which one when known (namespace/name as the upstream named it). */
export interface SkippedItem {
  kind: SkipKind;
  reason: string;
  item?: string;
}

/** One distinct reason, as `kubectl get adapters -o yaml` lists it. */
export interface SkipRecord {
  /** `plural.group` of the resource the items belong to. */
  resource: string;
  kind: SkipKind;
  reason: string;
  /** Items skipped for this reason in the last poll (mirror) or since it was first seen (pass-through). */
  count: number;
  /** Key of one item skipped for this reason (namespace/name as the upstream named it), when known. */
  example?: string;
  /** RFC 3339 time of the last skip for this reason. */
  lastSeen: string;
}

interface Entry {
  kind: SkipKind;
  reason: string;
  count: number;
  example: string | undefined;
  lastSeen: number;
}

export interface SkipLedgerOptions {
  adapter: string;
  /** `plural.group`. */
  resource: string;
  log: AdapterLogger;
  /** Counts skipped items (kubegate_skipped_items_total). */
  count?: (kind: SkipKind, n: number) => void;
  /** Sees every skipped item (the test kit reports each one). */
  onSkip?: (skip: SkippedItem) => void;
  /** Distinct reasons kept; further ones are folded into one "other reasons" entry. Default 32. */
  maxReasons?: number;
  /**
   * Pass-through resources have no polls: a reason lasts this long after it was last seen. Default 10 minutes.
   * Mirrored resources bracket each poll with {@link SkipLedger.beginPoll} and {@link SkipLedger.endPoll}: a
   * reason lasts as long as polls keep meeting it.
   */
  retainMs?: number;
  now?: () => number;
}

const MAX_TEXT = 200;
const OTHER = 'other reasons (too many distinct reasons to list)';

const bounded = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s);

/**
 * The skipped items of one resource: each distinct reason is logged once when it appears (not once per poll),
 * counted, listed by the Adapter self-resource and turned into a Warning on reads while it lasts. Bounded:
 * at most `maxReasons` reasons are kept, the rest share one entry.
 */
export class SkipLedger {
  private readonly o: SkipLedgerOptions;
  private readonly now: () => number;
  private current = new Map<string, Entry>();
  /** Reasons of the poll under way (mirror); undefined between polls. */
  private pending: Map<string, Entry> | undefined;

  constructor(o: SkipLedgerOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
  }

  /** Starts a poll: what it meets replaces the current reasons when it succeeds. */
  beginPoll(): void {
    this.pending = new Map();
  }

  /** Ends a successful poll: reasons it did not meet are resolved. */
  endPoll(): void {
    if (this.pending) this.current = this.pending;
    this.pending = undefined;
  }

  /** Ends a failed poll: the last good data is kept, and so are its reasons. */
  abandonPoll(): void {
    this.pending = undefined;
  }

  /** Records one skipped item. */
  record(kind: SkipKind, reason: string, item?: string): void {
    this.expire();
    const into = this.pending ?? this.current;
    let text = bounded(reason);
    let key = `${kind}\u0000${text}`;
    if (!into.has(key) && into.size >= (this.o.maxReasons ?? 32)) {
      text = OTHER;
      key = `${kind}\u0000${text}`;
    }
    const now = this.now();
    let e = into.get(key);
    if (!e) {
      e = { kind, reason: text, count: 0, example: undefined, lastSeen: now };
      into.set(key, e);
      // Logged when a reason appears, not at every poll that meets it again.
      if (into === this.current || !this.current.has(key))
        this.o.log.warn('skipped upstream items', {
          resource: this.o.resource,
          kind,
          reason: text,
          ...(item !== undefined ? { item: bounded(item) } : {}),
        });
    }
    e.count++;
    e.lastSeen = now;
    if (item !== undefined) e.example = bounded(item);
    this.o.count?.(kind, 1);
    this.o.onSkip?.({ kind, reason: bounded(reason), ...(item !== undefined ? { item: bounded(item) } : {}) });
  }

  /** Records a thrown building error (a {@link SkipError}; anything else counts as a mapping error). */
  recordError(err: unknown, item?: string): void {
    if (err instanceof SkipError) this.record(err.kind, err.reason, err.item ?? item);
    else this.record('mapping', err instanceof Error ? err.message : String(err), item);
  }

  private expire(): void {
    if (this.o.retainMs === undefined) return;
    const cutoff = this.now() - this.o.retainMs;
    for (const [k, e] of this.current) if (e.lastSeen < cutoff) this.current.delete(k);
  }

  /** The current reasons, most items first. */
  list(): SkipRecord[] {
    this.expire();
    return [...this.current.values()]
      .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1))
      .map((e) => ({
        resource: this.o.resource,
        kind: e.kind,
        reason: e.reason,
        count: e.count,
        ...(e.example !== undefined ? { example: e.example } : {}),
        lastSeen: rfc3339(e.lastSeen),
      }));
  }

  /** Items skipped for every current reason together. */
  total(): number {
    return this.list().reduce((n, r) => n + r.count, 0);
  }

  /** The text of a Warning for reads of this resource, or undefined when nothing is skipped. */
  warning(): string | undefined {
    return skipWarning(this.o.adapter, this.o.resource, this.list());
  }
}

/** The Warning text for reads of a resource with skipped items (most frequent reason first). */
export function skipWarning(
  adapter: string,
  resource: string,
  reasons: readonly Pick<SkipRecord, 'reason' | 'count' | 'example'>[],
): string | undefined {
  const first = reasons[0];
  if (!first) return undefined;
  const n = reasons.reduce((s, r) => s + r.count, 0);
  const example = first.example !== undefined ? ` (e.g. ${first.example})` : '';
  const more = reasons.length > 1 ? ` and ${reasons.length - 1} more reason${reasons.length > 2 ? 's' : ''}` : '';
  return (
    `${adapter}: ${n} upstream item${n === 1 ? '' : 's'} of ${resource} skipped: ` +
    `${first.reason}${example}${more}; see kubectl get adapters ${adapter} -o yaml`
  );
}

/** Groups one fetch's skips by reason (what a cached pass-through page carries), at most `max` reasons. */
export function summarizeSkips(
  skips: readonly { reason: string; item?: string | undefined }[],
  max = 8,
): { reason: string; count: number; example?: string }[] {
  const by = new Map<string, { reason: string; count: number; example?: string }>();
  for (const s of skips) {
    let e = by.get(s.reason);
    if (!e) {
      if (by.size >= max) continue;
      by.set(s.reason, (e = { reason: bounded(s.reason), count: 0 }));
    }
    e.count++;
    if (s.item !== undefined) e.example = bounded(s.item);
  }
  return [...by.values()].sort((a, b) => b.count - a.count);
}
