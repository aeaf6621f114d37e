import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKubeApi, type FakeKubeApi, type KubeEvent } from './fake-kube-api.ts';
import { authenticationConfigMapData, createClusterPki } from './pki.ts';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startFaultProxy, type FaultProxy } from '../../examples/fault-proxy/server.ts';
import { parseConfig } from '../../src/config/load.ts';
import { loadAdapters } from '../../src/config/adapters.ts';
import { startGateway, type Gateway } from '../../src/server/gateway.ts';
import { createLogger } from '../../src/observability/log.ts';

// kubegate in aggregated mode posts Kubernetes Events about upstream incidents to the (fake) kube-apiserver,
// which records every events.k8s.io request. The weather upstream sits behind a fault proxy.
const NAMESPACE = 'kubegate-system';
let kube: FakeKubeApi;
let weather: FakeWeather;
let proxy: FaultProxy;
let gw: Gateway;

beforeAll(async () => {
  const pki = await createClusterPki();
  kube = await startFakeKubeApi({ configMap: authenticationConfigMapData(pki) });
  weather = await startFakeWeather({ port: 0 });
  proxy = await startFaultProxy({ target: weather.url });
  const loaded = parseConfig(
    JSON.stringify({
      mode: 'aggregated',
      server: { host: '127.0.0.1', port: 0 },
      auth: { kubeconfig: kube.kubeconfig },
      adapters: [
        {
          name: 'weather',
          module: resolve(import.meta.dirname, '../../adapters/weather/index.ts'),
          config: { baseUrl: proxy.url, locations: LOCATIONS },
          pollInterval: '100ms',
          resilience: { retries: 0, timeout: '500ms', breakerThreshold: 2, halfOpenAfter: '150ms' },
        },
      ],
    }),
  );
  gw = await startGateway({
    config: loaded.config,
    adapters: await loadAdapters(loaded),
    tls: pki.kubegate,
    logger: createLogger('error'),
    events: { namespace: NAMESPACE, instance: 'kubegate-0', patchIntervalMs: 50 },
  });
});
afterAll(async () => {
  await gw.close();
  await proxy.close();
  await weather.close();
  await kube.close();
});

const requests = (reason: string, method?: 'POST' | 'PATCH') =>
  kube.events.requests.filter(
    (r) =>
      (method === undefined || r.method === method) &&
      (r.method === 'PATCH' ? stored(r.name)?.reason === reason : r.body.reason === reason),
  );
const stored = (name: string): KubeEvent | undefined => kube.events.objects.get(`${NAMESPACE}/${name}`);
const byReason = (reason: string): KubeEvent[] => [...kube.events.objects.values()].filter((e) => e.reason === reason);

describe('Kubernetes Events for upstream incidents', () => {
  it('a breaker that keeps opening is one Event series whose count grows, not one object per failure', async () => {
    proxy.set({ kind: 'status', status: 503 });
    await expect.poll(() => byReason('BreakerOpened').length, { timeout: 15_000 }).toBe(1);
    const [first] = byReason('BreakerOpened');
    const name = first?.metadata.name ?? '';
    expect(first).toMatchObject({
      type: 'Warning',
      action: 'CallUpstream',
      reportingController: 'kubegate.dev/kubegate',
      reportingInstance: 'kubegate-0',
      regarding: { apiVersion: 'kubegate.dev/v1alpha1', kind: 'Adapter', name: 'weather' },
      metadata: { namespace: NAMESPACE },
    });
    // Half-open probes fail and the breaker opens again and again: the same object's series.count grows.
    await expect.poll(() => stored(name)?.series?.count ?? 1, { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
    expect(requests('BreakerOpened', 'POST')).toHaveLength(1);
    expect(requests('BreakerOpened', 'PATCH').length).toBeGreaterThanOrEqual(1);
    expect(requests('BreakerOpened', 'PATCH').every((r) => r.name === name && r.status === 200)).toBe(true);
    expect(byReason('BreakerOpened')).toHaveLength(1);
    // Polls failing for several intervals: one series too.
    await expect.poll(() => byReason('PollsFailing').length, { timeout: 15_000 }).toBe(1);
    expect(byReason('PollsFailing')[0]?.note).toMatch(/polls in a row of forecasts of adapter weather failed/);
    // Upstream text is never echoed: the fault proxy's body is not in any note.
    for (const e of kube.events.objects.values()) expect(e.note).not.toMatch(/injected|fault/i);
  });

  it('recovery is reported once, as Normal Events', async () => {
    proxy.set({ kind: 'none' });
    await expect.poll(() => byReason('BreakerClosed').length, { timeout: 15_000 }).toBe(1);
    await expect.poll(() => byReason('PollsRecovered').length, { timeout: 15_000 }).toBe(1);
    expect(byReason('BreakerClosed')[0]?.type).toBe('Normal');
  });

  it('credentials rejected by the upstream (401) are a Warning naming the adapter', async () => {
    proxy.set({ kind: 'status', status: 401 });
    await expect.poll(() => byReason('CredentialsRejected').length, { timeout: 15_000 }).toBe(1);
    expect(byReason('CredentialsRejected')[0]?.note).toMatch(/weather answered 401 Unauthorized/);
    proxy.set({ kind: 'none' });
  });
});
