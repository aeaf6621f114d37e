import http2 from 'node:http2';

/** An HTTP/2 connection with the flow-control windows of Go's transport (the aggregator's, kubectl's). */
function connect(url: string, ca: string): http2.ClientHttp2Session {
  const s = http2.connect(url, { ca, settings: { initialWindowSize: 4 << 20 } });
  s.on('connect', () => s.setLocalWindowSize(1 << 30));
  return s;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  bytes: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * Closed-loop load over HTTP/2 (as the aggregator connects: many streams on few connections): `concurrency`
 * requests in flight across `sessions` connections for `seconds`. Latencies in milliseconds.
 */
export async function load(o: {
  url: string;
  path: string;
  ca: string;
  headers: Record<string, string>;
  concurrency: number;
  seconds: number;
  sessions?: number;
}): Promise<LoadResult> {
  const sessions = Array.from({ length: o.sessions ?? 4 }, () => connect(o.url, o.ca));
  const lat: number[] = [];
  let bytes = 0;
  const end = performance.now() + o.seconds * 1000;
  const one = (s: http2.ClientHttp2Session): Promise<void> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = s.request({ ':path': o.path, ...o.headers });
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.on('end', () => {
        lat.push(performance.now() - t0);
        resolve();
      });
      req.on('error', reject);
      req.end();
    });
  const worker = async (i: number) => {
    const s = sessions[i % sessions.length] as http2.ClientHttp2Session;
    while (performance.now() < end) await one(s);
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, (_, i) => worker(i)));
  const seconds = (performance.now() - t0) / 1000;
  for (const s of sessions) s.close();
  lat.sort((a, b) => a - b);
  return {
    requests: lat.length,
    seconds,
    rps: lat.length / seconds,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    bytes,
  };
}

/** Sequential requests (one at a time): the time one client waits for a big list. */
export async function timeSequential(o: {
  url: string;
  path: string;
  ca: string;
  headers: Record<string, string>;
  count: number;
}): Promise<{ mean: number; p50: number; bytes: number }> {
  const s = connect(o.url, o.ca);
  const lat: number[] = [];
  let bytes = 0;
  for (let i = 0; i < o.count; i++) {
    await new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      const req = s.request({ ':path': o.path, ...o.headers });
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => {
        lat.push(performance.now() - t0);
        bytes = n;
        resolve();
      });
      req.on('error', reject);
      req.end();
    });
  }
  s.close();
  const sorted = [...lat].sort((a, b) => a - b);
  return { mean: lat.reduce((a, b) => a + b, 0) / lat.length, p50: percentile(sorted, 50), bytes };
}

/** Fetches one body over HTTP/2. */
export function fetchBody(o: {
  url: string;
  path: string;
  ca: string;
  headers: Record<string, string>;
}): Promise<Buffer> {
  const s = connect(o.url, o.ca);
  return new Promise((resolve, reject) => {
    const req = s.request({ ':path': o.path, ...o.headers });
    const chunks: Buffer[] = [];
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      s.close();
      if (status !== 200) reject(new Error(`${o.path}: HTTP ${status}: ${Buffer.concat(chunks).toString()}`));
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
    req.end();
  });
}
