import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from './child.ts';

const COLLECTION = '/apis/bench.kubegate.dev/v1/namespaces/team-1/instances';
let gw: ChildGateway;
let session: http2.ClientHttp2Session;

beforeAll(async () => {
  gw = await startChildGateway(20);
  session = http2.connect(gw.url, { ca: gw.certs.ca.cert, servername: 'localhost' });
});
afterAll(async () => {
  session.close();
  await gw.close();
});

interface Answer {
  status: number;
  body: string;
}

function request(headers: http2.OutgoingHttpHeaders, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const q = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let text = '';
    q.on('response', (h) => (status = Number(h[':status'])));
    q.on('data', (d: Buffer) => (text += d.toString()));
    q.on('end', () => resolve({ status, body: text }));
    q.on('error', reject);
    if (body !== undefined) q.end(body);
  });
}

const auth = () => ({ authorization: `Bearer ${gw.tokens.alice}` });

describe('odd requests get a Status, and the log stays quiet', () => {
  it('a lower-case or unknown method over HTTP/2: 401 without credentials, 405 Status with them, no route dump', async () => {
    const normal = Math.max(512, ...gw.logLines().map((l) => l.length));
    const logsBefore = gw.logLines().length;
    for (const method of ['get', 'Get', 'PROPFIND', 'BREW']) {
      const anonymous = await request({ ':method': method, ':path': COLLECTION });
      expect(anonymous.status, method).toBe(401);
      const r = await request({ ':method': method, ':path': COLLECTION, ...auth() });
      expect(r.status, method).toBe(405);
      expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', reason: 'MethodNotAllowed', code: 405 });
      // Health probes too: no credentials needed, but still no route dump.
      expect((await request({ ':method': method, ':path': '/healthz' })).status).toBe(405);
    }
    const lines = gw.logLines().slice(logsBefore);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(normal);
    expect(lines.join('\n')).not.toMatch(/├──|└──|route/i);
  });

  it('an empty Content-Type is 415 UnsupportedMediaType', async () => {
    const r = await request(
      { ':method': 'POST', ':path': `${COLLECTION}/i-00000001/proxy`, 'content-type': '', ...auth() },
      '{}',
    );
    expect(r.status).toBe(415);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', code: 415 });
  });

  it('timeoutSeconds=0 is the default watch timeout, not an immediate end', async () => {
    const watch = (t: number) => {
      const q = session.request({ ':path': `${COLLECTION}?watch=true&timeoutSeconds=${t}`, ...auth() });
      let ended = false;
      let status = 0;
      q.on('response', (h) => (status = Number(h[':status'])));
      q.on('data', () => undefined);
      q.on('end', () => (ended = true));
      return { q, ended: () => ended, status: () => status };
    };
    const zero = watch(0);
    const one = watch(1);
    // The one-second watch ends on its own; the other one, started with it, is still open then.
    await expect.poll(one.ended, { timeout: 10_000 }).toBe(true);
    expect(zero.status()).toBe(200);
    expect(zero.ended()).toBe(false);
    zero.q.close();
  });
});
