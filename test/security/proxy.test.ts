import https from 'node:https';
import http2 from 'node:http2';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startRecorder, type Recorder } from './recorder.ts';

// The proxy subresource as an attacker tries it: path escapes in every encoding (counted at the upstream),
// the query allow list, header hygiene, conditional requests, lookup failures, one caller's hanging calls
// against everyone else's lists and gets, and request bodies streamed under a limit.
let up: Recorder;
let gw: TestGateway;
const P = '/apis/docs.kubegate.dev/v1';
const BASE = `${P}/documents/d1/proxy`;
const MALLORY = 'mallory-token-0123456789';

beforeAll(async () => {
  up = await startRecorder();
  gw = await startTestGateway({
    adapters: [
      {
        name: 'documents',
        module: './test/security/documents-adapter.ts',
        config: { baseUrl: up.url, apiKey: up.apiKey },
        resilience: {
          retries: 0,
          breakerThreshold: 1000,
          maxConcurrent: 2,
          maxQueued: 2,
          proxy: { maxConcurrent: 4, maxConcurrentPerUser: 2, maxRequestBytes: 4 << 20 },
        },
      },
    ],
    users: [{ token: MALLORY, user: 'mallory' }],
  });
});
afterAll(async () => {
  await gw.close();
  await up.close();
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP/1.1 request with `path` sent exactly as written (no client-side normalization). */
function raw(
  path: string,
  o: { method?: string; headers?: Record<string, string>; body?: Buffer; token?: string; chunks?: number } = {},
): { done: Promise<Answer>; abort(): void } {
  const req = https.request({
    host: '127.0.0.1',
    port: gw.port,
    servername: 'localhost',
    ca: gw.certs.ca.cert,
    agent: false,
    method: o.method ?? 'GET',
    path,
    headers: { authorization: `Bearer ${o.token ?? gw.token}`, ...o.headers },
  });
  const done = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  if (o.body && o.chunks) {
    // Sent in pieces without a declared length (chunked), as a streaming client does.
    const size = Math.ceil(o.body.length / o.chunks);
    for (let i = 0; i < o.body.length; i += size) req.write(o.body.subarray(i, i + size));
    req.end();
  } else req.end(o.body);
  return { done, abort: () => req.destroy() };
}

const get = (path: string, o?: Parameters<typeof raw>[1]) => raw(path, o).done;

/** Status of a refused request: a Kubernetes Status, BadRequest. */
function expectBadRequest(a: Answer): void {
  expect(a.status).toBe(400);
  expect(JSON.parse(a.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
}

/** Upstream requests since `from`, other than the parent object's lookup. */
const reachedSince = (from: number) =>
  up.requests.slice(from).filter((r) => r.url !== '/v1/documents/d1' && r.url !== '/v1/documents');

// Each suffix follows `.../documents/d1/proxy`; an allowed sub-path is `/contents`, anything under `/versions/`.
const ESCAPES = [
  '/..#',
  '/%2e%2e#',
  '/.%2E#x',
  '/..#?a=1',
  '/%252e%252e',
  '/%252e%252e/%252e%252e/admin',
  '/..%2f',
  '/..%2F..%2Fadmin',
  '/%2e%2e%5c',
  '/..%5c..%5cadmin',
  '/;/..',
  '/..;/..;/admin',
  '/contents;/..',
  '/contents;jsessionid=1',
  '/..',
  '/../../../admin',
  '/.',
  '/%2e',
  '/%2e%2e',
  '/.%2e/',
  '/%2e./x',
  '/%2E%2E%2F%2E%2E%2Fadmin',
  '/contents/..',
  '/contents/%2e%2e',
  '/contents%2f..%2f..',
  '/contents#/../..',
  '/contents?x=1#',
  '/versions/..',
  '/versions/%2e%2e/..',
  '/versions/.%2e',
  '/versions/%252e%252e/x',
  '/versions//..',
  '//..',
  '//admin',
  '/contents//',
  '/%2e%2e%23',
  '/%2e%2e%3f',
  '/..%00',
  '/%00',
  '/contents%0d%0aX-Injected:%201',
  '/..%09',
  '/%c0%ae%c0%ae',
  '/%ef%bc%8e%ef%bc%8e',
  '/%u002e%u002e',
  '/%',
  '/%zz',
  '/\\..',
  '/contents\\..\\..',
  '/..%252f',
  '/%5c',
];

describe('proxy paths are judged on the URL actually sent', () => {
  it('allowed sub-paths reach the object on the upstream with the adapter key, never the caller token', async () => {
    const top = await get(BASE, { headers: { cookie: 'session=1', 'x-remote-user': 'admin', connection: 'x-hop' } });
    expect(top.status).toBe(200);
    expect(JSON.parse(top.body)).toMatchObject({ id: 'd1', path: '/v1/documents/d1' });
    const from = up.requests.length;
    expect(JSON.parse((await get(`${BASE}/contents`)).body)).toMatchObject({ path: '/v1/documents/d1/contents' });
    expect(JSON.parse((await get(`${BASE}/versions/v%31`)).body)).toMatchObject({
      path: '/v1/documents/d1/versions/v1',
    });
    expect(JSON.parse((await get(`${BASE}/versions/a/b`)).body)).toMatchObject({
      path: '/v1/documents/d1/versions/a/b',
    });
    expect((await get(`${BASE}/refunds`)).status).toBe(404);
    expect(reachedSince(from).map((r) => r.url)).toEqual([
      '/v1/documents/d1/contents',
      '/v1/documents/d1/versions/v1',
      '/v1/documents/d1/versions/a/b',
    ]);
    const sent = up.requests.findLast((r) => r.url === '/v1/documents/d1')!;
    expect(sent.headers.authorization).toBe(`Bearer ${up.apiKey}`);
    const all = up.requests.map((r) => JSON.stringify(r.headers)).join('\n');
    expect(all).not.toContain(gw.token);
    expect(all).not.toContain('session=1');
    expect(all).not.toContain('x-remote-user');
    expect(all).not.toContain('x-hop');
  });

  it(`refuses ${ESCAPES.length} escapes with a 400 Status; none reaches the upstream (HTTP/1.1)`, async () => {
    await get(BASE); // the parent object is looked up (and cached) once
    const from = up.requests.length;
    const answers = await Promise.all(ESCAPES.map((e) => get(BASE + e)));
    for (const [i, a] of answers.entries()) {
      expect({ escape: ESCAPES[i], status: a.status }).toEqual({ escape: ESCAPES[i], status: 400 });
      expectBadRequest(a);
    }
    expect(reachedSince(from)).toEqual([]);
  });

  it('refuses the same escapes over HTTP/2; none reaches the upstream', async () => {
    const from = up.requests.length;
    const session = http2.connect(gw.url, { ca: gw.certs.ca.cert, servername: 'localhost' });
    try {
      const answers = await Promise.all(
        ESCAPES.map(
          (e) =>
            new Promise<Answer>((resolve, reject) => {
              const s = session.request({ ':path': BASE + e, authorization: `Bearer ${gw.token}` });
              let status = 0;
              let body = '';
              s.on('response', (h) => (status = Number(h[':status'])));
              s.on('data', (c: Buffer) => (body += c.toString()));
              s.on('end', () => resolve({ status, headers: {}, body }));
              s.on('error', reject);
            }),
        ),
      );
      for (const [i, a] of answers.entries()) {
        expect({ escape: ESCAPES[i], status: a.status }).toEqual({ escape: ESCAPES[i], status: 400 });
        expectBadRequest(a);
      }
    } finally {
      session.close();
    }
    expect(reachedSince(from)).toEqual([]);
  });

  it('passes only query parameters the adapter allows by name', async () => {
    const from = up.requests.length;
    expect(JSON.parse((await get(`${BASE}/contents?limit=3`)).body)).toMatchObject({ query: 'limit=3' });
    for (const q of ['expand[]=customer', 'expand%5B%5D=customer', 'limit=3&expand[]=customer', 'LIMIT=3']) {
      const a = await get(`${BASE}/contents?${q}`);
      expectBadRequest(a);
      expect((JSON.parse(a.body) as { message: string }).message).toMatch(
        /not allowed by the adapter \(allowed: limit\)/,
      );
    }
    expect(reachedSince(from).map((r) => r.url)).toEqual(['/v1/documents/d1/contents?limit=3']);
  });
});

describe('proxy answers', () => {
  it("passes a conditional request's 304 through with its validators", async () => {
    up.on('/v1/documents/d1/versions/v2', (req, res) => {
      if (req.headers['if-none-match'] === '"v2"' || req.headers['if-modified-since']) {
        res.writeHead(304, { etag: '"v2"', 'last-modified': 'Mon, 01 Jun 2026 00:00:00 GMT' });
        res.end();
        return;
      }
      res.writeHead(200, { etag: '"v2"', 'content-type': 'text/plain' });
      res.end('version two');
    });
    const full = await get(`${BASE}/versions/v2`);
    expect(full).toMatchObject({ status: 200, body: 'version two' });
    expect(full.headers.etag).toBe('"v2"');
    const cond = await get(`${BASE}/versions/v2`, { headers: { 'if-none-match': '"v2"' } });
    expect(cond.status).toBe(304);
    expect(cond.body).toBe('');
    expect(cond.headers.etag).toBe('"v2"');
    const since = await get(`${BASE}/versions/v2`, {
      headers: { 'if-modified-since': 'Mon, 01 Jun 2026 00:00:00 GMT' },
    });
    expect(since.status).toBe(304);
    expect(since.headers['last-modified']).toBe('Mon, 01 Jun 2026 00:00:00 GMT');
  });

  it('answers 503 with Retry-After when the parent lookup or the proxied call fails upstream', async () => {
    up.on('/v1/documents/d9', (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"database on fire"}');
    });
    const lookup = await get(`${P}/documents/d9/proxy`);
    expect(lookup.status).toBe(503);
    expect(lookup.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(lookup.body)).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    up.on('/v1/documents/d1/versions/broken', (_req, res) => {
      res.writeHead(502);
      res.end();
    });
    const call = await get(`${BASE}/versions/broken`);
    expect(call.status).toBe(503);
    expect(call.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(call.body)).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable' });
  });

  it('streams a request body upstream, and refuses one over the limit (declared or streamed) with 413', async () => {
    const sizes: number[] = [];
    up.on('/v1/documents/d1/contents', (req, res) => {
      if (req.method !== 'PUT') {
        res.writeHead(405);
        res.end();
        return;
      }
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => {
        sizes.push(n);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ received: n }));
      });
      req.on('error', () => res.destroy());
    });
    const ok = await get(`${BASE}/contents`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(3 << 20, 7),
      chunks: 48,
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ received: 3 << 20 });
    const from = up.requests.length;
    const declared = await get(`${BASE}/contents`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(5 << 20, 7),
    });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge' });
    expect(reachedSince(from)).toEqual([]);
    const streamed = await get(`${BASE}/contents`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(5 << 20, 7),
      chunks: 80,
    });
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body)).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge' });
    // The gateway cut the body at the limit: the upstream never got a whole one.
    expect(sizes).toEqual([3 << 20]);
    // Methods the adapter does not allow are refused before anything is sent.
    const post = await get(`${BASE}/contents`, { method: 'POST', body: Buffer.from('x') });
    expect(post.status).toBe(405);
  });
});

