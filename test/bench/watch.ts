// `npm run bench -- watch` part: N concurrent watchers on one kubegate process, over HTTP/2 (many streams
// per connection, as the aggregator connects) and HTTP/1.1 (one TLS connection each). One upstream change
// must reach all of them; reports p50/p99 delay after the change was committed, heap per idle watcher, and
// the upstream polls made while the watchers were connected.
import http2 from 'node:http2';
import https from 'node:https';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevCertificates } from '../../src/server/tls.ts';

const now = () => performance.timeOrigin + performance.now();
const P = '/apis/bench.kubegate.dev/v1/instances';
const AUTH = 'Bearer bench-token-0123456789';

export async function watchBench(o: { watchers: number; protocol: 'h2' | 'http1'; pollInterval?: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'kubegate-wbench-'));
  const certs = await createDevCertificates(['localhost'], ['127.0.0.1']);
  const tlsFile = join(dir, 'tls.json');
  writeFileSync(tlsFile, JSON.stringify(certs.server));
  const child = spawn(process.execPath, ['--expose-gc', 'test/bench/server.ts', 'gateway', tlsFile, '100'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_POLL: o.pollInterval ?? '2s' },
  });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((l: Record<string, unknown>) => void)[] = [];
  lines.on('line', (l) => waiting.shift()?.(JSON.parse(l) as Record<string, unknown>));
  const next = () => new Promise<Record<string, unknown>>((r) => waiting.push(r));
  const cmd = async (c: string) => {
    const p = next();
    child.stdin.write(c + '\n');
    return p;
  };
  const ready = await next();
  const url = String(ready.url);
  const got: number[] = [];
  let expectChange = false;
  let opened = 0;
  // Per stream: the end of the previous chunk, so a frame split across chunks is still seen.
  const watcher = () => {
    let tail = '';
    let seen = false;
    return (buf: string) => {
      const text = tail + buf;
      tail = text.slice(-16);
      if (expectChange && !seen && text.includes('"MODIFIED"')) {
        seen = true;
        got.push(now());
      }
    };
  };
  const path = `${P}?watch=true&resourceVersion=0&timeoutSeconds=600`;
  const closers: (() => void)[] = [];
  const base = await cmd('mem');
  if (o.protocol === 'h2') {
    const perSession = 500;
    for (let s = 0; s * perSession < o.watchers; s++) {
      // Flow-control windows as Go's HTTP/2 transport (the aggregator's) sets them: 4 MiB per stream,
      // 1 GiB per connection. Node's client defaults (64 KiB per connection) would throttle the fan-out.
      const session = http2.connect(url, { ca: certs.ca.cert, settings: { initialWindowSize: 4 << 20 } });
      session.on('connect', () => session.setLocalWindowSize(1 << 30));
      session.on('error', () => undefined);
      closers.push(() => session.destroy());
      for (let i = 0; i < perSession && s * perSession + i < o.watchers; i++) {
        const req = session.request({ ':path': path, authorization: AUTH });
        req.setEncoding('utf8');
        req.on('response', () => opened++);
        req.on('data', watcher());
        req.on('error', () => undefined);
      }
    }
  } else {
    const agent = new https.Agent({ ca: certs.ca.cert, keepAlive: true, maxSockets: Infinity });
    closers.push(() => agent.destroy());
    for (let i = 0; i < o.watchers; i++) {
      const req = https.request(url + path, { agent, headers: { authorization: AUTH } }, (res) => {
        opened++;
        res.setEncoding('utf8');
        res.on('data', watcher());
      });
      req.on('error', () => undefined);
      req.end();
      if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
    }
  }
  const t0 = Date.now();
  while (opened < o.watchers && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000)); // initial ADDEDs delivered
  const withWatchers = await cmd('mem');
  const polls0 = Number((await cmd('stats')).polls);
  const pollWindowStart = Date.now();
  expectChange = true;
  const polled = await cmd('touch');
  const committed = Number(polled.at);
  const t1 = Date.now();
  while (got.length < o.watchers && Date.now() - t1 < 30_000) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 4000));
  const after = await cmd('stats');
  const polls1 = Number(after.polls);
  const dispatchMs = Number(after.dispatchMs);
  const windowSeconds = (Date.now() - pollWindowStart) / 1000;
  for (const c of closers) c();
  child.kill();
  const delays = got.map((t) => t - committed).sort((a, b) => a - b);
  const q = (p: number) => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))] ?? NaN;
  return {
    protocol: o.protocol,
    watchers: o.watchers,
    opened,
    received: got.length,
    p50: q(0.5),
    p99: q(0.99),
    max: delays.at(-1) ?? NaN,
    heapPerWatcherBytes: (Number(withWatchers.heapUsed) - Number(base.heapUsed)) / o.watchers,
    rssPerWatcherBytes: (Number(withWatchers.rss) - Number(base.rss)) / o.watchers,
    // One reconfigure poll is ours; the rest are the 2 s interval's.
    upstreamPolls: polls1 - polls0 - 1,
    /** Server side: writing the change to every watcher, one pass of the event loop. */
    dispatchMs,
    windowSeconds,
  };
}
