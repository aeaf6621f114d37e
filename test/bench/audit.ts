// `npm run bench:audit`: GET throughput of kubegate with the audit log at Metadata level (every request, both
// stages, to a file) against the same kubegate without it, measured in one run, in alternating rounds.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createDevCertificates } from '../../src/server/tls.ts';
import { auditCostInProcess } from './audit-inprocess.ts';
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

interface Server {
  url: string;
  /** CPU time the server process used so far, in microseconds. */
  cpu(): Promise<number>;
}

async function startGateway(env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ['test/bench/server.ts', 'gateway', tlsFile, '500'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout });
  const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
  const url = (JSON.parse(await next()) as { url: string }).url;
  return {
    url,
    async cpu() {
      const answer = next();
      child.stdin.write('cpu\n');
      const u = JSON.parse(await answer) as { user: number; system: number };
      return u.user + u.system;
    },
  };
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
// Warm both up (JIT). Then both servers are loaded at the same time, each with its own clients: on a shared,
// noisy machine whatever the neighbours do hits both alike, and the one that costs more per request serves
// fewer. Several rounds; the median ratio.
await load({ ...o, url: plain.url, seconds: 2 });
await load({ ...o, url: audited.url, seconds: 2 });
const ps: LoadResult[] = [];
const as: LoadResult[] = [];
const rounds = quick ? 3 : 5;
// CPU per request as well.
const cpu0 = [await plain.cpu(), await audited.cpu()];
for (let i = 0; i < rounds; i++) {
  const [p, a] = await Promise.all([load({ ...o, url: plain.url }), load({ ...o, url: audited.url })]);
  ps.push(p);
  as.push(a);
}
const cpu1 = [await plain.cpu(), await audited.cpu()];
const total = (xs: LoadResult[]) => xs.reduce((n, r) => n + r.requests, 0);
const cpuPlain = (cpu1[0]! - cpu0[0]!) / total(ps);
const cpuAudit = (cpu1[1]! - cpu0[1]!) / total(as);
const ratios = ps.map((p, i) => as[i]!.rps / p.rps).sort((x, y) => x - y);
const ratio = ratios[ratios.length >> 1]!;
const median = (xs: LoadResult[]) => [...xs].sort((x, y) => x.rps - y.rps)[xs.length >> 1]!;
const fmt = (r: LoadResult) => `${Math.round(r.rps)} rps p99 ${r.p99.toFixed(2)}ms`;
console.log(
  `GET one object (16 in flight each, both at once)  without audit ${fmt(median(ps)).padEnd(24)} audit Metadata ${fmt(median(as)).padEnd(24)} ratio ${ratio.toFixed(2)} (rounds ${ratios.map((r) => r.toFixed(2)).join(' ')}; target >= 0.90: ${ratio >= 0.9 ? 'met' : 'missed'})`,
);
console.log(
  `CPU per GET                    without audit ${`${cpuPlain.toFixed(0)} µs`.padEnd(24)} audit Metadata ${`${cpuAudit.toFixed(0)} µs`.padEnd(24)} ratio ${(cpuAudit / cpuPlain).toFixed(2)}`,
);
console.log(`audit log written: ${(statSync(auditFile).size / 1e6).toFixed(1)} MB`);
for (const c of children) c.kill();
// The auditor's own work, without the network and the other server: a steadier figure than the ratio above.
const own = await auditCostInProcess(join(dir, 'inprocess.log'), quick ? 30_000 : 100_000);
console.log(
  `audit work in one process (recorder and sink, both stages to a file)  ${(own.audited - own.plain).toFixed(2)} µs CPU per request` +
    ` (${(((own.audited - own.plain) / cpuPlain) * 100).toFixed(0)}% of an unaudited GET's ${cpuPlain.toFixed(0)} µs)`,
);
process.exit(0);
