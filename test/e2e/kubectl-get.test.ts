import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';
import { startDev } from '../helpers/dev.ts';

// The real kubectl binary against `kubegate dev` (bundled weather adapter, fake Open-Meteo upstream).
const GROUP = 'weather.kubegate.dev';
let dev: Awaited<ReturnType<typeof startDev>>;
let kc: string;

beforeAll(async () => {
  dev = await startDev();
  kc = dev.kubeconfig;
  await dev.gateway.runtime.collections[0]?.poller.ready();
});
afterAll(async () => {
  await dev.close();
});

const rows = (out: string) =>
  out
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s{2,}/));

describe('kubectl against kubegate dev', () => {
  it('api-resources lists forecasts with short name, kind and category', async () => {
    const out = await kubectlOk(kc, ['api-resources', '--api-group', GROUP, '-o', 'wide']);
    const line = out.split('\n').find((l) => l.startsWith('forecasts'));
    expect(line).toBeDefined();
    expect(line).toMatch(/forecasts\s+fc\s+weather\.kubegate\.dev\/v1\s+false\s+Forecast\s+get,list,watch/);
    expect(line).toContain('external');
    const byCategory = await kubectlOk(kc, ['get', 'external', '-o', 'name']);
    expect(byCategory).toContain('forecast.weather.kubegate.dev/paris');
  });

  it('get shows the adapter columns and a real AGE', async () => {
    const out = await kubectlOk(kc, ['get', 'forecasts']);
    const header = out.split('\n')[0] ?? '';
    expect(header).toMatch(/^NAME\s+COUNTRY\s+TEMP\s+CONDITION\s+WIND\s+UPDATED/);
    expect(header).not.toContain('REGION');
    const names = rows(out).map((r) => r[0]);
    expect(names).toEqual(['berlin', 'lyon', 'munich', 'new-york', 'paris', 'tokyo']);
    const paris = rows(out).find((r) => r[0] === 'paris');
    expect(paris?.[1]).toBe('FR');
    // UPDATED and AGE are ages, rendered by the server at response time like kubectl's own resources.
    expect(paris?.[5]).toMatch(/^\d+[smhdy]/);
    expect(paris?.[6]).toMatch(/^\d+[smhdy]/);
    expect(Number(paris?.[2])).not.toBeNaN();
  });

  it('-o wide adds the priority-1 columns', async () => {
    const out = await kubectlOk(kc, ['get', 'forecasts', '-o', 'wide']);
    expect(out.split('\n')[0]).toMatch(/REGION\s+LATITUDE\s+LONGITUDE/);
    expect(out).toMatch(/paris .* europe\s+48\.8/);
  });

  it('-o yaml and -o json carry identity and resourceVersion', async () => {
    const json = JSON.parse(await kubectlOk(kc, ['get', 'forecast', 'paris', '-o', 'json'])) as {
      apiVersion: string;
      kind: string;
      metadata: Record<string, unknown>;
      status: { temperatureC: number };
    };
    expect(json.apiVersion).toBe(`${GROUP}/v1`);
    expect(json.kind).toBe('Forecast');
    expect(json.metadata.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(json.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(json.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(typeof json.status.temperatureC).toBe('number');
    const yaml = await kubectlOk(kc, ['get', 'fc', 'paris', '-o', 'yaml']);
    expect(yaml).toContain('kind: Forecast');
    expect(yaml).toContain('country: FR');
  });

  it('label selectors: equality and set-based', async () => {
    const fr = await kubectlOk(kc, ['get', 'forecasts', '-l', 'country=FR', '-o', 'name']);
    expect(fr.trim().split('\n')).toEqual([
      'forecast.weather.kubegate.dev/lyon',
      'forecast.weather.kubegate.dev/paris',
    ]);
    const set = await kubectlOk(kc, ['get', 'forecasts', '-l', 'country in (FR,DE)', '-o', 'name']);
    expect(set.trim().split('\n')).toHaveLength(4);
    const not = await kubectlOk(kc, ['get', 'forecasts', '-l', 'region!=europe', '-o', 'name']);
    expect(
      not
        .trim()
        .split('\n')
        .map((l) => l.split('/')[1]),
    ).toEqual(['new-york', 'tokyo']);
  });

  it('field selector on metadata.name and on a declared field; others are refused', async () => {
    const one = await kubectlOk(kc, ['get', 'forecasts', '--field-selector', 'metadata.name=paris', '-o', 'name']);
    expect(one.trim()).toBe('forecast.weather.kubegate.dev/paris');
    const bad = await kubectl(kc, ['get', 'forecasts', '--field-selector', 'spec.nope=1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('field label not supported: spec.nope');
  });

  it('--chunk-size paginates with continue tokens and returns every object once', async () => {
    const out = await kubectlOk(kc, ['get', 'forecasts', '--chunk-size=2', '-o', 'name', '-v=6']);
    expect(
      out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('forecast.')).length,
    ).toBe(6);
    const verbose = await kubectl(kc, ['get', 'forecasts', '--chunk-size=2', '-v=6']);
    expect(verbose.stderr.match(/continue=/g)?.length).toBe(2);
  });

  it('--sort-by sorts on a column from the full object', async () => {
    const out = await kubectlOk(kc, ['get', 'forecasts', '--sort-by=.spec.longitude', '-o', 'name']);
    expect(out.trim().split('\n')[0]).toBe('forecast.weather.kubegate.dev/new-york');
    expect(out.trim().split('\n').at(-1)).toBe('forecast.weather.kubegate.dev/tokyo');
  });

  it('explain reads the OpenAPI schema', async () => {
    const out = await kubectlOk(kc, ['explain', 'forecasts.status']);
    expect(out).toContain('KIND:       Forecast');
    expect(out).toMatch(/temperatureC\s+<number>/);
  });

  it('NotFound reads like the kube-apiserver', async () => {
    const r = await kubectl(kc, ['get', 'forecast', 'nosuch']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`Error from server (NotFound): forecasts.${GROUP} "nosuch" not found`);
  });

  it('a malformed label selector is a BadRequest naming the problem', async () => {
    const r = await kubectl(kc, ['get', 'forecasts', '-l', 'country in (FR']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Error from server \(BadRequest\)|unable to parse/);
  });

  it('writes are refused with MethodNotAllowed', async () => {
    const r = await kubectl(kc, ['delete', 'forecast', 'paris']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('MethodNotAllowed');
  });
});
