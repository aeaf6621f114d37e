import type { FastifyReply } from 'fastify';
import type { Writable } from 'node:stream';
import type { ListOptions } from '../k8s/params.ts';
import type { Negotiated } from '../k8s/negotiate.ts';
import type { Collection } from '../resources/runtime.ts';
import type { FrameEncoder, WatchSink } from '../resources/watch.ts';
import { awaitResourceVersion, objectFilter } from './list.ts';

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

/** One frame encoder per collection and format, shared by its watchers. */
const encoders = new WeakMap<Collection, Map<string, FrameEncoder>>();
function frameEncoder(c: Collection, key: string, make: () => FrameEncoder): FrameEncoder {
  let m = encoders.get(c);
  if (!m) encoders.set(c, (m = new Map<string, FrameEncoder>()));
  let e = m.get(key);
  if (!e) m.set(key, (e = make()));
  return e;
}

/** Real apiservers pick a random watch timeout between 30 and 60 minutes when the client sets none. */
function defaultTimeoutMs(): number {
  return (1800 + Math.floor(Math.random() * 1800)) * 1000;
}

/**
 * Streams a watch (WIRE.md §6): newline-delimited JSON events, flushed per event, on HTTP/1.1 (chunked) or
 * HTTP/2. Setup errors become a Status answer; once streaming, errors are ERROR events.
 */
export async function serveWatch(
  c: Collection,
  namespace: string | undefined,
  o: ListOptions,
  format: Negotiated,
  reply: FastifyReply,
): Promise<void> {
  const { view, hub, encoder } = c;
  let initial = false;
  let fromRv: number;
  const rv = o.resourceVersion;
  if (o.sendInitialEvents === true || rv === undefined || rv === 0) {
    if (rv !== undefined && rv > 0) await awaitResourceVersion(c, rv);
    initial = o.sendInitialEvents !== false;
    fromRv = view.rv;
  } else {
    await awaitResourceVersion(c, rv);
    fromRv = rv;
  }
  const filter = objectFilter(c, namespace, o);
  const inc = o.includeObject;
  const formatKey = format.kind === 'table' ? `table/${format.version}/${inc}` : 'json';
  const encode = frameEncoder(c, formatKey, () =>
    format.kind === 'table'
      ? (type, e, frv, first, end) =>
          e && type !== 'BOOKMARK'
            ? encoder.tableFrame(type, e, frv, first, format.version, inc)
            : encoder.jsonFrame(type, e, frv, end)
      : (type, e, frv, _first, end) => encoder.jsonFrame(type, e, frv, end),
  );

  reply.hijack();
  const res = reply.raw;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-cache, private' };
  const warning = reply.getHeader('warning');
  if (typeof warning === 'string') headers.warning = warning;
  res.writeHead(200, headers);
  (res as { flushHeaders?: () => void }).flushHeaders?.();
  const stream = (res as { stream?: Writable }).stream;
  const sink: WatchSink = new ResponseSink(stream ?? res);
  const timeoutMs = o.timeoutSeconds !== undefined ? o.timeoutSeconds * 1000 : defaultTimeoutMs();
  const stop = hub.add(
    {
      sink,
      filter,
      encode,
      format: formatKey,
      bookmarks: o.allowWatchBookmarks,
      timeoutMs,
    },
    initial ? view.sorted() : [],
    fromRv,
    initial && o.sendInitialEvents === true && o.allowWatchBookmarks,
  );
  res.once('close', stop);
}
