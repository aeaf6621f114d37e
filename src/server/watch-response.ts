import type { FastifyReply } from 'fastify';
import type { Http2ServerResponse } from 'node:http2';
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
}

/** The HTTP/2 stream under a compatibility response, or the HTTP/1.1 response itself. */
function rawWritable(res: ServerResponse | Http2ServerResponse): Writable {
  return 'stream' in res ? res.stream : res;
}

/**
 * Streams a prepared watch (docs/kubernetes-wire.md, "Watch"): newline-delimited JSON events, flushed per
 * event, on HTTP/1.1 (chunked) or HTTP/2. Once the headers are out, errors are ERROR events.
 */
export function streamWatch(watch: PreparedWatch, reply: FastifyReply): void {
  reply.hijack();
  const res: ServerResponse | Http2ServerResponse = reply.raw;
  const headers: Record<string, string | string[]> = {
    'content-type': 'application/json',
    'cache-control': 'no-cache, private',
  };
  if (watch.warnings) headers.warning = watch.warnings;
  res.writeHead(200, headers);
  if ('flushHeaders' in res) res.flushHeaders();
  const stop = watch.start(new ResponseSink(rawWritable(res)));
  res.once('close', stop);
}
