import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { freePort, redisCommand, startRedisServer } from '../helpers/redis-procs.ts';

// Redis Sentinel for real: a master, a replica and three sentinels (redis-server --sentinel) on free ports;
// kubegate finds the master through the sentinels. The master is killed under a running informer.
const MASTER = 'kg';
const LEASE_TTL_MS = 3000;
const POLL_MS = 300;
let dir: string;
const procs: ChildProcess[] = [];
let master: ChildProcess;
let masterPort: number;
let replicaPort: number;
const sentinelPorts: number[] = [];
let weather: FakeWeather;
let gw: TestGateway;

interface Forecast extends k8s.KubernetesObject {
  status?: { temperatureC?: number };
}

async function masterOf(port: number): Promise<number | undefined> {
  const r = (await redisCommand(port, 'SENTINEL', 'get-master-addr-by-name', MASTER)) as string[] | undefined;
  return r ? Number(r[1]) : undefined;
}

async function upstreamTruth(): Promise<[string, number][]> {
  const lat = LOCATIONS.map((l) => l.latitude).join(',');
  const lon = LOCATIONS.map((l) => l.longitude).join(',');
  const r = await fetch(`${weather.url}/v1/forecast?latitude=${lat}&longitude=${lon}&current=temperature_2m`);
  const body = (await r.json()) as { current: { temperature_2m: number } }[];
  return LOCATIONS.map((l, i): [string, number] => [l.name, body[i]?.current.temperature_2m ?? NaN]).sort();
}

const cacheState = (inf: k8s.ObjectCache<Forecast>) =>
  inf
    .list()
    .map((o): [string, number | undefined] => [o.metadata?.name ?? '', o.status?.temperatureC])
    .sort();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubegate-sentinel-'));
  masterPort = await freePort();
  replicaPort = await freePort();
  const plain = ['--save', '', '--appendonly', 'no', '--dir', dir];
  master = await startRedisServer(masterPort, plain);
  procs.push(master);
  procs.push(await startRedisServer(replicaPort, [...plain, '--replicaof', '127.0.0.1', String(masterPort)]));
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    sentinelPorts.push(port);
    // A sentinel rewrites its config file, so each gets its own.
    const conf = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        `sentinel monitor ${MASTER} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${MASTER} 1000`,
        `sentinel failover-timeout ${MASTER} 10000`,
        `sentinel parallel-syncs ${MASTER} 1`,
        '',
      ].join('\n'),
    );
    procs.push(await startRedisServer(port, [conf, '--sentinel']));
  }
  // Ready for a failover: the replica is in sync and every sentinel knows the replica and the other two.
  await vi.waitFor(
    async () => expect(String(await redisCommand(replicaPort, 'INFO', 'replication'))).toMatch(/master_link_status:up/),
    { timeout: 20_000, interval: 100 },
  );
  for (const p of sentinelPorts)
    await vi.waitFor(
      async () => expect(String(await redisCommand(p, 'INFO', 'sentinel'))).toMatch(/slaves=1,sentinels=3/),
      { timeout: 20_000, interval: 100 },
    );
  weather = await startFakeWeather({ port: 0 });
  weather.freeze();
  gw = await startTestGateway({
    adapters: [
      {
        name: 'weather',
        module: './adapters/weather/index.ts',
        config: { baseUrl: weather.url, locations: LOCATIONS },
        pollInterval: `${POLL_MS}ms`,
      },
    ],
    store: {
      type: 'redis',
      leaseTtl: `${LEASE_TTL_MS}ms`,
      redis: {
        sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
        sentinelName: MASTER,
        keyPrefix: `kg-sentinel-${process.pid}:`,
      },
    },
  });
}, 90_000);

afterAll(async () => {
  await gw.close();
  await weather.close();
  for (const p of procs) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis Sentinel', () => {
  it('the master dies under a running informer: nothing lost, writes resume after the promotion', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(gw.kubeconfig);
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    const G = 'weather.kubegate.dev';
    const inf = k8s.makeInformer<Forecast>(
      kc,
      `/apis/${G}/v1alpha1/forecasts`,
      () => api.listClusterCustomObject({ group: G, version: 'v1alpha1', plural: 'forecasts' }) as never,
    );
    const rvs: number[] = [];
    const seen = (o: Forecast) => rvs.push(Number(o.metadata?.resourceVersion));
    inf.on('add', seen);
    inf.on('update', seen);
    inf.on('error', () => setTimeout(() => void inf.start(), 200));
    await inf.start();
    try {
      await expect
        .poll(async () => JSON.stringify(cacheState(inf)) === JSON.stringify(await upstreamTruth()), {
          timeout: 15_000,
        })
        .toBe(true);
      rvs.length = 0; // from here on every callback comes from the watch, which must be in order
      weather.tick();
      await expect
        .poll(async () => JSON.stringify(cacheState(inf)) === JSON.stringify(await upstreamTruth()), {
          timeout: 15_000,
        })
        .toBe(true);
      const before = cacheState(inf);
      // Until the failover every callback came from one watch: in order.
      expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
      const lastBefore = Math.max(...rvs);
      const atKill = rvs.length;

      master.kill('SIGKILL');
      await expect.poll(() => masterOf(sentinelPorts[0] ?? 0), { timeout: 30_000 }).toBe(replicaPort);
      const promoted = Date.now();
      // What was committed before the failover is still there: nothing went back.
      expect(cacheState(inf)).toEqual(before);

      // Writes resume: a change upstream reaches the informer through the new master within the lease time
      // (the poller keeps its lease: the lease key was replicated) plus a poll interval.
      weather.tick();
      await expect
        .poll(async () => JSON.stringify(cacheState(inf)) === JSON.stringify(await upstreamTruth()), {
          timeout: LEASE_TTL_MS + 4 * POLL_MS,
          interval: 50,
        })
        .toBe(true);
      const resumedAfterMs = Date.now() - promoted;
      expect(resumedAfterMs).toBeLessThan(LEASE_TTL_MS + 4 * POLL_MS);
      expect(gw.gateway.store.healthy()).toBe(true);
      // Across the failover versions never go back. A commit the old master acknowledged but did not replicate
      // is gone with it; the store then starts a new history above every version served (so the informer gets
      // 410 and relists, and a relist hands objects over in name order, not version order).
      const after = rvs.slice(atKill);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((rv) => rv > lastBefore)).toBe(true);
    } finally {
      await inf.stop();
    }
  });
});
