import http2 from 'node:http2';
import https from 'node:https';
import type { CertPair } from '../../src/server/tls.ts';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface DirectRequest {
  /** Header lines, repeats allowed, names sent as given (HTTP/2 lower-cases them on the wire). */
  headers?: [string, string][];
  /** A client certificate to present (optionally with intermediates appended to `cert`). */
  cert?: CertPair;
  protocol?: 'h2' | 'http/1.1';
  method?: string;
  servername?: string;
}

/**
 * One request straight to kubegate (no front proxy), as a client that controls every header and the TLS client
 * certificate would send it: for forging `X-Remote-*`, presenting foreign certificates, repeating headers.
 */
export function directRequest(baseUrl: string, ca: string, path: string, o: DirectRequest = {}): Promise<Answer> {
  const url = new URL(path, baseUrl);
  const tls = {
    ca,
    servername: o.servername ?? 'localhost',
    ...(o.cert ? { cert: o.cert.cert, key: o.cert.key } : {}),
  };
  const headers = o.headers ?? [];
  if ((o.protocol ?? 'http/1.1') === 'h2') {
    return new Promise((resolve, reject) => {
      const s = http2.connect(url.origin, tls);
      s.on('error', (err: Error) => reject(err));
      const h: http2.OutgoingHttpHeaders = { ':method': o.method ?? 'GET', ':path': `${url.pathname}${url.search}` };
      for (const [k, v] of headers) {
        const key = k.toLowerCase();
        const prev = h[key];
        h[key] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
      }
      const q = s.request(h);
      let status = 0;
      let rh: Answer['headers'] = {};
      let body = '';
      q.on('response', (r) => {
        status = Number(r[':status']);
        rh = r;
      });
      q.on('data', (d: Buffer) => (body += d.toString()));
      q.on('end', () => {
        s.close();
        resolve({ status, headers: rh, body });
      });
      q.on('error', (err: Error) => {
        s.destroy();
        reject(err);
      });
    });
  }
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: o.method ?? 'GET', agent: false, ...tls }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    // setHeader would merge repeats; appendHeader sends each line as given.
    for (const [k, v] of headers) req.appendHeader(k, v);
    req.on('error', reject);
    req.end();
  });
}
