import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';

// The weather adapter serves Forecast as v1 (stored, preferred) and v1alpha1 (deprecated, converted from v1):
// real kubectl and @kubernetes/client-node informers against both.
const G = 'weather.kubegate.dev';
const DEPRECATED = `${G}/v1alpha1 Forecast is deprecated; use ${G}/v1 Forecast`;
let weather: FakeWeather;
let gw: TestGateway;

beforeAll(async () => {
  weather = await startFakeWeather({ port: 0 });
  weather.freeze();
  gw = await startTestGateway({
    adapters: [
      {
        name: 'weather',
        module: './adapters/weather/index.ts',
        config: { baseUrl: weather.url, locations: LOCATIONS },
      },
    ],
  });
  await gw.gateway.runtime.collections[0]?.poller.ready();
});
afterAll(async () => {
  await gw.close();
  await weather.close();
});

interface Forecast extends k8s.KubernetesObject {
  status?: { temperatureC?: number; windSpeedKmh?: number; wind?: { speedKmh: number } };
}

describe('several versions of one resource', () => {
  it('kubectl: v1 is preferred; v1alpha1 answers with the deprecation Warning', async () => {
    const v1 = await kubectl(gw.kubeconfig, ['get', 'forecasts']);
    expect(v1.code).toBe(0);
    expect(v1.stderr).not.toContain('deprecated');
    const old = await kubectl(gw.kubeconfig, ['get', `forecasts.v1alpha1.${G}`]);
    expect(old.code).toBe(0);
    expect(old.stderr).toContain(`Warning: ${DEPRECATED}`);
    // Same rows (the Wind column reads another path in each version).
    expect(old.stdout.split('\n')[0]).toMatch(/^NAME\s+COUNTRY\s+TEMP\s+CONDITION\s+WIND\s+UPDATED/);
    const cells = (out: string) =>
      out.split('\n').map((l) =>
        l
          .split(/\s{2,}/)
          .slice(0, 5)
          .join('|'),
      );
    expect(cells(old.stdout)).toEqual(cells(v1.stdout));

    const json = JSON.parse(await kubectlOk(gw.kubeconfig, ['get', 'forecast', 'paris', '-o', 'json'])) as {
      apiVersion: string;
      metadata: { resourceVersion: string; uid: string };
      status: { wind: { speedKmh: number }; windSpeedKmh?: number };
    };
    expect(json.apiVersion).toBe(`${G}/v1`);
    expect(typeof json.status.wind.speedKmh).toBe('number');
    const alpha = JSON.parse(
      await kubectlOk(gw.kubeconfig, ['get', `forecasts.v1alpha1.${G}`, 'paris', '-o', 'json']),
    ) as typeof json;
    expect(alpha.apiVersion).toBe(`${G}/v1alpha1`);
    expect(alpha.status.windSpeedKmh).toBe(json.status.wind.speedKmh);
    expect(alpha.metadata.resourceVersion).toBe(json.metadata.resourceVersion);
    expect(alpha.metadata.uid).toBe(json.metadata.uid);
  });

  it('kubectl explain shows each version its own schema', async () => {
    const old = await kubectlOk(gw.kubeconfig, ['explain', 'forecasts.status', `--api-version=${G}/v1alpha1`]);
    expect(old).toContain('VERSION:    v1alpha1');
    expect(old).toMatch(/windSpeedKmh\s+<number>/);
    expect(old).not.toMatch(/^\s+wind\s+<Object>/m);
    const kind = await kubectlOk(gw.kubeconfig, ['explain', 'forecasts', `--api-version=${G}/v1alpha1`]);
    expect(kind).toContain('Deprecated:');
    const v1 = await kubectlOk(gw.kubeconfig, ['explain', 'forecasts.status']);
    expect(v1).toContain('VERSION:    v1');
    expect(v1).toMatch(/wind\s+<Object>/);
    expect(v1).not.toContain('windSpeedKmh');
  });

  it('kubectl api-versions and api-resources', async () => {
    const versions = (await kubectlOk(gw.kubeconfig, ['api-versions'])).split('\n');
    expect(versions).toContain(`${G}/v1`);
    expect(versions).toContain(`${G}/v1alpha1`);
    const resources = await kubectlOk(gw.kubeconfig, ['api-resources', '--api-group', G]);
    expect(resources).toMatch(/forecasts\s+fc\s+weather\.kubegate\.dev\/v1\s+false\s+Forecast/);
  });

  it('discovery: preferred version first, every version in priority order', async () => {
    const group = JSON.parse((await gw.get(`/apis/${G}`)).body) as {
      preferredVersion: { version: string };
      versions: { version: string }[];
    };
    expect(group.preferredVersion.version).toBe('v1');
    expect(group.versions.map((v) => v.version)).toEqual(['v1', 'v1alpha1']);
    const agg = JSON.parse(
      (await gw.get('/apis', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' })).body,
    ) as { items: { metadata: { name: string }; versions: { version: string }[] }[] };
    const weatherGroup = agg.items.find((i) => i.metadata.name === G);
    expect(weatherGroup?.versions.map((v) => v.version)).toEqual(['v1', 'v1alpha1']);
  });

  it('every answer of the deprecated version carries the Warning, errors and watches included', async () => {
    const warning = `299 - "${DEPRECATED}"`;
    const list = await gw.get(`/apis/${G}/v1alpha1/forecasts?fieldSelector=status.condition%3Dnope`);
    expect(list.status).toBe(200);
    expect(list.headers.get('warning')).toBe(warning);
    const missing = await gw.get(`/apis/${G}/v1alpha1/forecasts/nosuch`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('warning')).toBe(warning);
    const watch = await gw.get(`/apis/${G}/v1alpha1/forecasts?watch=1&timeoutSeconds=1`);
    expect(watch.status).toBe(200);
    expect(watch.headers.get('warning')).toBe(warning);
    expect(watch.body.split('\n').filter(Boolean)).toHaveLength(LOCATIONS.length);
    const v1 = await gw.get(`/apis/${G}/v1/forecasts`);
    expect(v1.headers.get('warning')).toBeNull();
  });

  it("Tables (lists and watch frames) use the version's columns", async () => {
    const accept = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' };
    const obj = JSON.parse((await gw.get(`/apis/${G}/v1alpha1/forecasts/paris`)).body) as {
      status: { windSpeedKmh: number };
    };
    interface Table {
      columnDefinitions?: { name: string }[];
      rows: { cells: unknown[]; object: { metadata: { name: string } } }[];
    }
    const windOf = (t: Table, columns: { name: string }[]) =>
      t.rows.find((r) => r.object.metadata.name === 'paris')?.cells[columns.findIndex((c) => c.name === 'Wind')];
    const list = JSON.parse(
      (await gw.get(`/apis/${G}/v1alpha1/forecasts?includeObject=Metadata`, accept)).body,
    ) as Table;
    expect(windOf(list, list.columnDefinitions ?? [])).toBe(obj.status.windSpeedKmh);
    const watch = await gw.get(`/apis/${G}/v1alpha1/forecasts?watch=1&timeoutSeconds=1&includeObject=Metadata`, accept);
    const frames = watch.body
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { object: Table }).object);
    const columns = frames[0]?.columnDefinitions ?? [];
    expect(columns.map((c) => c.name)).toContain('Wind');
    const paris = frames.find((f) => f.rows[0]?.object.metadata.name === 'paris');
    expect(paris && windOf(paris, columns)).toBe(obj.status.windSpeedKmh);
  });

  it('selectors are evaluated on the served version', async () => {
    const cond = (JSON.parse((await gw.get(`/apis/${G}/v1/forecasts/paris`)).body) as { status: { condition: string } })
      .status.condition;
    for (const v of ['v1', 'v1alpha1']) {
      const r = await gw.get(
        `/apis/${G}/${v}/forecasts?fieldSelector=${encodeURIComponent(`status.condition=${cond}`)}&labelSelector=country%3DFR`,
      );
      const names = (JSON.parse(r.body) as { items: { metadata: { name: string } }[] }).items.map(
        (i) => i.metadata.name,
      );
      expect(names).toContain('paris');
    }
  });

  it('informers on v1 and v1alpha1 see the same changes with the same resourceVersions', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(gw.kubeconfig);
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    const seen: Record<string, string[]> = { v1: [], v1alpha1: [] };
    const informers = ['v1', 'v1alpha1'].map((v) => {
      const inf = k8s.makeInformer<Forecast>(
        kc,
        `/apis/${G}/${v}/forecasts`,
        () => api.listClusterCustomObject({ group: G, version: v, plural: 'forecasts' }) as never,
      );
      inf.on('update', (o) => {
        // Each version's own shape, the same content.
        const wind = v === 'v1' ? o.status?.wind?.speedKmh : o.status?.windSpeedKmh;
        (seen[v] as string[]).push(`${o.metadata?.name}@${o.metadata?.resourceVersion}:${wind}:${o.apiVersion}`);
      });
      return inf;
    });
    await Promise.all(informers.map((i) => i.start()));
    try {
      const [v1, alpha] = informers as [(typeof informers)[0], (typeof informers)[0]];
      const state = (inf: typeof v1) =>
        inf
          .list()
          .map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`)
          .sort()
          .join(' ');
      await expect.poll(() => v1.list().length).toBe(LOCATIONS.length);
      await expect.poll(() => state(alpha) === state(v1)).toBe(true);
      weather.tick();
      await expect.poll(() => seen.v1?.length ?? 0, { timeout: 15_000 }).toBeGreaterThan(0);
      // name@resourceVersion:wind speed, without the apiVersion.
      const changes = (v: string) => (seen[v] ?? []).map((x) => x.replace(/:[^:]*$/, '')).join(' ');
      await expect.poll(() => changes('v1alpha1') === changes('v1'), { timeout: 15_000 }).toBe(true);
      expect(changes('v1alpha1')).toEqual(changes('v1'));
      expect(seen.v1?.every((x) => x.endsWith(`:${G}/v1`))).toBe(true);
      expect(seen.v1alpha1?.every((x) => x.endsWith(`:${G}/v1alpha1`))).toBe(true);
      expect(state(alpha)).toEqual(state(v1));
    } finally {
      await Promise.all(informers.map((i) => i.stop()));
    }
  });
});
