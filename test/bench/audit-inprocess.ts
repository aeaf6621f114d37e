// The auditor's own CPU per request, in one process: a request's events built and written by the real
// recorder and sink (to a file, Metadata level, both stages), against the same loop without the auditor. Far
// less noisy than the servers' throughput, which a neighbour's load moves by more than the audit costs; used by
// test/bench/audit.ts.
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { auditDecision, auditRequest, createAuditor } from '../../src/audit/recorder.ts';
import { DEFAULT_POLICY, compilePolicy } from '../../src/audit/policy.ts';
import { DEFAULT_SINK, createAuditSink } from '../../src/audit/sink.ts';
import type { RequestAttributes } from '../../src/auth/types.ts';

const user = { name: 'bench', groups: ['bench', 'system:authenticated'] };
const attrs: RequestAttributes = {
  verb: 'get',
  group: 'bench.kubegate.dev',
  version: 'v1',
  resource: 'instances',
  namespace: 'team-0',
  name: 'i-00000000',
};
const reason = 'RBAC: allowed by ClusterRoleBinding "bench" of ClusterRole "bench" to Group "bench"';
const url = '/apis/bench.kubegate.dev/v1/namespaces/team-0/instances/i-00000000';
/** One connection's socket, shared by its requests as Node's are. */
const socket = { remoteAddress: '127.0.0.1' };

/** A Node-shaped request and response pair, as fastify's compat layer hands them to the edge. */
function exchange() {
  const req = { headers: { authorization: 'Bearer x', 'user-agent': 'kubectl/v1.32.0' }, url, method: 'GET', socket };
  const res = Object.assign(new EventEmitter(), {
    req,
    statusCode: 200,
    headersSent: false,
    setHeader: () => undefined,
  });
  return { req, res };
}

/** CPU microseconds per request of `n` requests through `serve`, yielding to the event loop as a server does. */
async function cpuPerRequest(n: number, serve: () => void, flush: () => Promise<void>): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    serve();
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  await flush();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

/** The loop bodies: one request without the auditor, one through it (events to `file`). */
function requests(file: string) {
  const sink = createAuditSink({ ...DEFAULT_SINK, path: file });
  const policy = compilePolicy(DEFAULT_POLICY);
  const edge = createAuditor({ policy: () => policy, sink, maxResponseBytes: 65536 })(() => undefined);
  const plain = () => exchange().res.emit('close');
  const audited = () => {
    const { req, res } = exchange();
    edge(req as never, res as never);
    auditRequest({ raw: req }, user, attrs);
    auditDecision(req, true, reason);
    res.emit('close');
  };
  return { sink, plain, audited };
}

/** Median CPU microseconds per request with and without the auditor, over `rounds` alternating rounds. */
export async function auditCostInProcess(
  file: string,
  n = 100_000,
  rounds = 3,
): Promise<{ plain: number; audited: number }> {
  const { sink, plain, audited } = requests(file);
  const p: number[] = [];
  const a: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const x = await cpuPerRequest(n, plain, () => Promise.resolve());
    const y = await cpuPerRequest(n, audited, () => sink.flush());
    // The first round warms the JIT up.
    if (r === 0) continue;
    p.push(x);
    a.push(y);
  }
  await sink.close();
  rmSync(file, { force: true });
  const median = (xs: number[]) => [...xs].sort((u, v) => u - v)[xs.length >> 1] ?? NaN;
  return { plain: median(p), audited: median(a) };
}

// `node test/bench/audit-inprocess.ts --count N [--plain]`: N requests through the auditor (or, with --plain,
// the same loop without it), for an instruction count that does not depend on the machine's load
// (BENCHMARKS.md, "Audit, profiled and trimmed").
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--count');
  const n = at > 0 ? Number(process.argv[at + 1]) : 20_000;
  const file = join(tmpdir(), `kubegate-audit-inprocess-${process.pid}.log`);
  const { sink, plain, audited } = requests(file);
  const serve = process.argv.includes('--plain') ? plain : audited;
  const us = await cpuPerRequest(n, serve, () => sink.flush());
  await sink.close();
  rmSync(file, { force: true });
  console.log(`${n} requests ${serve === plain ? 'without' : 'through'} the auditor: ${us.toFixed(2)} µs CPU each`);
}
