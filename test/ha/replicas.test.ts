import http2 from 'node:http2';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startReplicaSet, type Replica, type ReplicaSet } from '../helpers/replicas.ts';

// Three real `kubegate serve` processes on one Redis (127.0.0.1:6379) and one fake upstream.
const PREFIX = `kgtest:ha:${process.pid}:${Date.now()}:`;
const P = '/apis/weather.kubegate.dev/v1alpha1/forecasts';
let weather: FakeWeather;
let set: ReplicaSet;
let a: Replica, b: Replica, c: Replica;

interface List {
  metadata: { resourceVersion: string };
  items: { metadata: { name: string; resourceVersion: string }; status: { temperatureC: number } }[];
}

beforeAll(async () => {
  weather = await startFakeWeather({ port: 0 });
  weather.freeze();
  set = await startReplicaSet(() => ({
    store: { type: 'redis', redis: { url: 'redis://127.0.0.1:6379', keyPrefix: PREFIX }, leaseTtl: '2s' },
    adapters: [
      {
        name: 'weather',
        module: resolve(import.meta.dirname, '../../adapters/weather/index.ts'),
        pollInterval: '500ms',
        config: { baseUrl: weather.url, locations: LOCATIONS },
      },
    ],
  }));
  [a, b, c] = await Promise.all([set.start('a'), set.start('b'), set.start('c')]);
}, 60_000);

afterAll(async () => {
  await set.close();
  await weather.close();
  const { Redis } = await import('ioredis');
  const r = new Redis('redis://127.0.0.1:6379');
  const keys = await r.keys(`${PREFIX}*`);
  if (keys.length) await r.del(...keys);
  await r.quit();
});

const list = async (r: Replica): Promise<List> => JSON.parse((await r.get(P)).body) as List;
/** The replica holding the forecasts poll lease, from its own metrics. */
const leader = async (reps: Replica[]): Promise<Replica | undefined> => {
  for (const r of reps) {
    const m = (await r.get('/metrics').catch(() => ({ body: '' }))).body;
    if (/kubegate_poll_leader\{adapter="weather",resource="forecasts"\} 1/.test(m)) return r;
  }
  return undefined;
};

/** A raw watch on one replica over HTTP/2, collecting events. */
function watch(r: Replica, rv: string) {
  const s = http2.connect(r.url, { ca: set.certs.ca.cert });
  s.on('error', () => undefined);
  const req = s.request({ ':path': `${P}?watch=true&resourceVersion=${rv}`, authorization: `Bearer ${set.token}` });
  const events: {
    type: string;
    object: { metadata: { name: string; resourceVersion: string }; status?: { temperatureC: number } };
  }[] = [];
  let buf = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buf.slice(0, i)) as (typeof events)[number]);
      buf = buf.slice(i + 1);
    }
  });
  req.on('error', () => undefined);
  return { events, close: () => s.destroy() };
}

async function eventually(f: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('three replicas on one Redis', () => {
  it('serve identical objects and resourceVersions', async () => {
    await eventually(async () => (await list(c)).items.length === 6);
    const [la, lb, lc] = await Promise.all([list(a), list(b), list(c)]);
    expect(lb).toEqual(la);
    expect(lc).toEqual(la);
  });

  it('poll the upstream once per interval in total, not once per replica', async () => {
    // The time the next 6 polls take, scaled to a 5 s window: a condition, not a fixed wait.
    const before = weather.requests;
    const t0 = performance.now();
    await eventually(() => weather.requests - before >= 6);
    const polls = ((weather.requests - before) * 5000) / (performance.now() - t0);
    // 500 ms interval over 5 s: about 10 polls in total (three pollers would make about 30).
    expect(polls).toBeGreaterThanOrEqual(7);
    expect(polls).toBeLessThanOrEqual(13);
  });

  it('a watcher on one replica sees changes polled by another, with the same resourceVersions', async () => {
    const lead = await leader([a, b, c]);
    expect(lead).toBeDefined();
    const other = [a, b, c].find((r) => r !== lead)!;
    const start = await list(other);
    const w = watch(other, start.metadata.resourceVersion);
    try {
      weather.tick();
      await eventually(() => w.events.filter((e) => e.type === 'MODIFIED').length >= 1);
      // Both replicas reach the same list once the change has spread.
      const after = await vi.waitFor(
        async () => {
          const l = await list(lead!);
          expect((await list(other)).metadata.resourceVersion).toBe(l.metadata.resourceVersion);
          return l;
        },
        { timeout: 15_000, interval: 100 },
      );
      for (const e of w.events) {
        const same = after.items.find((i) => i.metadata.name === e.object.metadata.name);
        if (same && same.metadata.resourceVersion === e.object.metadata.resourceVersion)
          expect(same.status).toEqual(e.object.status);
      }
    } finally {
      w.close();
    }
  });

  it('SIGKILL of the lease holder: another replica polls within the lease time and no watcher misses an event', async () => {
    const lead = (await leader([a, b, c]))!;
    const survivors = [a, b, c].filter((r) => r !== lead);
    const start = await list(survivors[0]!);
    const w = watch(survivors[0]!, start.metadata.resourceVersion);
    try {
      await lead.kill('SIGKILL');
      const killedAt = Date.now();
      const before = weather.requests;
      weather.tick();
      await eventually(() => weather.requests > before, 10_000);
      expect(Date.now() - killedAt).toBeLessThan(2000 + 1500);
      // Upstream truth after the change, and the watcher's view built from its start list plus events.
      const truth = new Map<string, number>();
      const r = await fetch(
        `${weather.url}/v1/forecast?latitude=${LOCATIONS.map((l) => l.latitude).join(',')}&longitude=${LOCATIONS.map((l) => l.longitude).join(',')}&current=temperature_2m`,
      );
      const arr = (await r.json()) as { current: { temperature_2m: number } }[];
      LOCATIONS.forEach((l, i) => truth.set(l.name, arr[i]!.current.temperature_2m));
      await eventually(() => {
        const state = new Map(start.items.map((i) => [i.metadata.name, i.status.temperatureC]));
        for (const e of w.events) if (e.object.status) state.set(e.object.metadata.name, e.object.status.temperatureC);
        return [...truth].every(([k, v]) => state.get(k) === v);
      });
      const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
      expect([...rvs].sort((x, y) => x - y)).toEqual(rvs);
      await eventually(async () => (await leader(survivors)) !== undefined);
    } finally {
      w.close();
    }
  });

  it('logs carry no credential', () => {
    for (const r of set.replicas) expect(r.output()).not.toContain(set.token);
  });
});
