import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';
import { loadAdapters } from '../../src/config/adapters.ts';
import { parseConfig } from '../../src/config/load.ts';

// Two entries of one adapter (two accounts of one upstream) side by side: the second is served under an API
// group of its own, with its own upstream, policy and Adapter row.
let us: FakeWeather;
let eu: FakeWeather;
let gw: TestGateway;
const EU = LOCATIONS.filter((l) => l.region === 'europe');
const OTHER = LOCATIONS.filter((l) => l.region !== 'europe');

beforeAll(async () => {
  us = await startFakeWeather({ port: 0 });
  eu = await startFakeWeather({ port: 0 });
  gw = await startTestGateway({
    adapters: [
      {
        name: 'weather',
        module: './adapters/weather/index.ts',
        config: { baseUrl: us.url, locations: OTHER },
        pollInterval: '300ms',
      },
      {
        name: 'weather-eu',
        module: './adapters/weather/index.ts',
        group: 'eu.weather.kubegate.dev',
        config: { baseUrl: eu.url, locations: EU },
        pollInterval: '300ms',
        resilience: { retries: 0 },
      },
    ],
  });
});
afterAll(async () => {
  await gw.close();
  await us.close();
  await eu.close();
});

const names = (out: string) => out.trim().split('\n').sort();

describe('two entries of one adapter', () => {
  it('kubectl lists each entry under its own group, from its own upstream', async () => {
    const resources = await kubectlOk(gw.kubeconfig, ['api-resources', '-o', 'name']);
    expect(resources).toContain('forecasts.weather.kubegate.dev');
    expect(resources).toContain('forecasts.eu.weather.kubegate.dev');
    await expect
      .poll(async () =>
        names(await kubectlOk(gw.kubeconfig, ['get', 'forecasts.eu.weather.kubegate.dev', '-o', 'name'])),
      )
      .toEqual(EU.map((l) => `forecast.eu.weather.kubegate.dev/${l.name}`).sort());
    expect(names(await kubectlOk(gw.kubeconfig, ['get', 'forecasts.weather.kubegate.dev', '-o', 'name']))).toEqual(
      OTHER.map((l) => `forecast.weather.kubegate.dev/${l.name}`).sort(),
    );
    expect(us.requests).toBeGreaterThan(0);
    expect(eu.requests).toBeGreaterThan(0);
    const one = JSON.parse(
      await kubectlOk(gw.kubeconfig, ['get', `forecasts.eu.weather.kubegate.dev/${EU[0]!.name}`, '-o', 'json']),
    ) as { apiVersion: string };
    expect(one.apiVersion).toBe('eu.weather.kubegate.dev/v1');
    // A category spans both entries.
    const external = names(await kubectlOk(gw.kubeconfig, ['get', 'external', '-o', 'name']));
    expect(external).toHaveLength(LOCATIONS.length);
  });

  it('each entry has its own Adapter row and its own upstream policy', async () => {
    eu.fail(503);
    const out = await kubectlOk(gw.kubeconfig, ['get', 'adapters', '-o', 'json']);
    const rows = (JSON.parse(out) as { items: { metadata: { name: string }; spec: { group: string } }[] }).items;
    expect(rows.map((r) => [r.metadata.name, r.spec.group])).toEqual(
      expect.arrayContaining([
        ['weather', 'weather.kubegate.dev'],
        ['weather-eu', 'eu.weather.kubegate.dev'],
      ]),
    );
    // The failing account serves its last data with a Warning; the other is untouched.
    await expect
      .poll(async () => (await kubectl(gw.kubeconfig, ['get', 'forecasts.eu.weather.kubegate.dev'])).stderr, {
        timeout: 15_000,
      })
      .toMatch(/Warning: weather-eu: upstream unavailable/);
    const usGet = await kubectl(gw.kubeconfig, ['get', 'forecasts.weather.kubegate.dev']);
    expect(usGet.stderr).toBe('');
    eu.fail(null);
  });

  it('two entries serving one group are refused with a line naming both', async () => {
    const entry = (name: string) => ({
      name,
      module: './adapters/weather/index.ts',
      config: { baseUrl: 'http://127.0.0.1:9', locations: EU },
    });
    const loaded = parseConfig(JSON.stringify({ adapters: [entry('a'), entry('b')] }), 'two.yaml');
    await expect(loadAdapters(loaded, process.cwd())).rejects.toThrow(
      /^adapters\[1\]\.group: "b" and "a" both serve weather\.kubegate\.dev\/v1; give one of them an API group of its own \(e\.g\. group: eu\.weather\.kubegate\.dev\) \(two\.yaml line 1\)$/,
    );
  });
});
