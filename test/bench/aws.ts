// `npm run bench -- --only-aws`: the aws adapter (official AWS SDK over ctx.fetch) against the fake EC2 with
// 5,000 instances in three regions, in one gateway process (this one, started with --expose-gc):
// - poll time and objects/s of the instances collection (median of steady-state polls, a few changes each);
// - resident memory per mirrored object after the first polls of instances, volumes and security groups;
// - where the poll's CPU goes (a CPU profile over the polls): the SDK (signing, XML parsing, deserializing),
//   the adapter's mapping, kubegate (diff, build, store), and Node (fetch, GC);
// - a @kubernetes/client-node informer: delay from a stop at the fake to the informer's update, against the
//   poll interval plus 100 ms.
import { spawn } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import * as k8s from '@kubernetes/client-node';
import '../../adapters/aws/index.ts';
import { startTestGateway } from '../helpers/gateway.ts';

const INSTANCES = Number(process.env.BENCH_AWS_INSTANCES ?? 5000);
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const INTERVAL_MS = Number(process.env.BENCH_AWS_INTERVAL_MS ?? 5000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

process.env.AWS_ACCESS_KEY_ID = 'AKIDBENCHEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'bench-secret-access-key';

const child = spawn(process.execPath, ['test/bench/aws-fake.ts', String(INSTANCES)], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
process.on('exit', () => child.kill());
const waiting: ((l: Record<string, unknown>) => void)[] = [];
createInterface({ input: child.stdout }).on('line', (l) => waiting.shift()?.(JSON.parse(l) as Record<string, unknown>));
const next = () => new Promise<Record<string, unknown>>((r) => waiting.push(r));
const cmd = (c: string) => {
  const p = next();
  child.stdin.write(`${c}\n`);
  return p;
};
const fake = await next();
const url = String(fake.url);
console.log(`aws: fake EC2 with ${String(fake.instances)} instances in ${REGIONS.join(', ')}`);

const entry = (pollInterval: string) => ({
  name: 'aws',
  module: './adapters/aws/index.ts',
  config: { regions: REGIONS, endpoint: url },
  pollInterval,
  // The gateway's default policy except the rate limit: a poll makes 6 page calls per region and resource.
  resilience: { rateLimitPerSecond: 100, rateLimitBurst: 100 },
});

// Part 1: polls on demand (the interval is long, so only pollNow() polls).
gc();
const rssBefore = process.memoryUsage().rss;
const heapBefore = process.memoryUsage().heapUsed;
const gw = await startTestGateway({ adapters: [entry('1h')] });
const [instances, volumes, groups] = gw.gateway.runtime.collections;
if (!instances || !volumes || !groups) throw new Error('the aws adapter serves three collections');
await Promise.all([instances.poller.ready(), volumes.poller.ready(), groups.poller.ready()]);
// On a loaded machine a first poll can run out of its deadline: poll again until every collection has data.
for (const c of [instances, volumes, groups])
  for (let i = 0; i < 3 && c.poller.status.lastError !== undefined; i++) await c.poller.pollNow();
const objects = instances.view.size + volumes.view.size + groups.view.size;
gc();
const rssAfter = process.memoryUsage().rss;
const heapAfter = process.memoryUsage().heapUsed;

const times: number[] = [];
const cpu0 = process.cpuUsage();
for (let i = 0; i < 5; i++) {
  await cmd('tick');
  const t0 = performance.now();
  await instances.poller.pollNow();
  times.push(performance.now() - t0);
}
const cpu = process.cpuUsage(cpu0);
if (instances.poller.status.lastError) throw new Error(`poll failed: ${instances.poller.status.lastError}`);
// Then where the CPU goes, in polls of their own (the profiler slows what it samples).
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
for (let i = 0; i < 3; i++) {
  await cmd('tick');
  await instances.poller.pollNow();
}
const { profile } = await session.post('Profiler.stop');
session.disconnect();

// Self time by where the code lives.
const selfUs = new Map<number, number>();
const samples = profile.samples ?? [];
const deltas = profile.timeDeltas ?? [];
samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0)));
const share: Record<string, number> = {};
for (const node of profile.nodes) {
  const u = node.callFrame.url;
  const fn = node.callFrame.functionName;
  const where =
    fn === '(idle)' || fn === '(program)'
      ? 'idle'
      : fn === '(garbage collector)'
        ? 'gc'
        : /@aws-sdk|@smithy|fast-xml-parser|strnum/.test(u)
          ? 'sdk'
          : u.includes('/adapters/aws/')
            ? 'adapter'
            : u.includes('/node_modules/')
              ? 'other packages'
              : /\/(src|adapters)\//.test(u)
                ? 'kubegate'
                : 'node';
  share[where] = (share[where] ?? 0) + (selfUs.get(node.id) ?? 0);
}
const busy = Object.entries(share)
  .filter(([k]) => k !== 'idle')
  .reduce((a, [, v]) => a + v, 0);
