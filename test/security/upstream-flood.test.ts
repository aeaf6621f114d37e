import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Agent, fetch as ufetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakePayments, type FakePayments } from '../../examples/fake-payments/server.ts';
import { replicaKubeconfig, startReplicaSet, type Replica, type ReplicaSet } from '../helpers/replicas.ts';
import { kubectl } from '../helpers/kubectl.ts';

// A user allowed only `get` on pass-through charges asks for unique names that do not exist, as fast as it
// can, against a real `kubegate serve` process on Redis. What must hold: the gateway's heap and the test's
// Redis keys stay bounded, the upstream is paced per user, and another user's kubectl still works.
const REDIS = 'redis://127.0.0.1:6379';
const P = '/apis/payments.kubegate.dev/v1alpha1';
const MB = 1 << 20;
/** How long the limited user floods (a minute of it must leave the heap and Redis where they were). */
const LIMITED_FLOOD_MS = 60_000;
/** How long the unlimited flood lasts: long enough for the caps to be reached and seen holding. */
const FLOOD_MS = 20_000;

const redis = new Redis(REDIS);
const prefixes: string[] = [];
afterAll(async () => {
  for (const p of prefixes) {
    const keys = await redis.keys(`${p}*`);
    if (keys.length) await redis.del(...keys);
  }
  await redis.quit();
});

interface Users {
  mallory: string;
  bob: string;
}

/** One `kubegate serve` with the payments adapter on Redis under a fresh prefix, and two more users. */
async function gateway(
  fake: FakePayments,
  extra: Record<string, unknown>,
): Promise<{ set: ReplicaSet; gw: Replica; prefix: string; users: Users; kubeconfig: string }> {
  const prefix = `kgtest:flood:${process.pid}:${randomBytes(4).toString('hex')}:`;
  prefixes.push(prefix);
  const users = { mallory: randomBytes(18).toString('base64url'), bob: randomBytes(18).toString('base64url') };
  // The replica helper adds the ops user; these settings replace its auth section, so ops is declared again.
  const set: ReplicaSet = await startReplicaSet(() => ({
    auth: {
      tokens: [
        { token: set.token, user: 'ops', groups: ['ops'] },
        { token: users.mallory, user: 'mallory', groups: [] },
        { token: users.bob, user: 'bob', groups: [] },
      ],
      policy: [
        { groups: ['ops'], verbs: ['*'], apiGroups: ['*'], resources: ['*'], nonResourceURLs: ['*'] },
        { users: ['mallory'], verbs: ['get'], apiGroups: ['payments.kubegate.dev'], resources: ['charges'] },
        {
          users: ['bob'],
          verbs: ['get', 'list'],
          apiGroups: ['payments.kubegate.dev'],
          resources: ['charges'],
          nonResourceURLs: ['*'],
        },
      ],
    },
    store: { type: 'redis', redis: { url: REDIS, keyPrefix: prefix } },
    adapters: [
      {
        name: 'payments',
        module: resolve(import.meta.dirname, '../../adapters/payments/index.ts'),
        config: { baseUrl: fake.url, apiKey: fake.apiKey },
        ...(extra.resilience ? { resilience: extra.resilience } : {}),
      },
    ],
    ...(extra.passThrough ? { passThrough: extra.passThrough } : {}),
  }));
  const gw = await set.start('gw', { inspect: true });
  const kubeconfig = replicaKubeconfig(set, gw, 'bob', users.bob);
  return { set, gw, prefix, users, kubeconfig };
}

/** A value of the gateway's own /metrics. */
async function metric(gw: Replica, name: string): Promise<number> {
  const body = (await gw.get('/metrics')).body;
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(body);
  return m ? Number(m[1]) : 0;
}

/** Keys and bytes Redis holds under a prefix (MEMORY USAGE of each key: this test's share of a shared Redis). */
async function redisUsage(prefix: string): Promise<{ keys: number; bytes: number }> {
  let cursor = '0';
  let keys = 0;
  let bytes = 0;
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys += batch.length;
    for (const k of batch) bytes += (await redis.memory('USAGE', k)) ?? 0;
  } while (cursor !== '0');
  return { keys, bytes };
}

