import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { startFakePayments, type FakePayments } from '../../examples/fake-payments/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';

// Upstream items kubegate cannot serve (a null where the schema declares a string, as JSON APIs often send)
// are never dropped silently: one log line per reason naming the path, a Warning kubectl prints, and the
// reason in `kubectl get adapters -o yaml`, for mirrored and pass-through resources.
let weather: FakeWeather;
let pay: FakePayments;
let gw: TestGateway;
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  weather = await startFakeWeather({ port: 0 });
  pay = await startFakePayments({ port: 0, charges: 20 });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  gw = await startTestGateway({
    adapters: [
      {
        name: 'weather',
        module: './adapters/weather/index.ts',
        config: { baseUrl: weather.url, locations: LOCATIONS },
        pollInterval: '200ms',
      },
      { name: 'payments', module: './adapters/payments/index.ts', config: { baseUrl: pay.url, apiKey: pay.apiKey } },
    ],
    logger: pino({ level: 'warn' }, sink),
  });
});
afterAll(async () => {
  await gw.close();
  await weather.close();
  await pay.close();
});

interface AdapterStatus {
  skippedItems: number;
  skipped?: { resource: string; kind: string; reason: string; count: number; example?: string }[];
}
const adapterStatus = async (name: string) =>
  (JSON.parse(await kubectlOk(gw.kubeconfig, ['get', 'adapters', name, '-o', 'json'])) as { status: AdapterStatus })
    .status;

describe('skipped upstream items', () => {
  it('mirror: a null in a declared string field is logged once, warned on kubectl get, listed on the Adapter', async () => {
    const lyon = LOCATIONS.find((l) => l.name === 'lyon')!;
    weather.patch(lyon.latitude, { timezone: null });
    const reason = 'spec.timezone: expected string, got null';
    await expect
      .poll(async () => (await kubectl(gw.kubeconfig, ['get', 'forecasts'])).stderr, { timeout: 15_000 })
      .toContain(`Warning: weather: 1 upstream item of forecasts.weather.kubegate.dev skipped: ${reason} (e.g. lyon)`);
    const list = await kubectlOk(gw.kubeconfig, ['get', 'forecasts', '-o', 'name']);
    expect(list).not.toContain('/lyon');
    expect(list).toContain('/paris');
    // The Adapter resource refreshes every 2 s.
    await expect
      .poll(() => kubectlOk(gw.kubeconfig, ['get', 'adapters', 'weather', '-o', 'yaml']), { timeout: 10_000 })
      .toContain('skipped:');
    const yaml = await kubectlOk(gw.kubeconfig, ['get', 'adapters', 'weather', '-o', 'yaml']);
    expect(yaml).toContain(`reason: 'spec.timezone: expected string, got null'`);
    expect(yaml).toContain('example: lyon');
    const st = await adapterStatus('weather');
    expect(st.skippedItems).toBe(1);
    expect(st.skipped).toMatchObject([{ resource: 'forecasts.weather.kubegate.dev', kind: 'schema', count: 1 }]);
    // Many polls later, still one log line for the reason.
    const polls = weather.requests;
    await expect.poll(() => weather.requests, { timeout: 10_000 }).toBeGreaterThan(polls + 3);
    expect(logs.filter((l) => l.reason === reason)).toEqual([
      expect.objectContaining({ msg: 'skipped upstream items', adapter: 'weather', kind: 'schema', item: 'lyon' }),
    ]);
    // Fixed upstream: the object comes back and the Warning goes away.
    weather.patch(lyon.latitude, null);
    await expect
      .poll(async () => (await kubectl(gw.kubeconfig, ['get', 'forecast', 'lyon'])).stderr, { timeout: 15_000 })
      .toBe('');
    await expect.poll(async () => (await adapterStatus('weather')).skippedItems, { timeout: 10_000 }).toBe(0);
  });

  it('pass-through: a list answers a Warning naming the path and the Adapter lists the reason', async () => {
    const all = JSON.parse(await kubectlOk(gw.kubeconfig, ['get', 'charges', '-A', '-o', 'json'])) as {
      items: { metadata: { annotations: Record<string, string> } }[];
    };
    const id = all.items[3]?.metadata.annotations['payments.kubegate.dev/id'] ?? '';
    pay.update(id, { status: null } as never);
    // A different query than the cached one: the page is fetched afresh.
    const r = await kubectl(gw.kubeconfig, ['get', 'charges', '-A', '--chunk-size', '7']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /Warning: payments: 1 upstream item of charges\.payments\.kubegate\.dev skipped: status\.status: expected union value, got null \(e\.g\. [a-z0-9-]+\/ch-/,
    );
    await expect
      .poll(async () => (await adapterStatus('payments')).skipped, { timeout: 10_000 })
      .toMatchObject([
        {
          resource: 'charges.payments.kubegate.dev',
          kind: 'schema',
          reason: 'status.status: expected union value, got null',
        },
      ]);
    expect(logs.some((l) => l.adapter === 'payments' && String(l.reason).startsWith('status.status'))).toBe(true);
  });
});
