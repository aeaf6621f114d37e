import http from 'node:http';

/** A fault the proxy injects into the next calls. */
export type Fault =
  | { kind: 'none' }
  | { kind: 'latency'; ms: number }
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'reset' }
  | { kind: 'malformed' }
  | { kind: 'huge'; bytes: number }
  | { kind: 'hang' }
  /** Headers and the first bytes of a body, then nothing (the connection stays open). */
  | { kind: 'stall-body' }
  /** An error that quotes the request back, credentials included, in its body and a header (as careless APIs do). */
  | { kind: 'echo'; status: number };

export interface FaultProxy {
  url: string;
  /** Calls received (all, faulted or not). */
  calls: number;
  /** Times of calls received (ms since epoch), for "no call before" assertions. */
  callTimes: number[];
  /** Sets the fault for every following call (or a function choosing one per call, for chaos tests). */
  set(f: Fault | (() => Fault)): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a fake upstream that injects faults: latency, error statuses with Retry-After,
 * connection resets, malformed JSON, huge bodies, a request that never answers, a body that stalls after its
 * headers, or an error that echoes the request's credentials.
 *
 * @example
 * const proxy = await startFaultProxy({ target: weather.url });
 * proxy.set({ kind: 'status', status: 429, retryAfter: '2' });
 */
export async function startFaultProxy(o: { target: string; port?: number }): Promise<FaultProxy> {
  let choose: () => Fault = () => ({ kind: 'none' });
  const hanging = new Set<http.ServerResponse>();
  const target = new URL(o.target);
  const server = http.createServer((req, res) => {
    state.calls++;
    state.callTimes.push(Date.now());
    const f = choose();
    const forward = () => {
      const up = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: target.host },
        },
        (ur) => {
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          ur.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    switch (f.kind) {
      case 'none':
        return forward();
      case 'latency':
        setTimeout(forward, f.ms);
        return;
      case 'status':
        res.writeHead(f.status, {
          'content-type': 'application/json',
          ...(f.retryAfter ? { 'retry-after': f.retryAfter } : {}),
        });
        res.end(f.body ?? JSON.stringify({ error: true, reason: `injected ${f.status}` }));
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"latitude": 48.85, "current": {"temperature_2m": ');
        return;
      case 'huge': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let left = f.bytes;
        const pump = () => {
          while (left > 0) {
            left -= chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('error', () => undefined);
        pump();
        return;
      }
      case 'hang':
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      case 'stall-body':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"data": [');
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      case 'echo': {
        const auth = req.headers.authorization ?? '';
        res.writeHead(f.status, {
          'content-type': 'application/json',
          'x-debug-authorization': auth,
          'retry-after': '1',
        });
        res.end(
          JSON.stringify({
            error: { type: 'api_error', message: `internal error handling ${req.url ?? ''} with ${auth}` },
            reason: `request had authorization ${auth}`,
            headers: req.headers,
          }),
        );
        return;
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  const addr = server.address();
  const state: FaultProxy = {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    calls: 0,
    callTimes: [],
    set(f) {
      choose = typeof f === 'function' ? f : () => f;
    },
    close() {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}