/**
 * The gateway's heap after a full collection (run through its inspector): what it retains, without the
 * garbage a flood leaves until V8 next collects. Samples taken during the flood show the peak beside it.
 */
async function retainedHeap(gw: Replica): Promise<number> {
  await gw.collectGarbage();
  return metric(gw, 'kubegate_process_nodejs_heap_size_used_bytes');
}

/** Unique names of the payments adapter's shape (they pass the name checks and reach the lookup). */
const uniqueName = (i: number) => `ch-flood${i.toString(36)}x${randomBytes(3).toString('hex')}`;

interface FloodResult {
  requests: number;
  byStatus: Record<number, number>;
  retryAfter: number;
}

/** `workers` loops of unique-name GETs as `token` for `ms`; `sample` runs every 2 s meanwhile. */
async function flood(
  gw: Replica,
  ca: string,
  token: string,
  ms: number,
  workers: number,
  sample: () => Promise<void>,
): Promise<FloodResult> {
  const agent = new Agent({ connect: { ca }, connections: workers });
  const out: FloodResult = { requests: 0, byStatus: {}, retryAfter: 0 };
  const end = Date.now() + ms;
  let n = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const res = await ufetch(`${gw.url}${P}/namespaces/checkout/charges/${uniqueName(n++)}`, {
        headers: { authorization: `Bearer ${token}` },
        dispatcher: agent,
      });
      await res.arrayBuffer();
      out.requests++;
      out.byStatus[res.status] = (out.byStatus[res.status] ?? 0) + 1;
      if (res.status === 429 && Number(res.headers.get('retry-after')) >= 1) out.retryAfter++;
    }
  };
  const sampler = (async () => {
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 2000));
      await sample();
    }
  })();
  await Promise.all([...Array.from({ length: workers }, worker), sampler]);
  await agent.close();
  return out;
}

