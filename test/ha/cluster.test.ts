import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startFakePayments, type FakePayments } from '../../examples/fake-payments/server.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { freePort, redisCommand, startRedisServer } from '../helpers/redis-procs.ts';

// Redis Cluster for real: three masters made into a cluster by `redis-cli --cluster create`, kubegate on it
// through ioredis' Cluster client. Every key of a collection carries the `{collection}` hash tag, so a poll's
// Lua commit touches one slot (a CROSSSLOT error otherwise).
const run = promisify(execFile);
const PREFIX = `kg-cluster-${process.pid}:`;
let dir: string;
const procs: ChildProcess[] = [];
const ports: number[] = [];
let weather: FakeWeather;
let pay: FakePayments;
let gw: TestGateway;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubegate-cluster-'));
  for (let i = 0; i < 3; i++) {
    const port = await freePort(true);
    ports.push(port);
    procs.push(
      await startRedisServer(port, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '2000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ]),
    );
  }
  await run('redis-cli', [
    '--cluster',
    'create',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  for (const p of ports)
    await vi.waitFor(async () => expect(String(await redisCommand(p, 'CLUSTER', 'INFO'))).toMatch(/cluster_state:ok/), {
      timeout: 20_000,
      interval: 100,
    });
  weather = await startFakeWeather({ port: 0 });
  weather.freeze();
  pay = await startFakePayments({ port: 0, charges: 30 });
  gw = await startTestGateway({
    adapters: [
      {
        name: 'weather',
        module: './adapters/weather/index.ts',
        config: { baseUrl: weather.url, locations: LOCATIONS },
        pollInterval: '300ms',
      },
      { name: 'payments', module: './adapters/payments/index.ts', config: { baseUrl: pay.url, apiKey: pay.apiKey } },
    ],
    store: {
      type: 'redis',
      leaseTtl: '3s',
      redis: { cluster: ports.map((port) => ({ host: '127.0.0.1', port })), keyPrefix: PREFIX },
    },
  });
}, 90_000);

afterAll(async () => {
  await gw.close();
  await weather.close();
  await pay.close();
  for (const p of procs) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Every key kubegate wrote, on whichever master holds it. */
async function allKeys(): Promise<string[]> {
  const out: string[] = [];
  for (const p of ports) out.push(...((await redisCommand(p, 'KEYS', `${PREFIX}*`)) as string[]));
  return out;
}

describe('Redis Cluster', () => {
  it('mirrors, follows upstream changes and caches pass-through queries on a three-master cluster', async () => {
    const temps = async () => {
      const r = await gw.get('/apis/weather.kubegate.dev/v1alpha1/forecasts');
      const body = JSON.parse(r.body) as { items?: { metadata: { name: string }; status: { temperatureC: number } }[] };
      return (body.items ?? []).map((i) => `${i.metadata.name}=${i.status.temperatureC}`).sort();
    };
    await expect.poll(async () => (await temps()).length, { timeout: 15_000 }).toBe(LOCATIONS.length);
    const before = await temps();
    weather.tick();
    await expect.poll(temps, { timeout: 15_000 }).not.toEqual(before);
    const charges = await gw.get('/apis/payments.kubegate.dev/v1alpha1/charges?limit=10');
    expect(charges.status).toBe(200);
    expect((JSON.parse(charges.body) as { items: unknown[] }).items).toHaveLength(10);
    expect(gw.gateway.store.healthy()).toBe(true);
  });

  it("every collection's keys are in one slot, and the collections spread over the masters", async () => {
    const keys = await allKeys();
    const byTag = new Map<string, Set<number>>();
    for (const k of keys) {
      const tag = /\{([^}]+)\}/.exec(k)?.[1];
      // The store's keys carry their collection as tag, the query cache's their resource (Lua scripts span them).
      expect(tag, k).toBeDefined();
      if (tag === undefined) continue;
      const slot = Number(await redisCommand(ports[0] ?? 0, 'CLUSTER', 'KEYSLOT', k));
      byTag.set(tag, (byTag.get(tag) ?? new Set()).add(slot));
    }
    expect([...byTag.keys()]).toEqual(
      expect.arrayContaining([
        'weather.kubegate.dev/forecasts',
        'kubegate.dev/adapters',
        'payments.kubegate.dev/charges',
      ]),
    );
    for (const [tag, slots] of byTag) expect(slots.size, tag).toBe(1);
    // Keys live on more than one master (the cluster is used as a cluster, not one node).
    const perNode = await Promise.all(
      ports.map(async (p) => ((await redisCommand(p, 'KEYS', `${PREFIX}*`)) as string[]).length),
    );
    expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1);
  });
});
