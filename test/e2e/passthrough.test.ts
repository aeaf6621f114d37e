import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakePayments, type FakePayments } from '../../examples/fake-payments/server.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';

// A pass-through resource (payments charges): lists and gets forwarded to the fake Stripe-shaped upstream,
// cached per query, coalesced, paged with continue tokens that carry the upstream cursor.
let pay: FakePayments;
let gw: TestGateway;
const P = '/apis/payments.kubegate.dev/v1alpha1';

beforeAll(async () => {
  pay = await startFakePayments({ port: 0, charges: 300 });
  gw = await startTestGateway({
    adapters: [
      { name: 'payments', module: './adapters/payments/index.ts', config: { baseUrl: pay.url, apiKey: pay.apiKey } },
    ],
  });
});
afterAll(async () => {
  await gw.close();
  await pay.close().catch(() => undefined);
});

interface ChargeList {
  metadata: { resourceVersion: string; continue?: string };
  items: { metadata: { name: string; namespace: string; labels: Record<string, string> } }[];
}

describe('pass-through charges', () => {
  it('kubectl get charges -A pages through the whole upstream collection', async () => {
    const out = await kubectlOk(gw.kubeconfig, ['get', 'charges', '-A', '-o', 'name']);
    const names = out.trim().split('\n');
    expect(names).toHaveLength(300);
    expect(new Set(names).size).toBe(300);
  });

  it('namespaces, label push-down and get work through kubectl', async () => {
    const all = JSON.parse(await kubectlOk(gw.kubeconfig, ['get', 'charges', '-A', '-o', 'json'])) as ChargeList;
    const one = all.items.find((i) => i.metadata.namespace === 'checkout')!;
    const customer = one.metadata.labels.customer!;
    const before = pay.calls.list;
    const filtered = JSON.parse(
      await kubectlOk(gw.kubeconfig, ['get', 'charges', '-n', 'checkout', '-l', `customer=${customer}`, '-o', 'json']),
    ) as ChargeList;
    expect(filtered.items.length).toBeGreaterThan(0);
    expect(
      filtered.items.every((i) => i.metadata.namespace === 'checkout' && i.metadata.labels.customer === customer),
    ).toBe(true);
    expect(filtered.items.length).toBe(
      all.items.filter((i) => i.metadata.namespace === 'checkout' && i.metadata.labels.customer === customer).length,
    );
    expect(pay.calls.list - before).toBeLessThanOrEqual(2); // pushed down: the upstream filtered by customer
    const yaml = await kubectlOk(gw.kubeconfig, ['get', 'charge', one.metadata.name, '-n', 'checkout', '-o', 'yaml']);
    expect(yaml).toContain(`name: ${one.metadata.name}`);
    const missing = await kubectl(gw.kubeconfig, ['get', 'charge', 'ch-nosuch', '-n', 'checkout']);
    expect(missing.stderr.trim()).toBe(
      'Error from server (NotFound): charges.payments.kubegate.dev "ch-nosuch" not found',
    );
  });

  it('coalesces 100 concurrent identical lists into one upstream call, then serves the cache', async () => {
    const path = `${P}/charges?limit=50&labelSelector=status%3Dsucceeded`;
    const before = pay.calls.list;
    const results = await Promise.all(Array.from({ length: 100 }, () => gw.get(path)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.body)).size).toBe(1);
    expect(pay.calls.list - before).toBe(1);
    await gw.get(path);
    expect(pay.calls.list - before).toBe(1);
  });

  it('continue tokens carry the upstream cursor and garbage ones are a 400', async () => {
    const first = JSON.parse((await gw.get(`${P}/charges?limit=100`)).body) as ChargeList;
    expect(first.metadata.continue).toBeTruthy();
    const second = JSON.parse(
      (await gw.get(`${P}/charges?limit=100&continue=${encodeURIComponent(first.metadata.continue!)}`)).body,
    ) as ChargeList;
    expect(second.items[0]?.metadata.name).not.toBe(first.items[0]?.metadata.name);
    const bad = await gw.get(`${P}/charges?limit=100&continue=garbage`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
  });

  it('watch is offered through the change feed (passthrough-watch.test.ts), and advertised', async () => {
    const disc = JSON.parse((await gw.get(P)).body) as { resources: { name: string; verbs: string[] }[] };
    expect(disc.resources.find((x) => x.name === 'charges')?.verbs).toEqual(['get', 'list', 'watch']);
  });
});

describe('proxy subresource', () => {
  it("kubectl get --raw reaches the upstream object with the adapter key, never the caller's", async () => {
    const all = JSON.parse(
      await kubectlOk(gw.kubeconfig, ['get', 'charges', '-n', 'checkout', '-o', 'json']),
    ) as ChargeList;
    const name = all.items[0]!.metadata.name;
    const raw = await kubectlOk(gw.kubeconfig, ['get', '--raw', `${P}/namespaces/checkout/charges/${name}/proxy`]);
    const charge = JSON.parse(raw) as { object: string; id: string };
    expect(charge.object).toBe('charge');
    const obj = all.items[0] as unknown as { metadata: { annotations: Record<string, string> } };
    expect(charge.id).toBe(obj.metadata.annotations['payments.kubegate.dev/id']);
  });
  it('refuses paths outside the object, other methods, and unknown objects', async () => {
    const all = JSON.parse((await gw.get(`${P}/namespaces/checkout/charges?limit=5`)).body) as ChargeList;
    const name = all.items[0]!.metadata.name;
    const base = `${P}/namespaces/checkout/charges/${name}/proxy`;
    expect((await gw.get(`${base}/..%2F..%2Fcustomers`)).status).toBe(400);
    expect((await gw.get(`${base}/refunds`)).status).toBe(404);
    expect((await gw.get(`${P}/namespaces/checkout/charges/ch-nosuch/proxy`)).status).toBe(404);
    const post = await kubectl(gw.kubeconfig, ['create', '--raw', base, '-f', '/dev/null']);
    expect(post.stderr).toMatch(/MethodNotAllowed|not allowed|405/);
  });
});

describe('upstream outage (closes the fake: keep last)', () => {
  it('serves cached pages with a Warning when the upstream fails, and 503 when nothing is cached', async () => {
    const path = `${P}/namespaces/billing/charges?limit=20`;
    expect((await gw.get(path)).status).toBe(200);
    await pay.close();
    // Within the 10 s cache TTL the page is fresh; past it, the upstream is asked, fails, and the page is stale.
    const stale = await vi.waitFor(
      async () => {
        const r = await gw.get(path);
        expect(r.headers.get('warning')).toMatch(/upstream unavailable/);
        return r;
      },
      { timeout: 25_000, interval: 500 },
    );
    expect(stale.status).toBe(200);
    expect(stale.headers.get('warning')).toMatch(
      /^299 - "payments: upstream unavailable \(.*\), serving data from \d+s ago"$/,
    );
    const none = await gw.get(`${P}/namespaces/billing/charges?limit=7`);
    expect(none.status).toBe(503);
    expect(JSON.parse(none.body)).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    expect(JSON.parse(none.body).message).toMatch(/^payments: upstream unavailable/);
  }, 40_000);
});
