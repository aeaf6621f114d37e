// `npm run bench:audit`: GET throughput of kubegate with the audit log at Metadata level (every request, both
// stages, to a file) against the same kubegate without it, measured in one run, in alternating rounds.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createDevCertificates } from '../../src/server/tls.ts';
import { load, type LoadResult } from './load.ts';

const quick = process.argv.includes('--quick');
const dir = mkdtempSync(join(tmpdir(), 'kubegate-bench-audit-'));
const certs = await createDevCertificates(['localhost'], ['127.0.0.1']);
const tlsFile = join(dir, 'tls.json');
writeFileSync(tlsFile, JSON.stringify(certs.server));
const children: ChildProcess[] = [];
process.on('exit', () => {
  children.forEach((c) => c.kill());
  rmSync(dir, { recursive: true, force: true });
});

async function startGateway(env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, ['test/bench/server.ts', 'gateway', tlsFile, '500'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  return (JSON.parse(line) as { url: string }).url;
}

const auditFile = join(dir, 'audit.log');
const plain = await startGateway({});
const audited = await startGateway({ BENCH_AUDIT: auditFile });
const o = {
  path: '/apis/bench.kubegate.dev/v1/namespaces/team-0/instances/i-00000000',
  headers: { authorization: 'Bearer bench-token-0123456789' },
  ca: certs.ca.cert,
  concurrency: 16,
  seconds: quick ? 2 : 4,
};
// Warm both up (JIT), then alternate rounds so drift on a noisy machine hits both alike; medians.
await load({ ...o, url: plain, seconds: 2 });
await load({ ...o, url: audited, seconds: 2 });
const ps: LoadResult[] = [];
const as: LoadResult[] = [];
const rounds = quick ? 3 : 5;
for (let i = 0; i < rounds; i++) {
  ps.push(await load({ ...o, url: plain }));
  as.push(await load({ ...o, url: audited }));
}
const median = (xs: LoadResult[]) => [...xs].sort((x, y) => x.rps - y.rps)[xs.length >> 1]!;
const p = median(ps);
const a = median(as);
const fmt = (r: LoadResult) => `${Math.round(r.rps)} rps p99 ${r.p99.toFixed(2)}ms`;
const ratio = a.rps / p.rps;
console.log(
  `GET one object (16 in flight)  without audit ${fmt(p).padEnd(24)} audit Metadata ${fmt(a).padEnd(24)} ratio ${ratio.toFixed(2)} (target >= 0.90: ${ratio >= 0.9 ? 'met' : 'missed'})`,
);
console.log(`audit log written: ${(statSync(auditFile).size / 1e6).toFixed(1)} MB`);
process.exit(0);
