import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startFakePayments, type FakePayments } from '../../examples/fake-payments/server.ts';
import { startReplicaSet, type Replica, type ReplicaSet } from '../helpers/replicas.ts';
import { writeKubeconfig } from '../../src/cli/kubeconfig.ts';

// A Redis of the test's own, restarted mid-run under two replicas; and pass-through coalescing across three.
let port = 0;
let redis: ChildProcess | undefined;
let weather: FakeWeather;
let pay: FakePayments;
let set: ReplicaSet;
let a: Replica, b: Replica, c: Replica;

const freePort = () =>
  new Promise<number>((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => r(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const { Redis } = await import('ioredis');
  const end = Date.now() + 10_000;
  for (;;) {
    const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return;
    } catch {
      r.disconnect();
      if (Date.now() > end) throw new Error('redis-server did not start');
      await new Promise((x) => setTimeout(x, 100));
    }
  }
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  weather = await startFakeWeather({ port: 0 });
  weather.freeze();
  pay = await startFakePayments({ port: 0, charges: 120 });
  set = await startReplicaSet(() => ({
    store: { type: 'redis', redis: { url: `redis://127.0.0.1:${port}`, keyPrefix: 'kg:' }, leaseTtl: '2s' },
    adapters: [
      {
        name: 'weather',
        module: resolve(import.meta.dirname, '../../adapters/weather/index.ts'),
        pollInterval: '500ms',
        config: { baseUrl: weather.url, locations: LOCATIONS },
      },
      {
        name: 'payments',
        module: resolve(import.meta.dirname, '../../adapters/payments/index.ts'),
        config: { baseUrl: pay.url, apiKey: pay.apiKey },
      },
    ],
  }));
  [a, b, c] = await Promise.all([set.start('a'), set.start('b'), set.start('c')]);
}, 60_000);

afterAll(async () => {
  await set.close();
  redis?.kill('SIGKILL');
  await weather.close();
  await pay.close();
});

async function truth(): Promise<Map<string, number>> {
  const r = await fetch(
    `${weather.url}/v1/forecast?latitude=${LOCATIONS.map((l) => l.latitude).join(',')}&longitude=${LOCATIONS.map((l) => l.longitude).join(',')}&current=temperature_2m`,
  );
  const arr = (await r.json()) as { current: { temperature_2m: number } }[];
  return new Map(LOCATIONS.map((l, i) => [l.name, arr[i]!.current.temperature_2m]));
}

describe('Redis restarted under running replicas', () => {
  it('replicas keep serving with a Warning, recover, and an informer converges to the upstream', async () => {
    const kubeconfig = `${set.dir}/kubeconfig`;
    writeKubeconfig(kubeconfig, { server: b.url, ca: set.certs.ca.cert, token: set.token, user: 'ops' });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    const G = 'weather.kubegate.dev';
    const inf = k8s.makeInformer<k8s.KubernetesObject & { status?: { temperatureC: number } }>(
      kc,
      `/apis/${G}/v1alpha1/forecasts`,
      () => api.listClusterCustomObject({ group: G, version: 'v1alpha1', plural: 'forecasts' }) as never,
    );
    inf.on('error', () => setTimeout(() => void inf.start(), 300));
    await inf.start();
    const converged = async () => {
      const want = await truth();
      const got = new Map(inf.list().map((o) => [o.metadata?.name ?? '', o.status?.temperatureC]));
      return [...want].every(([k, v]) => got.get(k) === v) && got.size === want.size;
    };
    const eventually = async (f: () => Promise<boolean>, ms = 20_000) => {
      const end = Date.now() + ms;
      while (!(await f())) {
        if (Date.now() > end) throw new Error('did not converge');
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    try {
      await eventually(converged);
      redis!.kill('SIGKILL');
      // Once the replica notices the outage, its lists carry the Warning.
      const during = await vi.waitFor(
        async () => {
          const r = await b.get('/apis/weather.kubegate.dev/v1alpha1/forecasts');
          expect(r.headers.get('warning')).toMatch(/shared store is unreachable/);
          return r;
        },
        { timeout: 15_000, interval: 100 },
      );
      expect(during.status).toBe(200);
      expect(during.headers.get('warning')).toMatch(
        /shared store is unreachable, serving this replica's data from \d+s ago/,
      );
      weather.tick();
      await startRedis(); // empty: it kept nothing
      weather.tick();
      await eventually(converged, 30_000);
      // v1: the v1alpha1 answers always carry their deprecation Warning.
      const after = await b.get('/apis/weather.kubegate.dev/v1/forecasts');
      expect(after.headers.get('warning')).toBeNull();
      // Every replica agrees again.
      const lists = await Promise.all(
        [a, b, c].map(
          async (r) =>
            JSON.parse((await r.get('/apis/weather.kubegate.dev/v1alpha1/forecasts')).body) as {
              metadata: { resourceVersion: string };
            },
        ),
      );
      await eventually(async () => {
        const rvs = await Promise.all(
          [a, b, c].map(
            async (r) =>
              (
                JSON.parse((await r.get('/apis/weather.kubegate.dev/v1alpha1/forecasts')).body) as {
                  metadata: { resourceVersion: string };
                }
              ).metadata.resourceVersion,
          ),
        );
        return new Set(rvs).size === 1;
      });
      expect(lists).toHaveLength(3);
    } finally {
      await inf.stop();
    }
  }, 90_000);
});

describe('pass-through across replicas', () => {
  it('100 concurrent identical lists spread over three replicas make one upstream call', async () => {
    const path = '/apis/payments.kubegate.dev/v1alpha1/charges?limit=25&labelSelector=currency%3Deur';
    const before = pay.calls.list;
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => [a, b, c][i % 3]!.get(path)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.body)).size).toBe(1);
    expect(pay.calls.list - before).toBe(1);
  });
});
