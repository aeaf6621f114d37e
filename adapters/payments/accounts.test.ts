import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterContext, ObjectInput, PageRequest, PassThroughResource, WriteContext } from 'kubegate/sdk';
import { startFakeAccounts, type FakeAccounts } from '../../examples/fake-payments/accounts.ts';
import adapter from './index.ts';
import { listCustomers } from './customers.ts';
import { refunds } from './refunds.ts';
import { readChargeChanges } from './events.ts';
import { idToName } from './names.ts';
import type { PaymentsConfig } from './schema.ts';

const charges = adapter.resources[0] as PassThroughResource<PaymentsConfig>;
const noop = () => undefined;
const log = { debug: noop, info: noop, warn: noop, error: noop };
const KEY_A = 'sk_test_accountA000000001';
const KEY_B = 'sk_test_accountB000000002';

describe('payments accounts bound to namespaces', () => {
  let f: FakeAccounts;
  const config = (): PaymentsConfig => ({
    baseUrl: f.url,
    apiKey: KEY_A,
    accounts: [
      { namespace: 'checkout', apiKey: KEY_A },
      { namespace: 'billing', apiKey: KEY_B },
      { namespace: 'growth', account: 'acct_2' }, // connected: the platform key (A's) with Stripe-Account
    ],
  });
  const ctx = (): AdapterContext<PaymentsConfig> => ({
    config: config(),
    fetch: globalThis.fetch,
    signal: new AbortController().signal,
    log,
    skip: noop,
  });
  const page = (p: Partial<PageRequest>): PageRequest => ({
    limit: 100,
    cursor: undefined,
    namespace: undefined,
    labels: [],
    fields: [],
    ...p,
  });
  const listAll = async (namespace: string | undefined) => {
    const items: ObjectInput[] = [];
    let cursor: string | undefined;
    do {
      const r = await charges.listPage(ctx(), page({ namespace, cursor, limit: 7 }));
      items.push(...r.items);
      cursor = r.cursor;
    } while (cursor);
    return items;
  };

  beforeAll(async () => {
    f = await startFakeAccounts([
      { apiKey: KEY_A, seed: 1, charges: 10 },
      { apiKey: KEY_B, seed: 2, charges: 12 },
      { apiKey: 'sk_test_accountC000000003', seed: 3, charges: 5 },
    ]);
  });
  afterAll(() => f.close());

  it("lists a namespace's account only, with its own credentials, and every account across namespaces", async () => {
    const billing = await listAll('billing');
    expect(billing).toHaveLength(12);
    expect(billing.every((c) => c.namespace === 'billing')).toBe(true);
    expect(f.accounts[1]!.calls.list).toBeGreaterThan(0);
    expect((await listAll('growth')).map((c) => c.namespace)).toEqual(Array(5).fill('growth'));
    expect(await listAll('platform')).toEqual([]); // bound to no account
    const all = await listAll(undefined);
    expect(all).toHaveLength(27);
    expect(new Set(all.map((c) => c.namespace))).toEqual(new Set(['checkout', 'billing', 'growth']));
  });

  it("gets a charge only in its account's namespace", async () => {
    const c = f.accounts[1]!.add({ metadata: { team: 'checkout' } });
    const name = idToName(c.id) ?? '';
    expect((await charges.get(ctx(), { name, namespace: 'billing' }))?.namespace).toBe('billing');
    expect(await charges.get(ctx(), { name, namespace: 'checkout' })).toBeUndefined();
  });

  it("reads every account's change feed, each change in its account's namespace", async () => {
    const start = await readChargeChanges(ctx(), undefined);
    expect(Object.keys(JSON.parse(start.cursor ?? '{}') as object).sort()).toEqual(['billing', 'checkout', 'growth']);
    const a = f.accounts[0]!.add();
    const c = f.accounts[2]!.add();
    const next = await readChargeChanges(ctx(), start.cursor);
    expect(next.changes.map((x) => [x.type, x.object.name, x.object.namespace])).toEqual([
      ['ADDED', idToName(a.id), 'checkout'],
      ['ADDED', idToName(c.id), 'growth'],
    ]);
    // A cursor from before accounts were configured: the place is lost, watchers relist.
    expect(await readChargeChanges(ctx(), 'evt_1Fake00000001')).toMatchObject({ changes: [], reset: true });
  });

  it("mirrors every account's customers in its namespace", async () => {
    const out: ObjectInput[] = [];
    for await (const p of listCustomers(ctx())) out.push(...p);
    expect(out).toHaveLength(60);
    expect(out.filter((c) => c.namespace === 'billing')).toHaveLength(20);
  });

  it("creates, lists, updates and cancels refunds with the account of the refund's namespace", async () => {
    const refundsOf = refunds;
    const write = (op: string): WriteContext<PaymentsConfig> => ({
      ...ctx(),
      idempotencyKey: `kubegate-test-${op}`,
      user: { name: 'alice', groups: [] },
    });
    const charge = f.accounts[2]!.add({ metadata: {} });
    const obj = {
      name: 'r1',
      namespace: 'growth',
      labels: {},
      annotations: {},
      spec: { charge: charge.id, amount: 100 },
    };
    // Admission refuses a namespace bound to no account (dry runs too); the growth account is a connected one.
    const admit = (namespace: string) =>
      refundsOf.admission?.validate?.(ctx(), {
        operation: 'CREATE',
        object: { ...obj, namespace },
        dryRun: true,
        user: { name: 'alice', groups: [] },
      });
    expect(await admit('platform')).toEqual([expect.objectContaining({ field: 'metadata.namespace' })]);
    expect(await admit('growth')).toEqual([]);
    const created = await refundsOf.create!(write('create'), obj);
    expect(created).toMatchObject({ name: 'r1', namespace: 'growth' });
    expect(f.accounts[2]!.refunds.refunds).toHaveLength(1);
    expect(f.accounts[0]!.refunds.refunds).toHaveLength(0);
    const listed: ObjectInput[] = [];
    for await (const p of refundsOf.list(ctx()) as AsyncIterable<ObjectInput[]>) listed.push(...p);
    expect(listed.map((r) => [r.name, r.namespace])).toEqual([['r1', 'growth']]);
    const served = {
      metadata: {
        name: 'r1',
        namespace: 'growth',
        uid: 'u1',
        resourceVersion: '1',
        annotations: created.annotations ?? {},
      },
      spec: created.spec,
      status: created.status,
    };
    await refundsOf.update!(write('update'), { ...obj, labels: { ticket: 't-1' } }, served);
    expect(f.accounts[2]!.refunds.refunds[0]?.metadata).toMatchObject({ ticket: 't-1' });
    await refundsOf.delete!(write('delete'), served);
    expect(f.accounts[2]!.refunds.counters.cancels).toBe(1);
    expect(f.accounts[0]!.refunds.counters.cancels).toBe(0);
  });
});
