import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** Answers one request; the default answers the document routes of documents-adapter.ts. */
export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface Recorder {
  url: string;
  apiKey: string;
  /** Every request received, as received (raw URL). */
  requests: Recorded[];
  /** Replaces the answer for paths starting with `prefix` (e.g. `/v1/documents/d1/contents`). */
  on(prefix: string, h: Handler): void;
  close(): Promise<void>;
}

/** Document ids the upstream knows; `d1` is 2 KiB. */
const DOCS = [
  { id: 'd1', size: 2048 },
  { id: 'd2', size: 10 },
];

/**
 * An upstream that records every request line and headers before answering, so a test can count what
 * reached it: the documents API of documents-adapter.ts plus per-prefix handlers a test installs.
 */
export async function startRecorder(): Promise<Recorder> {
  const apiKey = 'docs-key-0123456789';
  const requests: Recorded[] = [];
  const handlers: [string, Handler][] = [];
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    const b = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
    res.end(b);
  };
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const h = handlers.find(([p]) => path.startsWith(p));
    if (h) return h[1](req, res);
    if (req.headers.authorization !== `Bearer ${apiKey}`) return json(res, 401, { error: 'unauthorized' });
    if (path === '/v1/documents') return json(res, 200, DOCS);
    const m = /^\/v1\/documents\/([^/]+)(\/.*)?$/.exec(path);
    const doc = m ? DOCS.find((d) => d.id === m[1]) : undefined;
    if (!doc) return json(res, 404, { error: 'no such document' });
    req.resume();
    return json(res, 200, { id: doc.id, size: doc.size, path, query: (req.url ?? '').split('?')[1] ?? '' });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    apiKey,
    requests,

    on: (prefix, h) => handlers.unshift([prefix, h]),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
