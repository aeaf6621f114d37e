import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterContext, ObjectInput, PageRequest, PassThroughResource } from 'kubegate/sdk';
import { startFakeAccounts, type FakeAccounts } from '../../examples/fake-payments/accounts.ts';
import adapter from './index.ts';
import { listCustomers } from './customers.ts';
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
});
