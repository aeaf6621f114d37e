import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type, defineAdapter, defineResource, type Static } from 'kubegate/sdk';
import {
  ConfigError,
  fixtureFetch,
  getOnce,
  listOnce,
  listPageOnce,
  startTestGateway,
  validateConfig,
} from 'kubegate/testing';
import weather from '../../adapters/weather/index.ts';
import payments from '../../adapters/payments/index.ts';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startFakePayments, type FakePayments } from '../../examples/fake-payments/server.ts';
import { kubectlOk } from '../../test/helpers/kubectl.ts';

// A small adapter over a JSON API that sends what many do: nulls in string fields, duplicate ids, odd tags.
const WidgetsConfig = Type.Object({ baseUrl: Type.String({ format: 'uri' }), team: Type.String({ default: 'core' }) });
const widgets = defineAdapter({
  name: 'widgets',
  group: 'widgets.example.com',
  version: 'v1alpha1',
  config: WidgetsConfig,
  resources: [
    defineResource<Static<typeof WidgetsConfig>>({
      kind: 'Widget',
      plural: 'widgets',
      scope: 'Cluster',
      mode: 'mirror',
      schema: { status: Type.Object({ color: Type.String(), size: Type.Integer() }) },
      async list(ctx) {
        const res = await ctx.fetch(`${ctx.config.baseUrl}/widgets`);
        const body = (await res.json()) as {
          items: { id: string; color: string | null; size: number; tag?: string }[];
        };
        return body.items
          .map((w) => {
            if (w.size < 0) ctx.skip(`widget ${w.id}: negative size`);
            return {
              name: w.id,
              labels: { team: ctx.config.team, tag: w.tag },
              status: { color: w.color, size: w.size },
            };
          })
          .filter((w) => w.status.size >= 0);
      },
    }),
  ],
});

const fixtures = fixtureFetch({
  'GET /widgets': {
    items: [
      { id: 'Blue_One', color: 'blue', size: 3, tag: 'env:prod' },
      { id: 'red', color: null, size: 1 },
      { id: 'green', color: 'green', size: 2 },
      { id: 'green', color: 'green', size: 2 },
      { id: 'tiny', color: 'grey', size: -1 },
    ],
  },
});

describe('listOnce', () => {
  it('returns the objects as kubegate serves them and every skipped item with its reason', async () => {
    const { objects, skipped } = await listOnce({
      adapter: widgets,
      config: { baseUrl: 'http://widgets.test' },
      fetch: fixtures,
    });
    expect(fixtures.calls).toContain('GET /widgets');
    expect(objects.map((o) => o.metadata.name)).toEqual([expect.stringMatching(/^blue-one-[0-9a-f]{8}$/), 'green']);
    const blue = objects[0]!;
    expect(blue).toMatchObject({
      apiVersion: 'widgets.example.com/v1alpha1',
      kind: 'Widget',
      metadata: { labels: { team: 'core' } },
      status: { color: 'blue', size: 3 },
    });
    expect(blue.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(blue.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(skipped).toEqual([
      { kind: 'adapter', reason: 'widget tiny: negative size' },
      { kind: 'schema', reason: 'status.color: expected string, got null', item: 'red' },
      { kind: 'duplicate', reason: expect.stringMatching(/same name/), item: 'green' },
    ]);
  });

  it('runs against a fake upstream, and a failing poll rejects with its cause', async () => {
    const fake: FakeWeather = await startFakeWeather({ port: 0 });
    try {
      const { objects, skipped } = await listOnce({
        adapter: weather,
        config: { baseUrl: fake.url, locations: LOCATIONS.slice(0, 3) },
      });
      expect(objects).toHaveLength(3);
      expect(skipped).toEqual([]);
    } finally {
      await fake.close();
    }
    await expect(
      listOnce({ adapter: widgets, config: { baseUrl: 'http://widgets.test' }, fetch: fixtureFetch({}) }),
    ).rejects.toThrow(/widgets/);
  });
});

describe('pass-through', () => {
  let pay: FakePayments;
  beforeAll(async () => {
    pay = await startFakePayments({ port: 0, charges: 30 });
  });
  afterAll(() => pay.close());

  it('listPageOnce pages with continue tokens; getOnce fetches one object', async () => {
    const o = { adapter: payments, config: { baseUrl: pay.url, apiKey: pay.apiKey }, resource: 'charges' };
    const first = await listPageOnce(o, { limit: 10 });
    expect(first.objects).toHaveLength(10);
    expect(first.continue).toBeTruthy();
    const second = await listPageOnce(o, { limit: 10, continue: first.continue! });
    const names = new Set([...first.objects, ...second.objects].map((x) => x.metadata.name));
    expect(names.size).toBe(20);
    const one = first.objects[0]!;
    const got = await getOnce(o, { name: one.metadata.name, namespace: one.metadata.namespace! });
    expect(got.object?.metadata.uid).toBe(one.metadata.uid);
    expect(got.skipped).toEqual([]);
    expect((await getOnce(o, { name: 'no-such-charge', namespace: one.metadata.namespace! })).object).toBeUndefined();
    const ns = one.metadata.namespace!;
    const inNs = await listPageOnce(o, { limit: 30, namespace: ns });
    expect(inNs.objects.every((x) => x.metadata.namespace === ns)).toBe(true);
  });
});

describe('validateConfig', () => {
  it('applies defaults and names the field kubegate would reject, with its formats', () => {
    expect(validateConfig(widgets, { baseUrl: 'http://x.test' })).toEqual({ baseUrl: 'http://x.test', team: 'core' });
    expect(() => validateConfig(widgets, { baseUrl: 'not a url' })).toThrow(ConfigError);
    expect(() => validateConfig(widgets, { baseUrl: 'not a url' })).toThrow(/^config\.baseUrl: .*uri/);
  });
});

describe('startTestGateway', () => {
  it('serves the adapter to kubectl through a CA-verified kubeconfig, on a free port', async () => {
    const fake = await startFakeWeather({ port: 0 });
    try {
      await using gw = await startTestGateway({
        adapters: [{ adapter: weather, config: { baseUrl: fake.url, locations: LOCATIONS.slice(0, 4) } }],
      });
      expect(gw.port).toBeGreaterThan(0);
      await expect
        .poll(async () => (await kubectlOk(gw.kubeconfig, ['get', 'forecasts', '-o', 'name'])).trim().split('\n'))
        .toHaveLength(4);
      const r = await gw.get('/apis/weather.kubegate.dev/v1alpha1/forecasts');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/json/);
    } finally {
      await fake.close();
    }
  });
});
