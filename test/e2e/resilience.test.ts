import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startFaultProxy, type Fault, type FaultProxy } from '../../examples/fault-proxy/server.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';

// The weather adapter behind a fault-injecting proxy: outages, throttling, hangs and garbage, seen through
// kubectl, an informer, /metrics and `kubectl get adapters`.
let weather: FakeWeather;
let proxy: FaultProxy;
let gw: TestGateway;
let stdoutSpy: MockInstance<typeof process.stdout.write>;
const logs = () => stdoutSpy.mock.calls.map((c) => String(c[0])).join('');

beforeAll(async () => {
  weather = await startFakeWeather({ port: 0 });
  weather.freeze();
  proxy = await startFaultProxy({ target: weather.url });
  // Everything kubegate logs (pino writes to stdout), to check it for credentials; calls pass through.
  stdoutSpy = vi.spyOn(process.stdout, 'write');
  gw = await startTestGateway({
    adapters: [
      {
        name: 'weather',
        module: './adapters/weather/index.ts',
        config: { baseUrl: proxy.url, locations: LOCATIONS },
        pollInterval: '300ms',
        resilience: {
          timeout: '300ms',
          deadline: '1s',
          retries: 1,
          backoffInitial: '20ms',
          breakerThreshold: 3,
          halfOpenAfter: '1s',
        },
      },
    ],
  });
  // The first poll may time out on a loaded machine: wait for data, not for the first attempt.
  await vi.waitFor(
    async () => {
      const r = await gw.get('/apis/weather.kubegate.dev/v1alpha1/forecasts');
      if (r.status !== 200) throw new Error(`no data yet: ${r.status}`);
    },
    { timeout: 20_000, interval: 100 },
  );
});
afterAll(async () => {
  stdoutSpy.mockRestore();
  await gw.close();
  await proxy.close();
  await weather.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The BREAKER column of `kubectl get adapters weather`, once it shows `want` (the Adapter resource refreshes every 2 s). */
const breakerColumn = async (want: string): Promise<string> => {
  let got = '';
  for (let i = 0; i < 30 && got !== want; i++) {
    const out = await kubectlOk(gw.kubeconfig, ['get', 'adapters', 'weather']);
    const header = out.split('\n')[0]!.split(/\s{2,}/);
    got = out.split('\n')[1]!.split(/\s{2,}/)[header.indexOf('BREAKER')] ?? '';
    if (got !== want) await sleep(200);
  }
  return got;
};

describe('upstream outage', () => {
  it('kubectl prints the Warning and the stale rows; the breaker opens, then closes after recovery', async () => {
    proxy.set({ kind: 'status', status: 503 });
    // The next poll fails; from then on lists carry the stale-data Warning.
    const r = await vi.waitFor(
      async () => {
        const got = await kubectl(gw.kubeconfig, ['get', 'forecasts']);
        expect(got.stderr).toMatch(/^Warning: weather: upstream unavailable/m);
        return got;
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^Warning: weather: upstream unavailable \(.*\), serving data from \d+s ago$/m);
    expect(r.stdout.split('\n').filter((l) => l.trim()).length).toBe(7);
    expect(await breakerColumn('open')).toBe('open');
    proxy.set({ kind: 'none' });
    weather.tick();
    // The next good poll clears the Warning.
    await vi.waitFor(
      async () => {
        const ok = await kubectl(gw.kubeconfig, ['get', 'forecasts']);
        expect(ok.code).toBe(0);
        expect(ok.stderr).toBe('');
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(await breakerColumn('closed')).toBe('closed');
  });

  it('a hanging upstream never holds a client past the deadline', async () => {
    proxy.set({ kind: 'hang' });
    // An answer while the poll hangs is served from the local view: well within the adapter's 300ms attempt
    // timeout, whatever the machine's load (a request waiting on the upstream would take the whole 1s deadline).
    let took = 0;
    const r = await vi.waitFor(
      async () => {
        const t0 = Date.now();
        const got = await gw.get('/apis/weather.kubegate.dev/v1alpha1/forecasts/paris');
        took = Date.now() - t0;
        expect(got.headers.get('warning')).toMatch(/did not answer within|circuit breaker open/);
        return got;
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(took).toBeLessThan(1000);
    expect(r.status).toBe(200);
    proxy.set({ kind: 'none' });
    await sleep(1500);
  });

  it('/metrics moves with upstream outcomes, breaker state and served requests', async () => {
    const m = (await gw.get('/metrics')).body;
    expect(m).toMatch(/kubegate_upstream_requests_total\{adapter="weather",outcome="503"\} [1-9]/);
    expect(m).toMatch(/kubegate_upstream_requests_total\{adapter="weather",outcome="200"\} [1-9]/);
    expect(m).toMatch(/kubegate_upstream_breaker_state\{adapter="weather"\} 0/);
    expect(m).toMatch(/kubegate_polls_total\{adapter="weather",resource="forecasts",result="failure"\} [1-9]/);
    expect(m).toMatch(/kubegate_stale_serves_total\{adapter="weather",resource="forecasts"\} [1-9]/);
    expect(m).toMatch(/kubegate_objects\{adapter="weather",resource="forecasts"\} 6/);
    expect(m).toMatch(/kubegate_http_requests_total\{verb="list",resource="forecasts",code="200"\} [1-9]/);
    expect(m).toMatch(
      /kubegate_http_request_duration_seconds_bucket\{verb="get",resource="forecasts",le="\+Inf"\} [1-9]/,
    );
    expect(m).not.toContain(gw.token);
  });

  it('chaos: random faults over many polls; an informer ends equal to the upstream truth', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(gw.kubeconfig);
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    const G = 'weather.kubegate.dev';
    const inf = k8s.makeInformer<k8s.KubernetesObject & { status?: { temperatureC: number } }>(
      kc,
      `/apis/${G}/v1alpha1/forecasts`,
      () => api.listClusterCustomObject({ group: G, version: 'v1alpha1', plural: 'forecasts' }) as never,
    );
    inf.on('error', () => setTimeout(() => void inf.start(), 200));
    await inf.start();
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const faults: Fault[] = [
      { kind: 'none' },
      { kind: 'none' },
      { kind: 'none' },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503, retryAfter: '1' },
      { kind: 'status', status: 429, retryAfter: '1' },
      { kind: 'reset' },
      { kind: 'malformed' },
      { kind: 'latency', ms: 100 },
      { kind: 'huge', bytes: 40 << 20 },
    ];
    const heap0 = process.memoryUsage().heapUsed;
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      proxy.set(() => faults[Math.floor(rnd() * faults.length)]!);
      const end = Date.now() + 12_000; // ~40 poll cycles at 300 ms, each with its own random fault
      while (Date.now() < end) {
        if (rnd() < 0.3) weather.tick();
        await sleep(300);
      }
      proxy.set({ kind: 'none' });
      weather.tick();
      const deadline = Date.now() + 15_000;
      let ok = false;
      while (!ok && Date.now() < deadline) {
        await sleep(300);
        const lat = LOCATIONS.map((l) => l.latitude).join(',');
        const lon = LOCATIONS.map((l) => l.longitude).join(',');
        const body = (await (
          await fetch(`${weather.url}/v1/forecast?latitude=${lat}&longitude=${lon}&current=temperature_2m`)
        ).json()) as { current: { temperature_2m: number } }[];
        const got = new Map(inf.list().map((o) => [o.metadata?.name, o.status?.temperatureC]));
        ok =
          LOCATIONS.every((l, i) => got.get(l.name) === body[i]?.current.temperature_2m) &&
          got.size === LOCATIONS.length;
      }
      expect(ok).toBe(true);
      expect(unhandled).toEqual([]);
      expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(100 << 20);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await inf.stop();
    }
  }, 60_000);

  it('no log line carries a credential, even for rejected tokens', async () => {
    const bad = await gw.get('/apis/weather.kubegate.dev/v1alpha1/forecasts', {
      authorization: 'Bearer not-the-token-ABCDEFG',
    });
    expect(bad.status).toBe(401);
    expect(logs()).not.toContain(gw.token);
    expect(logs()).not.toContain('not-the-token-ABCDEFG');
  });
});
