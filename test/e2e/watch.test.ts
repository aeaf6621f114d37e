import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const WEATHER = './adapters/weather/index.ts';
let weather: FakeWeather;
let gw: TestGateway;
const config = (locations = LOCATIONS) => ({ baseUrl: weather.url, locations });

beforeAll(async () => {
  weather = await startFakeWeather({ port: 0, changeEveryMs: 60_000 });
  weather.freeze();
  gw = await startTestGateway({
    adapters: [{ name: 'weather', module: WEATHER, config: config(), pollInterval: '300ms' }],
    watch: { bookmarkInterval: '1s' },
  });
  await gw.gateway.runtime.collections[0]?.poller.ready();
});
afterAll(async () => {
  await gw.close();
  await weather.close();
});

/** Runs `kubectl get forecasts -w ...` and collects its output lines until stopped. */
function watchKubectl(args: string[]) {
  const p = spawn('kubectl', ['--kubeconfig', gw.kubeconfig, 'get', 'forecasts', '-w', ...args]);
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    lines: () => out.split('\n').filter(Boolean),
    stderr: () => err,
    async until(pred: (lines: string[]) => boolean, ms = 15_000) {
      const end = Date.now() + ms;
      while (!pred(this.lines())) {
        if (Date.now() > end) throw new Error(`timed out; kubectl printed:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: () => p.kill(),
  };
}

describe('kubectl get -w', () => {
  it('prints ADDED, MODIFIED and DELETED as the upstream changes', async () => {
    const w = watchKubectl(['--output-watch-events']);
    try {
      await w.until((l) => l.filter((x) => x.startsWith('ADDED')).length === 6);
      expect(w.lines()[0]).toMatch(/^EVENT\s+NAME\s+COUNTRY\s+TEMP/);
      weather.tick();
      await w.until((l) => l.some((x) => x.startsWith('MODIFIED')));
      const extra = { name: 'rome', latitude: 41.9, longitude: 12.5, country: 'IT', region: 'europe' };
      await gw.gateway.runtime.reconfigure('weather', config([...LOCATIONS, extra]));
      await w.until((l) => l.some((x) => /^ADDED\s+rome\s+IT/.test(x)));
      await gw.gateway.runtime.reconfigure('weather', config());
      await w.until((l) => l.some((x) => /^DELETED\s+rome/.test(x)));
    } finally {
      w.stop();
    }
  });

  it('a name watch sees only that object', async () => {
    const p = spawn('kubectl', [
      '--kubeconfig',
      gw.kubeconfig,
      'get',
      'forecast',
      'paris',
      '-w',
      '--output-watch-events',
    ]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const end = Date.now() + 10_000;
      while (!out.includes('ADDED') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500));
      weather.tick();
      await gw.gateway.runtime.collections[0]?.poller.pollNow();
      while (!out.includes('MODIFIED') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      const rows = out.split('\n').filter((l) => /^(ADDED|MODIFIED|DELETED)/.test(l));
      expect(rows.some((l) => l.startsWith('MODIFIED'))).toBe(true);
      expect(new Set(rows.map((l) => l.split(/\s+/)[1]))).toEqual(new Set(['paris']));
    } finally {
      p.kill();
    }
  });
});

describe('watch protocol', () => {
  const base = '/apis/weather.kubegate.dev/v1alpha1/forecasts';
  it('rejects a non-numeric resourceVersion with 400', async () => {
    const r = await gw.get(`${base}?watch=true&resourceVersion=abc`);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
  });
  it('answers a resourceVersion from the future with 504 ResourceVersionTooLarge', async () => {
    const r = await gw.get(`${base}?watch=true&resourceVersion=${Number.MAX_SAFE_INTEGER}`);
    expect(r.status).toBe(504);
    const s = JSON.parse(r.body) as { reason: string; details: { causes: { reason: string }[] } };
    expect(s.reason).toBe('Timeout');
    expect(s.details.causes[0]?.reason).toBe('ResourceVersionTooLarge');
  });
  it('rejects negative timeoutSeconds with 400', async () => {
    const r = await gw.get(`${base}?watch=true&timeoutSeconds=-1`);
    expect(r.status).toBe(400);
  });
  it('sends ERROR 410 Expired in the stream for a resourceVersion that left the log', async () => {
    const r = await gw.get(`${base}?watch=1&resourceVersion=1&timeoutSeconds=5`);
    expect(r.status).toBe(200);
    const ev = JSON.parse(r.body.trim().split('\n')[0] ?? '{}') as {
      type: string;
      object: { code: number; reason: string; message: string };
    };
    expect(ev.type).toBe('ERROR');
    expect(ev.object).toMatchObject({ code: 410, reason: 'Expired' });
    expect(ev.object.message).toMatch(/^too old resource version: 1 \(\d+\)$/);
  });
  it('sendInitialEvents ends the initial ADDEDs with the initial-events-end bookmark', async () => {
    const r = await gw.get(
      `${base}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1`,
    );
    const events = r.body
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            type: string;
            object: { metadata: { resourceVersion: string; annotations?: Record<string, string> } };
          },
      );
    const added = events.filter((e) => e.type === 'ADDED');
    expect(added.length).toBe(6);
    const bm = events.find((e) => e.type === 'BOOKMARK');
    expect(bm?.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    expect(events.indexOf(bm!)).toBe(6);
    const list = JSON.parse((await gw.get(base)).body) as { metadata: { resourceVersion: string } };
    expect(Number(bm?.object.metadata.resourceVersion)).toBeLessThanOrEqual(Number(list.metadata.resourceVersion));
  });
  it('streams Table rows for kubectl, with column definitions only in the first event', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const r = await gw.get(`${base}?watch=true&timeoutSeconds=1`, { accept });
    const events = r.body
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            type: string;
            object: { kind: string; columnDefinitions?: unknown[]; rows: { cells: unknown[] }[] };
          },
      );
    expect(events).toHaveLength(6);
    expect(events.every((e) => e.object.kind === 'Table' && e.object.rows.length === 1)).toBe(true);
    expect(events[0]?.object.columnDefinitions?.length).toBeGreaterThan(3);
    expect(events.slice(1).every((e) => e.object.columnDefinitions === undefined)).toBe(true);
  });
  it('sends periodic BOOKMARKs when allowWatchBookmarks is set, and none otherwise', async () => {
    const list = JSON.parse((await gw.get(base)).body) as { metadata: { resourceVersion: string } };
    const rv = list.metadata.resourceVersion;
    const [withBm, without] = await Promise.all([
      gw.get(`${base}?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}&timeoutSeconds=3`),
      gw.get(`${base}?watch=true&resourceVersion=${rv}&timeoutSeconds=3`),
    ]);
    const types = (b: string) =>
      b
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types(withBm.body)).toContain('BOOKMARK');
    expect(types(without.body)).not.toContain('BOOKMARK');
    const bm = withBm.body
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            type: string;
            object: { kind: string; apiVersion: string; metadata: { resourceVersion: string } };
          },
      )
      .find((e) => e.type === 'BOOKMARK');
    expect(bm?.object).toMatchObject({ kind: 'Forecast', apiVersion: 'weather.kubegate.dev/v1alpha1' });
    expect(Number(bm?.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(rv));
  });
  it('rejects resourceVersionMatch on a watch without sendInitialEvents (422)', async () => {
    const r = await gw.get(`${base}?watch=true&resourceVersionMatch=NotOlderThan&resourceVersion=1`);
    expect(r.status).toBe(422);
  });
  it('list then watch from the list resourceVersion misses nothing and repeats nothing', async () => {
    const list = JSON.parse((await gw.get(base)).body) as { metadata: { resourceVersion: string } };
    weather.tick();
    await gw.gateway.runtime.collections[0]?.poller.pollNow();
    const r = await gw.get(`${base}?watch=true&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=1`);
    const events = r.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string; resourceVersion: string } } });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.type === 'MODIFIED')).toBe(true);
    const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs.every((rv) => rv > Number(list.metadata.resourceVersion))).toBe(true);
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
    expect(new Set(events.map((e) => e.object.metadata.name)).size).toBe(events.length);
  });
});
