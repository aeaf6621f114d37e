import type { components } from '../../adapters/payments/upstream.ts';
import type { Charge } from './charges.ts';

/** An event as the payments API serializes it. */
export type PaymentEvent = components['schemas']['Event'];

/** A list query's cursor and range parameters, read from the URL. */
export interface PageQuery {
  limit: number;
  startingAfter: string | null;
  endingBefore: string | null;
  created: { gt?: number | undefined; gte?: number | undefined; lt?: number | undefined; lte?: number | undefined };
}

/**
 * One page of `rows` (newest first), the way every list of the API pages: `starting_after` gives the older
 * rows after a cursor, `ending_before` the newer rows just before one (the `limit` closest to it).
 * `position` orders a cursor id (-1 when unknown: the caller answers resource_missing).
 */
export function page<T extends { id: string; created: number }>(
  rows: T[],
  q: PageQuery,
  position: (id: string) => number | undefined,
  indexOf: (row: T) => number,
  missing: (id: string, param: string) => Error,
): { has_more: boolean; data: T[] } {
  const b = q.created;
  let out = rows.filter(
    (r) =>
      (b.gt === undefined || r.created > b.gt) &&
      (b.gte === undefined || r.created >= b.gte) &&
      (b.lt === undefined || r.created < b.lt) &&
      (b.lte === undefined || r.created <= b.lte),
  );
  if (q.endingBefore !== null) {
    const at = position(q.endingBefore);
    if (at === undefined) throw missing(q.endingBefore, 'ending_before');
    out = out.filter((r) => indexOf(r) > at);
    const hasMore = out.length > q.limit;
    return { has_more: hasMore, data: out.slice(-q.limit) };
  }
  if (q.startingAfter !== null) {
    const at = position(q.startingAfter);
    if (at === undefined) throw missing(q.startingAfter, 'starting_after');
    out = out.filter((r) => indexOf(r) < at);
  }
  return { has_more: out.length > q.limit, data: out.slice(0, q.limit) };
}

/**
 * The account's event log: every change made to a charge while the fake runs becomes an event
 * (`charge.succeeded`/`pending`/`failed` when created, `charge.refunded` or `charge.updated` with
 * `previous_attributes` when changed), newest first, with ids that order by sequence.
 */
export class EventLog {
  /** Oldest first. */
  private readonly events: PaymentEvent[] = [];
  private readonly seqOf = new Map<string, number>();
  private next = 0;

  get size(): number {
    return this.events.length;
  }

  /** Records a change of `charge` (a snapshot of it is kept) and returns the event. */
  emit(type: string, charge: Charge, created: number, previous?: Record<string, unknown>): PaymentEvent {
    const seq = this.next++;
    const id = `evt_1Fake${seq.toString(36).padStart(8, '0')}`;
    const ev: PaymentEvent = {
      id,
      object: 'event',
      type,
      created,
      livemode: false,
      data: { object: structuredClone(charge), ...(previous ? { previous_attributes: previous } : {}) },
    };
    this.events.push(ev);
    this.seqOf.set(id, seq);
    return ev;
  }

  /** Forgets every event (as the API does after its retention period): cursors naming them are unknown. */
  clear(): void {
    this.events.length = 0;
    this.seqOf.clear();
  }

  /** `GET /v1/events`: a type filter (`charge.*` matches by prefix), range, cursors and limit. */
  list(
    q: PageQuery,
    types: string[],
    missing: (id: string, param: string) => Error,
  ): { object: 'list'; url: string; has_more: boolean; data: PaymentEvent[] } {
    const match = (t: string) =>
      types.length === 0 || types.some((x) => (x.endsWith('*') ? t.startsWith(x.slice(0, -1)) : t === x));
    const rows = this.events.filter((e) => match(e.type)).reverse();
    const p = page(
      rows,
      q,
      (id) => this.seqOf.get(id),
      (e) => this.seqOf.get(e.id) ?? -1,
      missing,
    );
    return { object: 'list', url: '/v1/events', ...p };
  }
}
