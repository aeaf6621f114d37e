import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakePayments, type FakePayments } from '../../examples/fake-payments/server.ts';
import { startFaultProxy, type FaultProxy } from '../../examples/fault-proxy/server.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { replicaKubeconfig, startReplicaSet, type Replica, type ReplicaSet } from '../helpers/replicas.ts';

// An upstream that echoes the request, API key included, in its error bodies and headers, behind a real
// `kubegate serve`: the key must appear in no response (status line aside, nothing is trusted), no header and
// no line the process writes.
const PREFIX = `kgtest:secrets:${process.pid}:${Date.now()}:`;
const P = '/apis/payments.kubegate.dev/v1alpha1/namespaces/checkout/charges';
const API_KEY = 'sk_live_51EchoedKeyMustNeverLeak0000000001';

let fake: FakePayments;
let fault: FaultProxy;
let set: ReplicaSet;
let gw: Replica;
/** Everything a client received: status, headers and body of each answer (proxied answers apart). */
const seen: string[] = [];
const proxied: string[] = [];

async function get(path: string, into = seen): Promise<{ status: number; body: string; headers: Headers }> {
  const r = await gw.get(path);
  into.push(`${r.status} ${JSON.stringify([...r.headers.entries()])} ${r.body}`);
  return r;
}

beforeAll(async () => {
  fake = await startFakePayments({ charges: 60, apiKey: API_KEY });
  fault = await startFaultProxy({ target: fake.url });
  set = await startReplicaSet(() => ({
    store: { type: 'redis', redis: { url: 'redis://127.0.0.1:6379', keyPrefix: PREFIX } },
    adapters: [
      {
        name: 'payments',
        module: resolve(import.meta.dirname, '../../adapters/payments/index.ts'),
        config: { baseUrl: fault.url, apiKey: API_KEY },
        resilience: { retries: 0, breakerThreshold: 1000 },
      },
    ],
  }));
  gw = await set.start('gw');
}, 60_000);

afterAll(async () => {
  await set.close();
  await fault.close();
  await fake.close();
  const r = new Redis('redis://127.0.0.1:6379');
  const keys = await r.keys(`${PREFIX}*`);
  if (keys.length) await r.del(...keys);
  await r.quit();
});

describe('an upstream echoing its API key in errors', () => {
  it('the key reaches no response body, header or log line; failures say what happened in fixed words', async () => {
    fault.set({ kind: 'none' });
    const list = JSON.parse((await get(`${P}?limit=5`)).body) as { items: { metadata: { name: string } }[] };
    const known = list.items[0]?.metadata.name ?? '';
    expect(known).not.toBe('');
    expect((await get(`${P}/${known}`)).status).toBe(200);

    for (const status of [500, 503, 401, 400]) {
      fault.set({ kind: 'echo', status });
      const one = await get(`${P}/ch-3-echo${status}`);
      expect(one.status).toBe(503);
      expect(JSON.parse(one.body)).toMatchObject({
        kind: 'Status',
        reason: 'ServiceUnavailable',
        message: expect.stringMatching(
          new RegExp(`^payments: upstream unavailable for charges\\.payments\\.kubegate\\.dev: .*answered ${status}`),
        ) as unknown,
      });
      expect((await get(`${P}?limit=${status % 97}`)).status).toBe(503);
      // Through the proxy subresource of an object whose lookup is cached: the upstream's own answer, passed on
      // (that is what the proxy is for) with the key masked in its body and headers.
      const through = await get(`${P}/${known}/proxy`, proxied);
      // A transient failure (5xx) is the policy's: 503 Status. Others are the upstream's answer.
      expect(through.status).toBe(status >= 500 ? 503 : status);
    }
    const ops = replicaKubeconfig(set, gw, 'ops', set.token);
    const adapters = await kubectl(ops, ['get', 'adapters', '-o', 'yaml']);
    expect(adapters.code).toBe(0);
    seen.push(adapters.stdout, adapters.stderr);
    seen.push((await gw.get('/metrics')).body);

    // The failures were logged (so the log was looked at), by status.
    await expect
      .poll(() => gw.output())
      .toMatch(/"reason":"[^"]*upstream answered 500","msg":"pass-through lookup failed"/);
    const everything = [...seen, gw.output()].join('\n');
    expect(everything).not.toContain(API_KEY);
    expect(everything).not.toContain(encodeURIComponent(API_KEY));
    // Nor the upstream's words around it, outside the proxy.
    expect(everything).not.toContain('internal error handling');
    expect(everything).not.toContain('request had authorization');
    const throughProxy = proxied.join('\n');
    expect(throughProxy).toContain('internal error handling');
    expect(throughProxy).toContain('[masked]');
    expect(throughProxy).not.toContain(API_KEY);
  }, 60_000);
});
