// `node test/bench/splice.ts`: the cost of building a list body for the first time (an uncached page: the first
// request after a change), in this process: kubegate's encoder against the two ways of writing the
// resourceVersion it replaced or rejected, interleaved so that the machine's noise hits all alike. Medians (ms).
import { createEncoder } from '../../src/resources/encode.ts';
import { createProjection, makeEntry, RV_PLACEHOLDER, type ObjectEntry } from '../../src/resources/entry.ts';
import type { ResourceInfo } from '../../src/k8s/types.ts';

const info = {
  group: 'bench.kubegate.dev',
  version: 'v1',
  kind: 'Instance',
  plural: 'instances',
  scope: 'Namespaced',
  fields: ['status.state'],
  columns: [
    { name: 'State', type: 'string', jsonPath: '.status.state' },
    { name: 'Type', type: 'string', jsonPath: '.spec.instanceType' },
  ],
} as unknown as ResourceInfo;
const proj = createProjection(info);
const enc = createEncoder(info);
// Objects shaped like the synthetic adapter's (about 580 bytes of JSON each).
const entries: ObjectEntry[] = Array.from({ length: 10_000 }, (_, i) => {
  const name = `i-${i.toString(16).padStart(8, '0')}`;
  const ns = `team-${i % 10}`;
  const body = JSON.stringify({
    apiVersion: 'bench.kubegate.dev/v1',
    kind: 'Instance',
    metadata: {
      name,
      namespace: ns,
      uid: `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resourceVersion: '',
      creationTimestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
      labels: { env: i % 3 ? 'dev' : 'prod', team: ns, tier: i % 2 ? 'web' : 'db' },
      annotations: { 'bench.kubegate.dev/source': `https://cloud.example.com/instances/${i}` },
    },
    spec: { instanceType: 'm5.large', image: `ami-${(i * 7919) % 100000}`, tags: { owner: `user${i % 50}` } },
    status: { state: 'running', cpu: 2, memoryMiB: 2048, zone: 'eu-west-1a', launchedAt: '2026-01-01T00:00:00Z' },
  });
  return makeEntry(`${ns}/${name}`, 1_000_000 + i, `h${i}`, body, proj);
});

/** The splice kubegate used before: the text cut in two substrings around the digits. */
function substrings(es: readonly ObjectEntry[]): Buffer {
  let size = 2 + es.length;
  const rvs = es.map((e) => String(e.rv));
  es.forEach((e, i) => (size += e.byteLength(rvs[i] as string)));
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  es.forEach((e, i) => {
    const split = e.body.indexOf(RV_PLACEHOLDER) + RV_PLACEHOLDER.length - 1;
    off += out.write(e.body.slice(0, split), off);
    off += out.write(rvs[i] as string, off, 'latin1');
    off += out.write(e.body.slice(split), off);
    out[off++] = 0x2c;
  });
  return out;
}

/** The rejected alternative: bytes with the resourceVersion kept per object (one more copy of every object). */
const kept = entries.map((e) => e.json);
function keptBytes(n: number): Buffer {
  let size = 2 + n;
  for (let i = 0; i < n; i++) size += (kept[i] as Buffer).length;
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (let i = 0; i < n; i++) {
    off += (kept[i] as Buffer).copy(out, off);
    out[off++] = 0x2c;
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
for (const n of [500, 10_000]) {
  const es = entries.slice(0, n);
  const ways: Record<string, () => unknown> = {
    'kubegate (one write + memmove)': () => enc.listJson(es, { resourceVersion: 2_000_000 }),
    'substrings (before)': () => substrings(es),
    'bytes kept per object': () => keptBytes(n),
  };
  const times: Record<string, number[]> = {};
  const rounds = n === 500 ? 400 : 40;
  for (let r = 0; r < rounds + 5; r++)
    for (const [k, f] of Object.entries(ways)) {
      const t0 = performance.now();
      f();
      if (r >= 5) (times[k] ??= []).push(performance.now() - t0);
    }
  for (const [k, ts] of Object.entries(times))
    console.log(`LIST ${n} JSON, uncached: ${k.padEnd(32)} ${median(ts).toFixed(3)} ms`);
}
const page = entries.slice(0, 500);
const ts: number[] = [];
for (let r = 0; r < 205; r++) {
  const t0 = performance.now();
  enc.listTable(page, { resourceVersion: 2_000_000, continue: 'x', remainingItemCount: 9500 }, 'v1', 'Metadata');
  if (r >= 5) ts.push(performance.now() - t0);
}
console.log(`LIST 500 Table (Metadata rows), uncached: ${median(ts).toFixed(3)} ms`);
const bytes = entries.reduce((s, e) => s + e.byteLength(String(e.rv)), 0);
console.log(`memory the kept bytes would add: ${(bytes / entries.length).toFixed(0)} bytes per object (1× its JSON)`);
