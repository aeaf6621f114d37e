import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterContext, ObjectInput, PageRequest, PassThroughResource, UpstreamFetch } from 'kubegate/sdk';
import { createUpstreamClient } from '../../src/resilience/fetch.ts';
import { startFakePayments, type Charge, type FakePayments } from '../../examples/fake-payments/server.ts';
import adapter from './index.ts';
import { PaymentsError } from './client.ts';
import { DASHBOARD_ANNOTATION, ID_ANNOTATION } from './map.ts';
import { idToName } from './names.ts';
import { ChargeSpec, ChargeStatus, PaymentsConfig } from './schema.ts';

const charges = adapter.resources[0] as PassThroughResource<PaymentsConfig>;
const noop = () => undefined;
const log = { debug: noop, info: noop, warn: noop, error: noop };

/** The error a promise rejects with; fails the test if it resolves. */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('payments adapter against the fake payments API', () => {
  let fake: FakePayments;
  let everything: Charge[];
  const skipped: string[] = [];

  const ctx = (o: { apiKey?: string; fetch?: UpstreamFetch } = {}): AdapterContext<PaymentsConfig> => ({
    config: { baseUrl: fake.url, apiKey: o.apiKey ?? fake.apiKey },
    fetch: o.fetch ?? globalThis.fetch,
    signal: new AbortController().signal,
    log,
    skip: (reason) => skipped.push(reason),
  });
  const page = (p: Partial<PageRequest> = {}): PageRequest => ({
    limit: 100,
    cursor: undefined,
    namespace: undefined,
    labels: [],
    fields: [],
    ...p,
  });
  const listAll = async (p: Partial<PageRequest> = {}, c = ctx()) => {
    const items: ObjectInput[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await charges.listPage(c, page({ ...p, cursor }));
      items.push(...res.items);
      cursor = res.cursor;
      pages++;
    } while (cursor);
    return { items, pages };
  };

  beforeAll(async () => {
    fake = await startFakePayments({ charges: 250, seed: 7 });
    everything = [];
    let after = '';
    for (;;) {
      const res = await fetch(`${fake.url}/v1/charges?limit=100${after}`, {
        headers: { authorization: `Bearer ${fake.apiKey}` },
      });
      const body = (await res.json()) as { has_more: boolean; data: Charge[] };
      everything.push(...body.data);
      if (!body.has_more) break;
      after = `&starting_after=${body.data.at(-1)?.id ?? ''}`;
    }
  });
  afterAll(() => fake.close());

  it('declares a namespaced pass-through Charge in payments.kubegate.dev/v1alpha1', () => {
    expect(adapter).toMatchObject({ name: 'payments', group: 'payments.kubegate.dev', version: 'v1alpha1' });
    expect(charges).toMatchObject({
      kind: 'Charge',
      plural: 'charges',
      shortNames: ['ch'],
      categories: ['external', 'payments'],
      scope: 'Namespaced',
      mode: 'passthrough',
      maxPageSize: 100,
      pushDown: { labels: ['customer'] },
    });
    const config = Value.Default(PaymentsConfig, { baseUrl: 'https://api.stripe.com', apiKey: 'sk_test_x' });
    expect(Value.Check(PaymentsConfig, config)).toBe(true);
    expect(config).toMatchObject({ defaultNamespace: 'default' });
  });

  it('lists the whole collection in 3 pages of one upstream call each', async () => {
    const before = fake.calls.list;
    const { items, pages } = await listAll({ limit: 500 });
    expect(pages).toBe(3);
    expect(fake.calls.list - before).toBe(3);
    expect(items.map((i) => i.name)).toEqual(everything.map((c) => idToName(c.id)));
    expect(items.map((i) => i.annotations?.[ID_ANNOTATION])).toEqual(everything.map((c) => c.id));
    expect(skipped).toEqual([]);
  });

  it('maps namespaces, labels, annotations, spec and status, valid against the schemas', async () => {
    const { items } = await listAll();
    expect(new Set(items.map((i) => i.namespace))).toEqual(
      new Set(['checkout', 'billing', 'growth', 'mobile-apps', 'platform', 'default']),
    );
    for (const [i, item] of items.entries()) {
      const c = everything[i] as Charge;
      expect(Value.Check(ChargeSpec, item.spec), JSON.stringify([...Value.Errors(ChargeSpec, item.spec)])).toBe(true);
      expect(Value.Check(ChargeStatus, item.status)).toBe(true);
      expect(item.labels).toMatchObject({ status: c.status, currency: c.currency, order_id: c.metadata.order_id });
      expect(item.labels?.customer ?? null).toBe(c.customer);
      expect(item.creationTimestamp).toEqual(new Date(c.created * 1000));
      expect(item.annotations?.[DASHBOARD_ANNOTATION]).toBe(`https://dashboard.stripe.com/test/payments/${c.id}`);
    }
    const euro = items.find((i) => (i.spec as ChargeSpec).currency === 'eur');
    const s = euro?.spec as ChargeSpec;
    expect(s.amountDisplay).toBe(`${Math.trunc(s.amount / 100)}.${String(s.amount % 100).padStart(2, '0')} EUR`);
    expect(JSON.stringify(items)).not.toContain(fake.apiKey);
  });

  it('pushes the customer label (and spec.customer field) down to the upstream filter', async () => {
    const customer = everything.find((c) => c.customer)?.customer ?? '';
    const want = everything.filter((c) => c.customer === customer).map((c) => idToName(c.id));
    const before = fake.calls.list;
    const byLabel = await charges.listPage(ctx(), page({ labels: [{ key: 'customer', value: customer }] }));
    expect(fake.calls.list - before).toBe(1);
    expect(byLabel.items.map((i) => i.name)).toEqual(want);
    expect(byLabel.items.length).toBeLessThan(everything.length / 5);
    expect(byLabel.cursor).toBeUndefined();
    const byField = await charges.listPage(ctx(), page({ fields: [{ key: 'spec.customer', value: customer }] }));
    expect(byField.items.map((i) => i.name)).toEqual(want);
  });

  it('keeps the upstream customer in the customer label over a metadata key of that name', async () => {
    const c = fake.add({ customer: everything.find((x) => x.customer)?.customer ?? null, metadata: { customer: 'x' } });
    try {
      const first = (await charges.listPage(ctx(), page({ limit: 1 }))).items[0];
      expect(first?.name).toBe(idToName(c.id));
      expect(first?.labels?.customer).toBe(c.customer);
    } finally {
      fake.remove(c.id);
    }
  });

  it('answers a namespaced page with every charge of the upstream page (the framework filters)', async () => {
    const res = await charges.listPage(ctx(), page({ limit: 20, namespace: 'checkout' }));
    expect(res.items).toHaveLength(20);
    expect(res.cursor).toBe(everything[19]?.id);
  });

  it('gets a charge by the name a list gave it, in its namespace only', async () => {
    const { items } = await listAll();
    for (const item of items.slice(0, 25)) {
      expect(await charges.get(ctx(), { name: item.name, namespace: item.namespace })).toEqual(item);
    }
    const one = items[0] as ObjectInput;
    const other = one.namespace === 'billing' ? 'checkout' : 'billing';
    expect(await charges.get(ctx(), { name: one.name, namespace: other })).toBeUndefined();
  });

  it('answers undefined for a missing charge and for a name no id maps to', async () => {
    expect(await charges.get(ctx(), { name: 'ch-3-nope-nope', namespace: 'default' })).toBeUndefined();
    const before = fake.calls.get;
    expect(await charges.get(ctx(), { name: 'not_a_name', namespace: 'default' })).toBeUndefined();
    expect(fake.calls.get).toBe(before);
  });

  it('fails with the status, never the upstream message or the key, on a wrong key', async () => {
    const apiKey = 'sk_test_51WrongKeyForTheTestOnly5678';
    const err = await failure(charges.listPage(ctx({ apiKey }), page()));
    expect(err).toBeInstanceOf(PaymentsError);
    expect(err.message).toBe('payments: GET /v1/charges answered 401');
    // The API's words are kept for the adapter's own decisions, masked, and never shown.
    expect(err).toMatchObject({ upstreamMessage: 'Invalid API Key provided: sk_test_****5678' });
    await expect(charges.get(ctx({ apiKey }), { name: 'ch-abc', namespace: 'default' })).rejects.toThrow(/401/);
  });

  it('reads an unknown-customer error on a pushed-down filter as an empty list', async () => {
    const missing: UpstreamFetch = () =>
      Promise.resolve(
        Response.json(
          {
            error: {
              type: 'invalid_request_error',
              code: 'resource_missing',
              param: 'customer',
              message: "No such customer: 'cus_x'",
            },
          },
          { status: 400 },
        ),
      );
    const res = await charges.listPage(
      ctx({ fetch: missing }),
      page({ labels: [{ key: 'customer', value: 'cus_x' }] }),
    );
    expect(res).toEqual({ items: [] });
    await expect(charges.listPage(ctx({ fetch: missing }), page())).rejects.toThrow(/400/);
  });

  it("works through the framework's resilience fetch, which throws on non-2xx answers", async () => {
    const upstream = createUpstreamClient({ retries: 0, rateLimitPerSecond: 0 });
    const c = ctx({ fetch: upstream.fetch });
    const { items } = await listAll({}, c);
    expect(items).toHaveLength(everything.length);
    const first = items[0] as ObjectInput;
    expect(await charges.get(c, { name: first.name, namespace: first.namespace })).toEqual(first);
    expect(await charges.get(c, { name: 'ch-3-nope-nope', namespace: 'default' })).toBeUndefined();
    const apiKey = 'sk_test_51WrongKeyForTheTestOnly5678';
    const bad = ctx({ apiKey, fetch: createUpstreamClient({ retries: 0, rateLimitPerSecond: 0 }).fetch });
    const err = await failure(charges.listPage(bad, page()));
    expect(err.message).toMatch(/answered 401$/);
    expect(err.message).not.toContain(apiKey);
  });

  it('fails with 429 when rate limited', async () => {
    fake.setRateLimit(1);
    try {
      const results = await Promise.allSettled([1, 2, 3].map(() => charges.listPage(ctx(), page({ limit: 1 }))));
      const reasons = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      expect(reasons.length).toBeGreaterThan(0);
      expect(reasons[0]).toMatch(/answered 429 \(rate_limit\)$/);
    } finally {
      fake.setRateLimit(null);
    }
  });
});
