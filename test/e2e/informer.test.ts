import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

// An @kubernetes/client-node informer (list, then watch, relist on 410) against kubegate, compared with the
// fake upstream's truth after every step, across a kubegate restart.
const G = 'weather.kubegate.dev';
const V = 'v1alpha1';
let weather: FakeWeather;
let gw: TestGateway;
const adapters = (locations = LOCATIONS) => [
  {
    name: 'weather',
    module: './adapters/weather/index.ts',
    config: { baseUrl: weather.url, locations },
    pollInterval: '200ms',
  },
];

interface Forecast extends k8s.KubernetesObject {
  status?: { temperatureC?: number };
}

beforeAll(async () => {
  weather = await startFakeWeather({ port: 0 });
  weather.freeze();
  gw = await startTestGateway({ adapters: adapters() });
});
afterAll(async () => {
  await gw.close();
  await weather.close();
});

/** The upstream's truth: name → current temperature, straight from the fake Open-Meteo. */
async function upstreamTruth(locations: typeof LOCATIONS): Promise<Map<string, number>> {
  const lat = locations.map((l) => l.latitude).join(',');
  const lon = locations.map((l) => l.longitude).join(',');
  const r = await fetch(`${weather.url}/v1/forecast?latitude=${lat}&longitude=${lon}&current=temperature_2m`);
  const body = (await r.json()) as { current: { temperature_2m: number } }[] | { current: { temperature_2m: number } };
  const arr = Array.isArray(body) ? body : [body];
  return new Map(locations.map((l, i) => [l.name, arr[i]?.current.temperature_2m ?? NaN]));
}

function cacheState(inf: k8s.Informer<Forecast> & k8s.ObjectCache<Forecast>): Map<string, number | undefined> {
  return new Map(inf.list().map((o) => [o.metadata?.name ?? '', o.status?.temperatureC]));
}

async function converge(inf: k8s.Informer<Forecast> & k8s.ObjectCache<Forecast>, locations: typeof LOCATIONS) {
  const end = Date.now() + 15_000;
  let want = new Map<string, number>();
  let got = new Map<string, number | undefined>();
  while (Date.now() < end) {
    want = await upstreamTruth(locations);
    got = cacheState(inf);
    if (JSON.stringify([...got].sort()) === JSON.stringify([...want].sort())) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect([...got].sort()).toEqual([...want].sort());
}

describe('client-node informer', () => {
  it('syncs, follows adds/updates/deletes in order, and recovers after a restart', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(gw.kubeconfig);
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    const path = `/apis/${G}/${V}/forecasts`;
    const inf = k8s.makeInformer<Forecast>(
      kc,
      path,
      () => api.listClusterCustomObject({ group: G, version: V, plural: 'forecasts' }) as never,
    );
    const log: string[] = [];
    const rvs: number[] = [];
    const seen = (type: string) => (o: Forecast) => {
      log.push(`${type} ${o.metadata?.name ?? ''}`);
      rvs.push(Number(o.metadata?.resourceVersion));
    };
    inf.on('add', seen('add'));
    inf.on('update', seen('update'));
    inf.on('delete', seen('delete'));
    let errors = 0;
    inf.on('error', () => {
      errors++;
      setTimeout(() => void inf.start(), 300);
    });
    await inf.start();
    try {
      await converge(inf, LOCATIONS);
      expect(log.filter((l) => l.startsWith('add')).length).toBe(6);
      rvs.length = 0; // from here on every callback comes from the watch, which must be in order

      weather.tick();
      await converge(inf, LOCATIONS);
      expect(log.some((l) => l.startsWith('update'))).toBe(true);

      const rome = { name: 'rome', latitude: 41.9, longitude: 12.5, country: 'IT', region: 'europe' };
      await gw.gateway.runtime.reconfigure('weather', { baseUrl: weather.url, locations: [...LOCATIONS, rome] });
      await converge(inf, [...LOCATIONS, rome]);
      await gw.gateway.runtime.reconfigure('weather', { baseUrl: weather.url, locations: LOCATIONS });
      await converge(inf, LOCATIONS);
      expect(log.filter((l) => l === 'add rome' || l === 'delete rome')).toEqual(['add rome', 'delete rome']);
      // Watch events reach the informer in resourceVersion order.
      expect(rvs.length).toBeGreaterThan(0);
      expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);

      // Restart kubegate on the same port: the new process has newer resourceVersions; the informer's watch
      // gets 410 (or a connection error) and relists.
      const { port, certs, token } = gw;
      await gw.close();
      weather.tick();
      gw = await startTestGateway({ adapters: adapters(), port, certs, token });
      await converge(inf, LOCATIONS);
      const before = log.length;
      weather.tick();
      await converge(inf, LOCATIONS);
      expect(log.length).toBeGreaterThan(before);
      expect(errors).toBeGreaterThanOrEqual(0);
      // No duplicates in the cache.
      expect(new Set(inf.list().map((o) => o.metadata?.name)).size).toBe(inf.list().length);
    } finally {
      await inf.stop();
    }
  });
});
