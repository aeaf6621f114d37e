import http2 from 'node:http2';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from './child.ts';

const PATH = '/apis/bench.kubegate.dev/v1/namespaces/team-1/instances';
const ANNOUNCED = 1 << 20;
let gw: ChildGateway;

beforeAll(async () => {
  // Generous handshake and header timeouts: 500 clients on a loaded machine must not be cut for being slow to
  // start (which would hide whether the 401 came first).
  gw = await startChildGateway(50, { server: { timeouts: { handshake: '60s', headers: '60s' } } });
});
afterAll(async () => {
  await gw.close();
});

/**
 * An HTTP/1.1 client announcing a 1 MiB body, sending 16 KiB of it, then one byte every 50 ms. Resolves with
 * the status line it gets and how many body bytes it had sent by then.
 */
function slowSender(token?: string): Promise<{ status: string; sent: number; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s: TLSSocket = connect({ host: '127.0.0.1', port: gw.port, ca: gw.certs.ca.cert, servername: 'localhost' });
    let sent = 0;
    let head = '';
    let timer: NodeJS.Timeout | undefined;
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.once('secureConnect', () => {
      s.write(
        `POST ${PATH} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${ANNOUNCED}\r\n` +
          (token ? `Authorization: Bearer ${token}\r\n` : '') +
          '\r\n',
      );
      s.write(Buffer.alloc(16 << 10, 0x20));
      sent = 16 << 10;
      timer = setInterval(() => {
        if (s.writable && !s.destroyed) {
          s.write(' ', () => undefined);
          sent++;
        }
      }, 50);
    });
    s.once('end', () => clearInterval(timer));
    s.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const eol = head.indexOf('\r\n');
      if (eol >= 0) {
        clearInterval(timer);
        resolve({ status: head.slice(0, eol), sent, closed });
      }
    });
    s.on('error', (err: Error) => {
      clearInterval(timer);
      // Writing on after kubegate has answered and closed is expected; only an error before the answer counts.
      if (!head) reject(err);
    });
    s.once('close', () => clearInterval(timer));
  });
}

/** The same over HTTP/2: `streams` slow senders on one connection. */
async function slowStreams(streams: number): Promise<{ status: number; sent: number; rstCode: number }[]> {
  const session = http2.connect(gw.url, { ca: gw.certs.ca.cert, servername: 'localhost' });
  session.on('error', () => undefined);
  try {
    return await Promise.all(
      Array.from(
        { length: streams },
        () =>
          new Promise<{ status: number; sent: number; rstCode: number }>((resolve, reject) => {
            const q = session.request({
              ':method': 'POST',
              ':path': PATH,
              'content-type': 'application/json',
              'content-length': String(ANNOUNCED),
            });
            let sent = 16 << 10;
            let status = 0;
            q.write(Buffer.alloc(sent, 0x20));
            const timer = setInterval(() => {
              if (!q.closed && q.writable) {
                q.write(' ');
                sent++;
              }
            }, 50);
            q.on('response', (h) => (status = Number(h[':status'])));
            q.on('data', () => undefined);
            q.on('error', () => undefined);
            // Node's client emits no 'close' for a reset stream while writes of its own are queued (a slow
            // sender's are); `closed` says the reset arrived all the same.
            const over = () => {
              clearInterval(timer);
              clearInterval(watch);
              if (status === 0) reject(new Error(`stream closed without an answer (code ${q.rstCode})`));
              else resolve({ status, sent, rstCode: q.rstCode });
            };
            const watch = setInterval(() => {
              if (q.closed) over();
            }, 100);
            q.on('close', over);
          }),
      ),
    );
  } finally {
    session.close();
  }
}

describe('unauthenticated clients', () => {
  it('500 slow body senders get 401 before their bodies are read, cost little memory and no log lines', async () => {
    // Warm up TLS and the allocator so the baseline is not the cold process.
    await Promise.all(Array.from({ length: 20 }, () => slowSender()));
    const before = await gw.mem();
    const logsBefore = gw.logLines().length;

    const [h1, h2] = await Promise.all([
      Promise.all(Array.from({ length: 400 }, () => slowSender())),
      Promise.all(Array.from({ length: 5 }, () => slowStreams(20))).then((r) => r.flat()),
    ]);
    const during = await gw.mem();

    expect(h1.every((r) => r.status === 'HTTP/1.1 401 Unauthorized')).toBe(true);
    // Answered long before the announced body could have arrived, and the connection ended by kubegate.
    expect(Math.max(...h1.map((r) => r.sent))).toBeLessThan(ANNOUNCED / 2);
    await Promise.all(h1.map((r) => r.closed));
    expect(h2).toHaveLength(100);
    expect(h2.every((r) => r.status === 401 && r.sent < ANNOUNCED / 2)).toBe(true);
    // The stream is ended by kubegate (RST_STREAM NO_ERROR) rather than left open for the rest of the body.
    expect(h2.every((r) => r.rstCode === http2.constants.NGHTTP2_NO_ERROR)).toBe(true);

    const grew = during.rss - before.rss;
    console.log(`500 unauthenticated slow senders: RSS +${(grew / 2 ** 20).toFixed(1)} MiB`);
    expect(grew).toBeLessThan(50 << 20);
    // Nothing per request in the log: at most one line per failure cause.
    const lines = gw.logLines().slice(logsBefore);
    expect(lines.length).toBeLessThanOrEqual(2);
  }, 60_000);

  it('a failed authentication logs its cause once, never the credential', async () => {
    const bad = 'not-a-valid-token-5f2c1e9a7b';
    const logsBefore = gw.logLines().length;
    for (let i = 0; i < 20; i++) {
      const r = await slowSender(bad);
      expect(r.status).toBe('HTTP/1.1 401 Unauthorized');
    }
    const lines = gw.logLines().slice(logsBefore);
    expect(lines.join('\n')).not.toContain(bad);
    const causes = lines.map((l) => JSON.parse(l) as { msg: string; cause?: string }).filter((l) => l.cause);
    expect(causes).toEqual([expect.objectContaining({ msg: 'authentication failed', cause: 'invalid bearer token' })]);
  });

  it('health probes answer without credentials', async () => {
    const session = http2.connect(gw.url, { ca: gw.certs.ca.cert, servername: 'localhost' });
    try {
      for (const path of ['/healthz', '/livez', '/readyz', '/readyz?verbose']) {
        const status = await new Promise<number>((resolve, reject) => {
          const q = session.request({ ':path': path });
          q.on('response', (h) => resolve(Number(h[':status'])));
          q.on('error', reject);
          q.resume();
        });
        expect(status, path).toBe(200);
      }
    } finally {
      session.close();
    }
  });
});