const median = [...times].sort((a, b) => a - b)[2]!;
console.log(
  `aws: instances poll median ${median.toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}), ` +
    `${Math.round((instances.view.size / median) * 1000)} objects/s; CPU ${((cpu.user + cpu.system) / 5000).toFixed(0)} ms per poll`,
);
console.log(
  `aws: poll CPU by code: ${Object.entries(share)
    .filter(([k]) => k !== 'idle')
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${((v / busy) * 100).toFixed(0)}%`)
    .join(', ')}`,
);
console.log(
  `aws: RSS ${mib(rssBefore)} -> ${mib(rssAfter)} for ${objects} objects (${instances.view.size} instances, ` +
    `${volumes.view.size} volumes, ${groups.view.size} groups): ${((rssAfter - rssBefore) / objects / 1024).toFixed(2)} KiB per object; ` +
    `heap ${mib(heapBefore)} -> ${mib(heapAfter)}: ${((heapAfter - heapBefore) / objects / 1024).toFixed(2)} KiB per object`,
);
await gw.close();

// Part 2: an informer against polls every INTERVAL_MS.
const gw2 = await startTestGateway({ adapters: [entry(`${INTERVAL_MS}ms`)] });
const poller2 = gw2.gateway.runtime.collections[0]?.poller;
await poller2?.ready();
while (poller2?.status.lastSuccess === undefined) await poller2?.pollNow();
const kc = new k8s.KubeConfig();
kc.loadFromFile(gw2.kubeconfig);
const api = kc.makeApiClient(k8s.CustomObjectsApi);
const G = 'ec2.aws.kubegate.dev';
interface Inst {
  metadata?: { name?: string };
  status?: { state?: string };
}
const inf = k8s.makeInformer<Inst & k8s.KubernetesObject>(
  kc,
  `/apis/${G}/v1alpha1/instances`,
  () => api.listClusterCustomObject({ group: G, version: 'v1alpha1', plural: 'instances' }) as never,
);
const seen = new Map<string, number>();
// An informer stops on an error; a controller restarts it, and so does this one.
inf.on('error', (err: unknown) => {
  console.log(`aws: informer error (restarting): ${String(err).split('\n')[0] ?? ''}`);
  setTimeout(() => void inf.start(), 500);
});
inf.on('update', (o) => {
  if (o.status?.state === 'stopped' && o.metadata?.name)
    seen.set(o.metadata.name, performance.timeOrigin + performance.now());
});
await inf.start();
const delays: number[] = [];
for (let i = 0; i < 6; i++) {
  // A change at a random phase of the poll cycle.
  await new Promise((r) => setTimeout(r, Math.random() * INTERVAL_MS));
  const s = await cmd('stop');
  const id = String(s.id);
  const deadline = Date.now() + 3 * INTERVAL_MS + 60_000;
  while (!seen.has(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const at = seen.get(id);
  delays.push(at === undefined ? Infinity : at - Number(s.at));
  const st = gw2.gateway.runtime.collections[0]?.poller.status;
  if (at === undefined)
    console.log(`aws: not seen; last poll error ${st?.lastError ?? 'none'}, polls ${st?.polls ?? 0}`);
}
await inf.stop();
await gw2.close();
const max = Math.max(...delays);
console.log(
  `aws: informer saw a stop after ${delays.map((d) => d.toFixed(0)).join(', ')} ms (max ${max.toFixed(0)}; ` +
    `poll interval ${INTERVAL_MS} ms + 100 ms = ${INTERVAL_MS + 100}: ${max <= INTERVAL_MS + 100 ? 'met' : 'missed'})`,
);
child.kill();
process.exit(0);
