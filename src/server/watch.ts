import type { FastifyReply } from 'fastify';
import type { ListOptions } from '../k8s/params.ts';
import type { Negotiated } from '../k8s/negotiate.ts';
import type { Collection } from '../resources/runtime.ts';
import type { FrameEncoder, WatchSink } from '../resources/watch.ts';
import { awaitResourceVersion, objectFilter } from './list.ts';

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
  const encode: FrameEncoder =
    format.kind === 'table'
      ? (type, e, frv, first, end) =>
          e && type !== 'BOOKMARK'
            ? encoder.tableFrame(type, e, frv, first, format.version, inc)
            : encoder.jsonFrame(type, e, frv, end)
      : (type, e, frv, _first, end) => encoder.jsonFrame(type, e, frv, end);

  reply.hijack();
  const res = reply.raw;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-cache, private' };
  const warning = reply.getHeader('warning');
  if (typeof warning === 'string') headers.warning = warning;
  res.writeHead(200, headers);
  (res as { flushHeaders?: () => void }).flushHeaders?.();
  const stream = (res as { stream?: { writableLength: number } }).stream;
  const sink: WatchSink = {
    write: (b) => res.write(b),
    end: () => res.end(),
    buffered: () => stream?.writableLength ?? (res as { writableLength?: number }).writableLength ?? 0,
  };
  const timeoutMs = o.timeoutSeconds !== undefined ? o.timeoutSeconds * 1000 : defaultTimeoutMs();
  const stop = hub.add(
    {
      sink,
      filter,
      encode,
      format: format.kind === 'table' ? `table/${format.version}/${inc}` : 'json',
      bookmarks: o.allowWatchBookmarks,
      timeoutMs,
    },
    initial ? view.sorted() : [],
    fromRv,
    initial && o.sendInitialEvents === true && o.allowWatchBookmarks,
  );
  res.once('close', stop);
}