/** Median wall time of `runs` kubectl gets (the bystander's experience). */
async function kubectlTime(kubeconfig: string, runs = 3): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await kubectl(kubeconfig, ['get', 'charges', '-n', 'checkout', '--request-timeout=30s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)] ?? 0;
}

describe('a limited user flooding a pass-through resource with unique names', () => {
  let fake: FakePayments;
  beforeAll(async () => {
    fake = await startFakePayments({ charges: 120 });
  });
  afterAll(() => fake.close());

  it('with the defaults: paced per user (429 + Retry-After), heap and Redis bounded, the bystander served', async () => {
    const { set, gw, prefix, users, kubeconfig } = await gateway(fake, {});
    try {
      const unloaded = await kubectlTime(kubeconfig);
      const heap0 = await retainedHeap(gw);
      const rss0 = await metric(gw, 'kubegate_process_resident_memory_bytes');
      const redis0 = await redisUsage(prefix);
      const gets0 = fake.calls.get;
      const heaps: number[] = [];
      let rssMax = rss0;
      const during: number[] = [];
      const t0 = performance.now();
      const result = await flood(gw, set.certs.ca.cert, users.mallory, LIMITED_FLOOD_MS, 16, async () => {
        heaps.push(await metric(gw, 'kubegate_process_nodejs_heap_size_used_bytes'));
        rssMax = Math.max(rssMax, await metric(gw, 'kubegate_process_resident_memory_bytes'));
        if (during.length < 9) during.push(await kubectlTime(kubeconfig, 1));
      });
      const seconds = (performance.now() - t0) / 1000;
      const heap1 = await retainedHeap(gw);
      const redis1 = await redisUsage(prefix);
      const upstreamGets = fake.calls.get - gets0;
      const loaded = during.sort((a, b) => a - b)[Math.floor(during.length / 2)] ?? 0;
      console.log(
        JSON.stringify({
          test: 'flood, defaults',
          seconds: Math.round(seconds),
          requests: result.requests,
          byStatus: result.byStatus,
          upstreamGets,
          heapRetainedMB: +((heap1 - heap0) / MB).toFixed(1),
          heapPeakGrowthMB: +((Math.max(...heaps) - heap0) / MB).toFixed(1),
          rssPeakGrowthMB: +((rssMax - rss0) / MB).toFixed(1),
          redisKeys: [redis0.keys, redis1.keys],
          redisGrowthMB: +((redis1.bytes - redis0.bytes) / MB).toFixed(2),
          kubectlMs: { unloaded: Math.round(unloaded), loaded: Math.round(loaded) },
        }),
      );
      // Refused over the budget, with Retry-After, as the apiserver's priority and fairness answers.
      expect(result.byStatus[429] ?? 0).toBeGreaterThan(0);
      expect(result.retryAfter).toBe(result.byStatus[429]);
      expect((result.byStatus[404] ?? 0) + (result.byStatus[429] ?? 0)).toBe(result.requests);
      // The upstream saw at most the burst plus the sustained rate (20 + 5/s), not the flood.
      expect(upstreamGets).toBeLessThanOrEqual(20 + Math.ceil(5 * seconds) + 5);
      expect(result.requests).toBeGreaterThan(upstreamGets * 3);
      expect(heap1 - heap0).toBeLessThan(64 * MB);
      expect(redis1.bytes - redis0.bytes).toBeLessThan(16 * MB);
      // The bystander's kubectl completed every time, and not much slower than unloaded.
      expect(during.length).toBeGreaterThan(0);
      expect(loaded / unloaded).toBeLessThan(10);
    } finally {
      await set.close();
    }
  }, 120_000);

  it('without the per-user limit and with misses kept long: the cache stops at its caps in memory and Redis', async () => {
    const cap = 200;
    const { set, gw, prefix } = await gateway(fake, {
      passThrough: { userUpstreamLimit: false, cache: { maxEntries: cap, notFoundTtl: '10m' } },
      resilience: { rateLimitPerSecond: 0, maxConcurrent: 16, maxQueued: 256, retries: 0 },
    });
    try {
      const heap0 = await retainedHeap(gw);
      const redis0 = await redisUsage(prefix);
      const gets0 = fake.calls.get;
      const heaps: number[] = [];
      const entries: number[] = [];
      const keys: number[] = [];
      const result = await flood(gw, set.certs.ca.cert, set.token, FLOOD_MS, 16, async () => {
        heaps.push(await metric(gw, 'kubegate_process_nodejs_heap_size_used_bytes'));
        entries.push(await metric(gw, 'kubegate_query_cache_entries'));
        keys.push((await redisUsage(prefix)).keys);
      });
      const heap1 = await retainedHeap(gw);
      const redis1 = await redisUsage(prefix);
      console.log(
        JSON.stringify({
          test: 'flood, no user limit, misses kept 10m',
          requests: result.requests,
          byStatus: result.byStatus,
          upstreamGets: fake.calls.get - gets0,
          cacheEntries: entries,
          redisKeys: keys,
          heapRetainedMB: +((heap1 - heap0) / MB).toFixed(1),
          heapPeakGrowthMB: +((Math.max(...heaps) - heap0) / MB).toFixed(1),
          redisGrowthMB: +((redis1.bytes - redis0.bytes) / MB).toFixed(2),
        }),
      );
      // The flood asked for far more names than the cap: the cap was reached, and held from then on.
      expect(result.byStatus[404] ?? 0).toBeGreaterThan(cap * 2);
      expect(Math.max(...entries)).toBe(cap);
      const reached = entries.indexOf(cap);
      expect(entries.slice(reached).every((e) => e === cap)).toBe(true);
      // Redis: the values (at most the cap) plus the index and size table of the resource, and the store's keys.
      expect(Math.max(...keys, redis1.keys)).toBeLessThanOrEqual(cap + 2 + redis0.keys + 16);
      expect(heap1 - heap0).toBeLessThan(64 * MB);
      expect(redis1.bytes - redis0.bytes).toBeLessThan(16 * MB);
    } finally {
      await set.close();
    }
  }, 120_000);
});
