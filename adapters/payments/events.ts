import type { AdapterContext, ChangeBatch, ObjectChange } from 'kubegate/sdk';
import { accountsOf, type Account } from './accounts.ts';
import { PaymentsError, callPayments, paymentsClient } from './client.ts';
import { chargeToObject } from './map.ts';
import type { PaymentsConfig } from './schema.ts';
import type { components } from './upstream.ts';

type PaymentEvent = components['schemas']['Event'];

/** Events read per call (the API's largest page); a longer backlog is read on the next call, at once. */
const PAGE = 100;

/** Event types that change an existing charge (the others of `charge.*` announce a new one). */
const CHANGING = new Set([
  'charge.updated',
  'charge.refunded',
  'charge.captured',
  'charge.expired',
  'charge.refund.updated',
]);

/** A cursor for "after this time" when the account has no charge event yet. */
const TIME = 't:';

/** The watch event of a charge event: a change of an existing charge, or a new one. */
export function changeType(ev: Pick<PaymentEvent, 'type' | 'data'>): ObjectChange['type'] {
  return ev.data.previous_attributes !== undefined || CHANGING.has(ev.type) ? 'MODIFIED' : 'ADDED';
}

/**
 * The charges' change feed: `GET /v1/events?type=charge.*`, read forward from the last event seen with
 * `ending_before` (the events just after it, newest first, reversed here to oldest first). Without a cursor it
 * starts at the newest charge event, or at the current time when there is none. An event whose object is not a
 * charge (`charge.dispute.*` carries a dispute) is passed over.
 *
 * @example
 * await readChargeChanges(ctx, 'evt_1Fake00000003'); // { changes: [{ type: 'MODIFIED', object: {...} }], cursor: 'evt_1Fake00000004' }
 */
export async function readChargeChanges(
  ctx: AdapterContext<PaymentsConfig>,
  since: string | undefined,
): Promise<ChangeBatch> {
  if (!ctx.config.accounts) return readAccount(ctx, accountsOf(ctx.config)[0], since);
  // With accounts: one feed per account, their cursors in one JSON object by namespace. A cursor of another
  // shape (the config gained accounts) is a lost place.
  let cursors: Record<string, string> | undefined;
  if (since !== undefined) {
    try {
      const v = JSON.parse(since) as unknown;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) cursors = v as Record<string, string>;
    } catch {
      cursors = undefined;
    }
  }
  const out: ChangeBatch = { changes: [], cursor: undefined };
  const next: Record<string, string> = {};
  for (const a of accountsOf(ctx.config)) {
    const ns = a.namespace ?? '';
    const own = since === undefined ? undefined : cursors?.[ns];
    const batch = await readAccount(ctx, a, own);
    // A cursor of another shape (the config gained accounts) is a lost place; an account without a cursor in
    // it (added to the config) starts now.
    if (since !== undefined && !cursors) out.reset = true;
    out.changes.push(...batch.changes);
    if (batch.cursor !== undefined) next[ns] = batch.cursor;
    if (batch.more) out.more = true;
    if (batch.reset) out.reset = true;
  }
  out.cursor = JSON.stringify(next);
  return out;
}

/** The change feed of one account (the charges of its namespace, or of the metadata "team"). */
async function readAccount(
  ctx: AdapterContext<PaymentsConfig>,
  account: Account | undefined,
  since: string | undefined,
): Promise<ChangeBatch> {
  const client = paymentsClient(ctx, account);
  const list = (query: { limit: number; ending_before?: string; created?: { gte: number } }) =>
    callPayments(ctx, 'GET /v1/events', () =>
      client.GET('/v1/events', { params: { query: { type: 'charge.*', ...query } }, signal: ctx.signal }),
    );
  const now = (): string => `${TIME}${Math.floor(Date.now() / 1000)}`;
  if (since === undefined) {
    const newest = (await list({ limit: 1 })).data[0];
    return { changes: [], cursor: newest ? newest.id : now() };
  }
  let page;
  try {
    page = since.startsWith(TIME)
      ? await list({ limit: PAGE, created: { gte: Number(since.slice(TIME.length)) || 0 } })
      : await list({ limit: PAGE, ending_before: since });
  } catch (err) {
    // The API keeps events for a while only: a cursor it forgot means changes may have been missed.
    if (err instanceof PaymentsError && err.upstreamCode === 'resource_missing' && err.param === 'ending_before') {
      const newest = (await list({ limit: 1 })).data[0];
      return { changes: [], cursor: newest ? newest.id : now(), reset: true };
    }
    throw err;
  }
  const changes: ObjectChange[] = [];
  for (const ev of [...page.data].reverse()) {
    const obj = ev.data.object as { object?: unknown };
    if (obj.object !== 'charge') continue;
    const object = chargeToObject(ev.data.object, ctx.config, account?.namespace);
    if (object) changes.push({ type: changeType(ev), object });
    else ctx.skip('a charge id does not have the prefix_alphanumerics shape; it cannot be named', ev.data.object.id);
  }
  const cursor = page.data[0]?.id ?? since;
  return { changes, cursor, more: page.has_more && !since.startsWith(TIME) };
}