describe('upstream fairness', () => {
  it("one user's hanging proxy calls take neither another user's lists and gets nor their proxy calls", async () => {
    const hanging: ServerResponse[] = [];
    up.on('/v1/documents/d1/versions/slow', (_req, res) => hanging.push(res));
    const before = up.requests.length;
    // mallory's share of the proxy bulkhead is 2: two calls hang upstream, the rest are refused at once.
    const calls = Array.from({ length: 6 }, () => raw(`${BASE}/versions/slow`, { token: MALLORY }));
    const settled: boolean[] = calls.map(() => false);
    calls.forEach((c, i) => void c.done.then(() => (settled[i] = true)).catch(() => (settled[i] = true)));
    await expect.poll(() => hanging.length).toBe(2);
    await expect.poll(() => settled.filter(Boolean).length).toBe(4);
    const refused = await Promise.all(calls.filter((_c, i) => settled[i]).map((c) => c.done));
    expect(refused).toHaveLength(4);
    for (const a of refused) {
      expect(a.status).toBe(429);
      expect(a.headers['retry-after']).toMatch(/^\d+$/);
      expect(JSON.parse(a.body)).toMatchObject({ kind: 'Status', reason: 'TooManyRequests' });
    }

    // Meanwhile another user's list and get go to the upstream and come back, and so does a proxied call.
    const list = await get(`${P}/documents?limit=7`);
    expect(list.status).toBe(200);
    const one = await get(`${P}/documents/d2`);
    expect(one.status).toBe(200);
    expect(up.requests.slice(before).some((r) => r.url === '/v1/documents/d2')).toBe(true);
    const proxied = await get(`${P}/documents/d2/proxy`);
    expect(proxied.status).toBe(200);
    expect(settled.filter(Boolean).length).toBe(4); // mallory's two calls are still hanging
    expect(hanging.every((r) => !r.writableEnded)).toBe(true);

    // mallory hangs up: the gateway gives the slots back at once.
    for (const [i, c] of calls.entries()) if (!settled[i]) c.abort();
    await expect.poll(async () => (await get(`${P}/documents/d2/proxy`, { token: MALLORY })).status).toBe(200);
    for (const r of hanging) r.destroy();
  });
});
