import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterContext, ObjectInput } from 'kubegate/sdk';
import { startFakePayments, type FakePayments } from '../../examples/fake-payments/server.ts';
import { listCustomers } from './customers.ts';
import { readChargeChanges } from './events.ts';
import { idToName } from './names.ts';
import type { PaymentsConfig } from './schema.ts';

const noop = () => undefined;
const log = { debug: noop, info: noop, warn: noop, error: noop };

describe('payments change feed and customers', () => {
  let fake: FakePayments;
  let skipped: { reason: string; item: unknown }[];
  const ctx = (config: Partial<PaymentsConfig> = {}): AdapterContext<PaymentsConfig> => ({
    config: { baseUrl: fake.url, apiKey: fake.apiKey, ...config },
    fetch: globalThis.fetch,
    signal: new AbortController().signal,
    log,
    skip: (reason, item) => skipped.push({ reason, item }),
  });

  beforeAll(async () => {
    fake = await startFakePayments({ charges: 20, customers: 45 });
  });
  afterAll(() => fake.close());

  it('starts at the current position, then returns new and changed charges oldest first', async () => {
    skipped = [];
    const start = await readChargeChanges(ctx(), undefined);
    expect(start.changes).toEqual([]);
    expect(start.cursor).toMatch(/^t:\d+$/); // no charge event yet: a time
    const a = fake.add({ status: 'succeeded', metadata: { team: 'checkout' }, amount_refunded: 0, refunded: false });
    const first = await readChargeChanges(ctx(), start.cursor);
    expect(first.changes.map((c) => [c.type, c.object.name])).toEqual([['ADDED', idToName(a.id)]]);
    expect(first.cursor).toMatch(/^evt_/);
    fake.refund(a.id);
    const b = fake.add({ status: 'pending' });
    const second = await readChargeChanges(ctx(), first.cursor);
    expect(second.changes.map((c) => [c.type, c.object.name])).toEqual([
      ['MODIFIED', idToName(a.id)],
      ['ADDED', idToName(b.id)],
    ]);
    expect(second.changes[0]?.object.status).toMatchObject({ refunded: true, amountRefunded: a.amount });
    expect(second.more).toBe(false);
    expect(await readChargeChanges(ctx(), second.cursor)).toEqual({
      changes: [],
      cursor: second.cursor,
      more: false,
    });
    // From nothing, once events exist: the newest one is "now".
    expect((await readChargeChanges(ctx(), undefined)).cursor).toBe(second.cursor);
  });

  it('reads a long backlog a page at a time and says more is waiting', async () => {
    const { cursor } = await readChargeChanges(ctx(), undefined);
    for (let i = 0; i < 130; i++) fake.add();
    const one = await readChargeChanges(ctx(), cursor);
    expect(one.changes).toHaveLength(100);
    expect(one.more).toBe(true);
    const two = await readChargeChanges(ctx(), one.cursor);
    expect(two.changes).toHaveLength(30);
    expect(two.more).toBe(false);
  });

  it('asks watchers to relist when the upstream forgot the cursor', async () => {
    const r = await readChargeChanges(ctx(), 'evt_forgotten');
    expect(r).toMatchObject({ changes: [], reset: true });
    expect(r.cursor).toMatch(/^evt_/);
  });

  const all = async (config: Partial<PaymentsConfig>) => {
    const out: ObjectInput[] = [];
    for await (const page of listCustomers(ctx(config))) out.push(...page);
    return out;
  };

  it('mirrors every customer within the bounds, paging through the list', async () => {
    skipped = [];
    const before = fake.calls.customers;
    const everyone = await all({});
    expect(everyone).toHaveLength(45);
    expect(new Set(everyone.map((c) => c.name)).size).toBe(45);
    expect(fake.calls.customers - before).toBe(1);
    expect(skipped).toEqual([]);
    expect(everyone[0]).toMatchObject({ namespace: 'checkout', spec: { email: 'billing@customer-1.example' } });
  });

  it('reports what a bound leaves out, and calls the upstream no more than the bound needs', async () => {
    skipped = [];
    const before = fake.calls.customers;
    const some = await all({ customers: { maxObjects: 10 } });
    expect(some).toHaveLength(10);
    expect(fake.calls.customers - before).toBe(1);
    expect(skipped.map((s) => s.reason)).toEqual([
      'more customers than customers.maxObjects (10); the oldest are not mirrored',
    ]);
    skipped = [];
    const perNs = await all({ customers: { maxPerNamespace: 3 } });
    const counts = new Map<string, number>();
    for (const c of perNs) counts.set(c.namespace ?? '', (counts.get(c.namespace ?? '') ?? 0) + 1);
    expect(Math.max(...counts.values())).toBe(3);
    expect(skipped.length).toBe(45 - perNs.length);
    expect(new Set(skipped.map((s) => s.reason)).size).toBe(1);
  });
});
