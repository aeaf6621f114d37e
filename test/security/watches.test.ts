import http2 from 'node:http2';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../helpers/kubectl.ts';
import { startChildGateway, type ChildGateway } from './child.ts';

const ALL = '/apis/bench.kubegate.dev/v1/instances';
const OBJECTS = 1000;
const MAX_BUFFERED = 64 << 10;
const MAX_TOTAL = 1100;
const PER_USER = 1050;
const PER_WATCH_OVERHEAD = 192 << 10;

/** A watch whose client never reads: the stream is paused, so only the flow-control window gets through. */
function stalledStream(session: http2.ClientHttp2Session, token: string, path = ALL) {
  const q = session.request({ ':path': `${path}?watch=true&resourceVersion=0`, authorization: `Bearer ${token}` });
  q.pause();
  q.on('error', () => undefined);
  return new Promise<{ status: number; retryAfter?: string; q: http2.ClientHttp2Stream }>((resolve) => {
    q.on('response', (h) => {
      const retryAfter = h['retry-after'];
      resolve({ status: Number(h[':status']), q, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) });
    });
    q.on('close', () => resolve({ status: 0, q }));
  });
}

/** The same over HTTP/1.1: a TLS connection that sends the request and never reads again. */
function stalledSocket(gw: ChildGateway, token: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: gw.port, ca: gw.certs.ca.cert, servername: 'localhost' });
    s.once('secureConnect', () => {
      s.write(
        `GET ${ALL}?watch=true&resourceVersion=0 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
      s.pause();
      resolve(s);
    });
    s.on('error', reject);
  });
}

function connectH2(gw: ChildGateway): http2.ClientHttp2Session {
  const s = http2.connect(gw.url, { ca: gw.certs.ca.cert, servername: 'localhost' });
  s.on('error', () => undefined);
  return s;
}

async function kubectlGetMs(gw: ChildGateway): Promise<number> {
  const t0 = performance.now();
  const r = await kubectl(gw.kubeconfig, ['get', 'instances', '-n', 'team-1']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('i-00000001');
  return performance.now() - t0;
}

/** `kubegate_watch_rejected_total{reason}` as the gateway's /metrics shows it (0 before the first refusal). */
async function rejectedWatches(gw: ChildGateway, reason: 'user' | 'total'): Promise<number> {
  const s = connectH2(gw);
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const q = s.request({ ':path': '/metrics', authorization: `Bearer ${gw.tokens.alice}` });
      let text = '';
      q.setEncoding('utf8');
      q.on('data', (d: string) => (text += d));
      q.on('end', () => resolve(text));
      q.on('error', reject);
    });
    const m = new RegExp(`^kubegate_watch_rejected_total\\{reason="${reason}"\\} ([0-9.e+]+)$`, 'm').exec(body);
    return m ? Number(m[1]) : 0;
  } finally {
    s.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

describe('1,000 watches that never read', () => {
  let gw: ChildGateway;
  beforeAll(async () => {
    gw = await startChildGateway(OBJECTS, {
      watch: { maxBufferedBytes: MAX_BUFFERED, maxTotal: MAX_TOTAL, maxPerUser: PER_USER },
    });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('hold little, memory stays under the bound, a bystander stays fast, all is returned when they go', async () => {
    const unloaded = median([await kubectlGetMs(gw), await kubectlGetMs(gw), await kubectlGetMs(gw)]);
    const before = await gw.mem();

    // 800 over HTTP/2 (4 connections × 200 streams) and 200 over HTTP/1.1, all as alice.
    const sessions = Array.from({ length: 4 }, () => connectH2(gw));
    const sockets: TLSSocket[] = [];
    const opening = Promise.all([
      ...sessions.flatMap((s) => Array.from({ length: 200 }, () => stalledStream(s, gw.tokens.alice))),
      ...Array.from({ length: 200 }, () => stalledSocket(gw, gw.tokens.alice).then((s) => void sockets.push(s))),
    ]);
    const h2 = (await opening).filter((r) => r !== undefined);
    const peak = await gw.mem();
    // Meanwhile (their clients still connected, none reading), a bystander's kubectl get.
    const loaded = median([await kubectlGetMs(gw), await kubectlGetMs(gw), await kubectlGetMs(gw)]);
    expect(h2.every((r) => r.status === 200)).toBe(true);

    // A stalled watcher holds at most its share: what its client's window took, one round of its initial
    // state, never more than the per-watcher limit.
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    const bound = MAX_TOTAL * (MAX_BUFFERED + PER_WATCH_OVERHEAD);
    expect(peak.rss - before.rss).toBeLessThan(bound);
    // A bystander's kubectl get completes meanwhile, within a generous multiple of its unloaded time.
    expect(loaded / unloaded).toBeLessThan(10);

    // The clients go away: their watches end and what they held is returned within 5 s.
    for (const s of sessions) s.destroy();
    for (const s of sockets) s.destroy();
    await expect.poll(async () => (await gw.mem()).watchers, { timeout: 5000 }).toBe(0);
    const after = await gw.mem();
    console.log(
      `1000 stalled watches: RSS +${mib(peak.rss - before.rss)} while held (bound ${mib(bound)}), ` +
        `heap+buffers +${mib(peak.heapUsed + peak.arrayBuffers - before.heapUsed - before.arrayBuffers)} while held, ` +
        `+${mib(after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers)} after; ` +
        `kubectl get ${unloaded.toFixed(0)} ms unloaded, ${loaded.toFixed(0)} ms loaded`,
    );
    expect(after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers).toBeLessThan(32 << 20);
  }, 60_000);

  it('past the per-user limit, a watch gets 429 TooManyRequests with Retry-After; others are not affected', async () => {
    const pool = sessionPool(gw);
    const userBefore = await rejectedWatches(gw, 'user');
    const totalBefore = await rejectedWatches(gw, 'total');
    try {
      // Watches on a namespace with nothing in it queue nothing, so none is cut: they hold their places.
      const empty = '/apis/bench.kubegate.dev/v1/namespaces/nobody/instances';
      const held = await Promise.all(
        Array.from({ length: PER_USER }, () => stalledStream(pool.next(), gw.tokens.bob, empty)),
      );
      expect(held.every((r) => r.status === 200)).toBe(true);
      const refused = await stalledStream(pool.next(), gw.tokens.bob, empty);
      expect(refused.status).toBe(429);
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
      // The refusal is counted, under the limit that made it.
      expect(await rejectedWatches(gw, 'user')).toBe(userBefore + 1);
      expect(await rejectedWatches(gw, 'total')).toBe(totalBefore);
      // Another user still watches (the total limit is not reached yet).
      expect((await stalledStream(pool.next(), gw.tokens.carol, empty)).status).toBe(200);
      // Past the total limit, everyone gets 429.
      const more = await Promise.all(
        Array.from({ length: MAX_TOTAL - PER_USER }, () => stalledStream(pool.next(), gw.tokens.carol, empty)),
      );
      expect(more.filter((r) => r.status === 200)).toHaveLength(MAX_TOTAL - PER_USER - 1);
      expect(more.filter((r) => r.status === 429)).toHaveLength(1);
      expect(await rejectedWatches(gw, 'total')).toBe(totalBefore + 1);
      expect(await rejectedWatches(gw, 'user')).toBe(userBefore + 1);
    } finally {
      pool.close();
    }
  }, 60_000);
});

/** HTTP/2 connections handed out 200 streams at a time (below the server's concurrent-stream limit). */
function sessionPool(gw: ChildGateway) {
  const all: http2.ClientHttp2Session[] = [];
  let used = 0;
  return {
    next(): http2.ClientHttp2Session {
      if (used % 200 === 0) all.push(connectH2(gw));
      used++;
      return all[all.length - 1] as http2.ClientHttp2Session;
    },
    close() {
      for (const s of all) s.destroy();
    },
  };
}
