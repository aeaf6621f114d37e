import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { startFakePayments, type FakePayments } from '../../examples/fake-payments/server.ts';
import { idToName } from '../../adapters/payments/names.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';

// Watching a pass-through resource through the upstream's change feed (payments charges, GET /v1/events),
// with real kubectl and a client-node informer; and the bounded customers mirror paged by kubectl.
const G = 'payments.kubegate.dev';
const V = 'v1alpha1';
const P = `/apis/${G}/${V}`;
let pay: FakePayments;
let gw: TestGateway;

beforeAll(async () => {
  pay = await startFakePayments({ port: 0, charges: 40, customers: 45 });
  gw = await startTestGateway({
    adapters: [
      {
        name: 'payments',
        module: './adapters/payments/index.ts',
        config: { baseUrl: pay.url, apiKey: pay.apiKey, customers: { maxObjects: 40 } },
      },
    ],
    watch: { maxEvents: 20 },
  });
});
afterAll(async () => {
  await gw.close();
  await pay.close().catch(() => undefined);
});

/** Runs `kubectl get charges -w ...` and collects its output lines until stopped. */
function watchKubectl(args: string[]) {
  const p = spawn('kubectl', ['--kubeconfig', gw.kubeconfig, 'get', 'charges', '-w', ...args], {
    env: { ...process.env, KUBECACHEDIR: `${gw.kubeconfig}.cache` },
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    lines: () => out.split('\n').filter(Boolean),
    async until(pred: (lines: string[]) => boolean) {
      await vi.waitFor(
        () => {
          if (!pred(out.split('\n').filter(Boolean))) throw new Error(`kubectl printed:\n${out}\n${err}`);
        },
        { timeout: 15_000, interval: 50 },
      );
    },
    stop: () => p.kill(),
  };
}

describe('pass-through watch (charges)', () => {
  it('discovery offers watch on charges', async () => {
    const out = await kubectlOk(gw.kubeconfig, ['api-resources', '--api-group', G, '-o', 'wide']);
    expect(out).toMatch(/^charges\s+ch\s+\S+\s+true\s+Charge\s+get,list,watch/m);
  });

  it('kubectl get charges -w sees a charge created upstream (ADDED) and its refund (MODIFIED)', async () => {
    const w = watchKubectl(['-n', 'checkout', '--output-watch-events']);
    try {
      await w.until((l) => l.some((x) => x.startsWith('ADDED')));
      const c = pay.add({ status: 'succeeded', metadata: { team: 'checkout' }, amount_refunded: 0, refunded: false });
      const name = idToName(c.id) ?? '';
      const t0 = Date.now();
      await w.until((l) => l.filter((x) => x.startsWith('ADDED') && x.includes(name)).length === 1);
      const addedMs = Date.now() - t0;
      pay.refund(c.id);
      await w.until((l) => l.some((x) => x.startsWith('MODIFIED') && x.includes(name)));
      // One line per event: the initial list (ADDED), the new charge, its refund.
      expect(
        w
          .lines()
          .filter((x) => x.includes(name))
          .map((x) => x.split(/\s+/)[0]),
      ).toEqual(['ADDED', 'MODIFIED']);
      console.log(`change feed: event to kubectl watch in ${addedMs} ms (feed read every 2 s)`);
    } finally {
      w.stop();
    }
  });

  it('an informer gets the same events, and relists after a 410', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(gw.kubeconfig);
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    let lists = 0;
    const inf = k8s.makeInformer<k8s.KubernetesObject & { status?: { refunded?: boolean } }>(kc, `${P}/charges`, () => {
      lists++;
      return api.listClusterCustomObject({ group: G, version: V, plural: 'charges' }) as never;
    });
    const log: string[] = [];
    inf.on('add', (o) => log.push(`add ${o.metadata?.name ?? ''}`));
    inf.on('update', (o) => log.push(`update ${o.metadata?.name ?? ''} ${String(o.status?.refunded)}`));
    inf.on('error', () => setTimeout(() => void inf.start(), 100));
    await inf.start();
    try {
      await vi.waitFor(() => expect(inf.list().length).toBeGreaterThanOrEqual(40), { timeout: 10_000 });
      const c = pay.add({ status: 'succeeded', metadata: { team: 'billing' }, amount_refunded: 0, refunded: false });
      const name = idToName(c.id) ?? '';
      await vi.waitFor(() => expect(log).toContain(`add ${name}`), { timeout: 15_000, interval: 50 });
      pay.refund(c.id);
      await vi.waitFor(() => expect(log).toContain(`update ${name} true`), { timeout: 15_000, interval: 50 });

      // The upstream forgets its events: the feed lost its place, every watch ends with 410 and the informer
      // relists (and goes on watching).
      const before = lists;
      pay.forgetEvents();
      await vi.waitFor(() => expect(lists).toBeGreaterThan(before), { timeout: 15_000, interval: 50 });
      const d = pay.add({ status: 'succeeded', metadata: { team: 'billing' } });
      await vi.waitFor(() => expect(log).toContain(`add ${idToName(d.id) ?? ''}`), { timeout: 15_000, interval: 50 });
    } finally {
      await inf.stop();
    }
  });

  it('a watch from a resourceVersion that left the log is answered 410 Expired', async () => {
    const list = JSON.parse((await gw.get(`${P}/charges?limit=1`)).body) as { metadata: { resourceVersion: string } };
    const rv = Number(list.metadata.resourceVersion);
    expect(rv).toBeGreaterThan(0);
    // More changes than the log keeps (watch.maxEvents 20): once the feed read them, the list's version is gone.
    for (let i = 0; i < 25; i++) pay.add();
    await vi.waitFor(
      async () => {
        const r = await gw.get(`${P}/charges?watch=1&timeoutSeconds=1&resourceVersion=${rv}`);
        expect(r.status).toBe(200);
        const first = JSON.parse(r.body.split('\n')[0] ?? '') as unknown;
        expect(first).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
      },
      { timeout: 20_000, interval: 100 },
    );
  });
});

describe('bounded customers mirror', () => {
  it('kubectl get customers pages with --chunk-size and reports the bound', async () => {
    await vi.waitFor(async () => expect((await gw.get(`${P}/customers?limit=1`)).status).toBe(200), {
      timeout: 10_000,
    });
    const r = await kubectl(gw.kubeconfig, ['get', 'customers', '-A', '--chunk-size', '7', '-o', 'name']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(40);
    expect(r.stderr).toContain(
      'payments: 1 upstream item of customers.payments.kubegate.dev skipped: more customers than customers.maxObjects (40); the oldest are not mirrored',
    );
  });

  it('kubectl get adapters shows the charges change feed: read here, when, no error', async () => {
    await vi.waitFor(
      async () => {
        const a = JSON.parse(await kubectlOk(gw.kubeconfig, ['get', 'adapters', 'payments', '-o', 'json'])) as {
          status: { changeFeeds?: { resource: string; reading: boolean; lastSuccessfulRead?: string }[] };
        };
        expect(a.status.changeFeeds).toEqual([
          expect.objectContaining({ resource: `charges.${G}`, reading: true, consecutiveFailures: 0 }),
        ]);
        expect(Date.parse(a.status.changeFeeds?.[0]?.lastSuccessfulRead ?? '')).toBeGreaterThan(0);
      },
      { timeout: 10_000, interval: 500 },
    );
  });
});
