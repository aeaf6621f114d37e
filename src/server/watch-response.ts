import type { KubegateReply } from './http.ts';
import { Http2ServerResponse } from 'node:http2';
import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { PreparedWatch } from '../registry/types.ts';
import type { WatchSink } from '../resources/watch.ts';

/**
 * Where frames go: the HTTP/2 stream itself (skipping the compatibility response's per-write checks) or the
 * HTTP/1.1 response. A class, not closures: 10,000 watchers share its methods.
 */
class ResponseSink implements WatchSink {
  private readonly w: Writable;
  constructor(w: Writable) {
    this.w = w;
  }
  write(b: Buffer): boolean {
    return this.w.writableEnded ? false : this.w.write(b);
  }
  end(): void {
    if (!this.w.writableEnded) this.w.end();
  }
  buffered(): number {
    return this.w.writableLength;
  }
  writeThen(b: Buffer, written: () => void): boolean {
    if (this.w.writableEnded) return false;
    return this.w.write(b, (err) => {
      if (!err) written();
    });
  }
}

/**
 * Streams a prepared watch (docs/kubernetes-wire.md, "Watch"): newline-delimited JSON events, flushed per
 * event, on HTTP/1.1 (chunked) or HTTP/2. Once the headers are out, errors are ERROR events.
 */
export function streamWatch(watch: PreparedWatch, reply: KubegateReply): void {
  reply.hijack();
  const headers: Record<string, string | string[]> = {
    'content-type': 'application/json',
    'cache-control': 'no-cache, private',
  };
  if (watch.warnings) headers.warning = watch.warnings;
  const stop = watch.start(new ResponseSink(openStream(reply.raw, headers)));
  reply.raw.once('close', stop);
}

/**
 * Sends the headers and returns what frames are written to. The app is typed for HTTP/2, but HTTP/1.1 clients
 * (allowHTTP1) get a plain ServerResponse: HTTP/2's writeHead sends the headers at once, HTTP/1.1 holds them
 * until the first write unless flushed.
 */
function openStream(res: ServerResponse | Http2ServerResponse, headers: Record<string, string | string[]>): Writable {
  if (res instanceof Http2ServerResponse) {
    res.writeHead(200, headers);
    return res.stream;
  }
  res.writeHead(200, headers);
  res.flushHeaders();
  return res;
}
