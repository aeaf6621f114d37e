import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKubeApi, type FakeKubeApi } from './fake-kube-api.ts';
import { startFrontProxy, type FrontProxy } from './front-proxy.ts';
import { authenticationConfigMapData, createClusterPki, KUBEGATE_SERVICE_NAME } from './pki.ts';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { parseConfig } from '../../src/config/load.ts';
import { loadAdapters } from '../../src/config/adapters.ts';
import { startGateway, type Gateway } from '../../src/server/gateway.ts';
import { createLogger } from '../../src/observability/log.ts';

// The whole gateway in `mode: aggregated` (as `kubegate serve` builds it from a config file), behind the
// aggregator stand-in, driven by the real kubectl.
let kube: FakeKubeApi;
let weather: FakeWeather;
let gw: Gateway;
let proxy: FrontProxy;
let dir: string;

beforeAll(async () => {
  const pki = await createClusterPki();
  dir = mkdtempSync(join(tmpdir(), 'kubegate-agg-'));
  kube = await startFakeKubeApi({
    configMap: authenticationConfigMapData(pki),
    tokens: { 'alice-token': { username: 'alice', groups: ['devs'] }, 'bob-token': { username: 'bob' } },
  });
  kube.rules.push({
    role: 'forecast-viewer',
    groups: ['devs'],
    verbs: ['get', 'list', 'watch'],
    apiGroups: ['weather.kubegate.dev'],
    resources: ['forecasts'],
  });
  const kubeconfig = kube.kubeconfig; // a file the fake wrote for kubegate
  weather = await startFakeWeather({ port: 0 });
  const loaded = parseConfig(
    JSON.stringify({
      mode: 'aggregated',
      server: { host: '127.0.0.1', port: 0 },
      auth: { kubeconfig, rateLimit: { perSecond: 50, burst: 100 } },
      adapters: [
        {
          name: 'weather',
          module: resolve(import.meta.dirname, '../../adapters/weather/index.ts'),
          config: { baseUrl: weather.url, locations: LOCATIONS },
        },
      ],
    }),
  );
  gw = await startGateway({
    config: loaded.config,
    adapters: await loadAdapters(loaded),
    tls: pki.kubegate,
    logger: createLogger('error'),
  });
  proxy = await startFrontProxy({
    target: gw.url,
    targetCA: pki.kubegateCA.cert,
    serverName: KUBEGATE_SERVICE_NAME,
    clientCert: pki.frontProxyClient,
    authenticate: (t) => {
      const u = kube.tokens.get(t);
      return u ? { name: u.username, groups: u.groups ?? [] } : undefined;
    },
  });
});
afterAll(async () => {
  await proxy.close();
  await gw.close();
  await weather.close();
  await kube.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubegate serve in aggregated mode', () => {
  it('a user RBAC allows lists forecasts through the aggregator', async () => {
    const kc = join(dir, 'alice');
    proxy.writeKubeconfig(kc, 'alice-token', 'alice');
    const out = await kubectlOk(kc, ['get', 'forecasts.weather.kubegate.dev', '-o', 'name']);
    expect(out.trim().split('\n')).toHaveLength(6);
  });

  it("a user RBAC does not allow sees the kube-apiserver's Forbidden message", async () => {
    const kc = join(dir, 'bob');
    proxy.writeKubeconfig(kc, 'bob-token', 'bob');
    const r = await kubectl(kc, ['get', 'forecasts.weather.kubegate.dev']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'Error from server (Forbidden): forecasts.weather.kubegate.dev is forbidden: User "bob" cannot list resource "forecasts" in API group "weather.kubegate.dev" at the cluster scope',
    );
  });

  it('the aggregator probes discovery under default RBAC', async () => {
    const r = await proxy.requestAs(
      { name: 'system:kube-aggregator', groups: [] },
      '/apis/weather.kubegate.dev/v1alpha1',
    );
    expect(r.status).toBe(200);
  });
});
