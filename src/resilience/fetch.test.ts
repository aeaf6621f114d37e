import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../examples/fault-proxy/server.ts';
import { createUpstreamClient, hasIdempotencyKey, parseRetryAfter, UpstreamError } from './fetch.ts';

let target: http.Server;
let proxy: FaultProxy;
let targetUrl = '';

beforeAll(async () => {
  target = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const a = target.address();
  targetUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  proxy = await startFaultProxy({ target: targetUrl });
});
afterAll(async () => {
  await proxy.close();
  target.close();
});

const fast = { backoffInitialMs: 10, backoffMaxMs: 50, rateLimitPerSecond: 0 };

describe('upstream policy', () => {
  it('passes successful calls through', async () => {
    proxy.set({ kind: 'none' });
    const c = createUpstreamClient(fast);
    const r = await c.fetch(`${proxy.url}/x`);
    expect(await r.json()).toEqual({ ok: true });
  });

  it('retries a 503 and succeeds', async () => {
    let n = 0;
    proxy.set(() => (n++ < 2 ? { kind: 'status', status: 503 } : { kind: 'none' }));
    const before = proxy.calls;
    const c = createUpstreamClient({ ...fast, retries: 3 });
    expect((await c.fetch(`${proxy.url}/x`)).status).toBe(200);
    expect(proxy.calls - before).toBe(3);
  });

  it('retries a POST that carries an Idempotency-Key (the upstream answers a repeat with the first answer)', async () => {
    let n = 0;
    proxy.set(() => (n++ < 1 ? { kind: 'reset' } : { kind: 'none' }));
    const before = proxy.calls;
    const c = createUpstreamClient({ ...fast, retries: 3 });
    const r = await c.fetch(`${proxy.url}/x`, { method: 'POST', body: 'a=1', headers: { 'Idempotency-Key': 'k1' } });
    expect(r.status).toBe(200);
    expect(proxy.calls - before).toBe(2);
    expect(hasIdempotencyKey('http://x', { headers: new Headers({ 'idempotency-key': 'k' }) })).toBe(true);
    expect(hasIdempotencyKey('http://x', { headers: [['Idempotency-Key', 'k']] })).toBe(true);
    expect(hasIdempotencyKey(new Request('http://x', { headers: { 'idempotency-key': 'k' } }), undefined)).toBe(true);
    expect(hasIdempotencyKey('http://x', { headers: { accept: 'x' } })).toBe(false);
  });

  it('does not retry a non-idempotent call', async () => {
    proxy.set({ kind: 'status', status: 503 });
    const before = proxy.calls;
    const c = createUpstreamClient({ ...fast, retries: 3 });
    await expect(c.fetch(`${proxy.url}/x`, { method: 'POST', body: '{}' })).rejects.toThrow(/answered 503/);
    expect(proxy.calls - before).toBe(1);
  });

  it('retries a POST the adapter marks idempotent (a query API that reads with POST)', async () => {
    let n = 0;
    proxy.set(() => (n++ < 2 ? { kind: 'status', status: 503 } : { kind: 'none' }));
    const before = proxy.calls;
    const c = createUpstreamClient({ ...fast, retries: 3 });
    const r = await c.fetch(`${proxy.url}/x`, { method: 'POST', body: 'Action=Describe', idempotent: true });
    expect(r.status).toBe(200);
    expect(proxy.calls - before).toBe(3);
  });

  it('honours Retry-After: no upstream call for at least that long', async () => {
    proxy.set({ kind: 'status', status: 429, retryAfter: '2' });
    const c = createUpstreamClient({ ...fast, retries: 0 });
    await expect(c.fetch(`${proxy.url}/x`)).rejects.toThrow(/429/);
    const first = proxy.callTimes.at(-1)!;
    proxy.set({ kind: 'none' });
    const r = await c.fetch(`${proxy.url}/x`);
    expect(r.status).toBe(200);
    expect(proxy.callTimes.at(-1)! - first).toBeGreaterThanOrEqual(1990);
  });

  it('gives up on a hanging upstream within the per-attempt timeout and overall deadline', async () => {
    proxy.set({ kind: 'hang' });
    const c = createUpstreamClient({ ...fast, timeoutMs: 200, deadlineMs: 700, retries: 5 });
    const t0 = Date.now();
    await expect(c.fetch(`${proxy.url}/x`)).rejects.toThrow(/did not answer within|deadline/);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('opens the breaker after consecutive failures, then half-opens and closes on success', async () => {
    proxy.set({ kind: 'reset' });
    const c = createUpstreamClient({ ...fast, retries: 0, breakerThreshold: 3, halfOpenAfterMs: 300 });
    for (let i = 0; i < 3; i++) await expect(c.fetch(`${proxy.url}/x`)).rejects.toThrow(/unreachable/);
    expect(c.breakerState()).toBe('open');
    const before = proxy.calls;
    await expect(c.fetch(`${proxy.url}/x`)).rejects.toThrow(/circuit breaker open/);
    expect(proxy.calls).toBe(before); // no call while open
    await new Promise((r) => setTimeout(r, 350));
    proxy.set({ kind: 'none' });
    expect((await c.fetch(`${proxy.url}/x`)).status).toBe(200);
    expect(c.breakerState()).toBe('closed');
  });

  it('refuses a body larger than maxResponseBytes', async () => {
    proxy.set({ kind: 'huge', bytes: 4 << 20 });
    const c = createUpstreamClient({ ...fast, maxResponseBytes: 1 << 20 });
    await expect(c.fetch(`${proxy.url}/x`)).rejects.toThrow(/more than the limit/);
  });

  it('rate-limits upstream calls with a token bucket', async () => {
    proxy.set({ kind: 'none' });
    const c = createUpstreamClient({ ...fast, rateLimitPerSecond: 10, rateLimitBurst: 2 });
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await c.fetch(`${proxy.url}/x`);
    // 2 from the burst, then 3 more at 10/s.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('never puts the query string (where keys live) in an error', async () => {
    proxy.set({ kind: 'status', status: 500 });
    const c = createUpstreamClient({ ...fast, retries: 0 });
    const err = await c.fetch(`${proxy.url}/x?apikey=SECRET123`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).not.toContain('SECRET123');
  });

  it('fails a body that stalls after its headers within the per-attempt timeout', async () => {
    proxy.set({ kind: 'stall-body' });
    const c = createUpstreamClient({ ...fast, retries: 0, timeoutMs: 300, deadlineMs: 5000 });
    const t0 = performance.now();
    const res = await c.fetch(`${proxy.url}/x`);
    // The headers came in time; the body read is what the deadline has to end.
    const err = await res.json().catch((e: unknown) => e);
    const took = performance.now() - t0;
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({
      code: 'KUBEGATE_UPSTREAM_TIMEOUT',
      message: 'upstream body did not arrive within 300ms',
    });
    // Ended by the configured timeout, not the HTTP client's own body timeout (minutes): within 10× of it.
    expect(took).toBeLessThan(300 * 10);
  });

  it('says what failed in fixed words, never with the body of an upstream that echoes its credentials', async () => {
    proxy.set({ kind: 'echo', status: 500 });
    const c = createUpstreamClient({ ...fast, retries: 0 });
    const err = await c
      .fetch(`${proxy.url}/x`, { headers: { authorization: 'Bearer sk_live_echoedKey0000001' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ message: 'upstream answered 500', status: 500, code: 'KUBEGATE_UPSTREAM_STATUS' });
  });

  it('names a refused connection by a fixed phrase', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const a = closed.address();
    const port = typeof a === 'object' && a ? a.port : 0;
    await new Promise((r) => closed.close(r));
    const c = createUpstreamClient({ ...fast, retries: 0 });
    const err = await c.fetch(`http://127.0.0.1:${port}/x`).catch((e: unknown) => e);
    expect(err).toMatchObject({
      message: 'upstream unreachable (connection refused)',
      code: 'KUBEGATE_UPSTREAM_UNREACHABLE',
    });
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString(), Date.now())).toBeGreaterThan(3000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
