import type { KubegateReply } from './http.ts';
import { constants, Http2ServerResponse, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { PreparedWatch } from '../registry/types.ts';
import type { WatchSink } from '../resources/watch.ts';

/** What the watch sinks of one HTTP/2 connection have queued, as last seen (see `ResponseSink.congested`). */
interface Ledger {
  sinks: Set<ResponseSink>;
  total: number;
}

/** The watch sinks of each HTTP/2 connection, which share its memory (Node's `maxSessionMemory`). */
const bySession = new WeakMap<Http2Session, Ledger>();

/**
 * Where frames go: the HTTP/2 stream itself (skipping the compatibility response's per-write checks) or the
 * HTTP/1.1 response. A class, not closures: 10,000 watchers share its methods.
 *
 * On HTTP/2 one connection carries many streams (the aggregator multiplexes every user's requests on a few),
 * and Node refuses new streams on a connection whose queued bytes pass `maxSessionMemory`. So the watches of a
 * connection share a budget: once their queued bytes together pass it, a watcher holding more than its share
 * is cut, whatever the per-watcher limit, and the connection stays usable for everyone else's requests.
 */
class ResponseSink implements WatchSink {
  private readonly w: Writable;
  private readonly h2: ServerHttp2Stream | undefined;
  private readonly ledger: Ledger | undefined;
  private readonly budget: number;
  /** This sink's queued bytes as last counted in the ledger. */
  private counted = 0;
  constructor(w: Writable, h2: ServerHttp2Stream | undefined, budget: number) {
    this.w = w;
    this.h2 = h2;
    this.budget = budget;
    const session = h2?.session;
    if (session) {
      let ledger = bySession.get(session);
      if (!ledger) bySession.set(session, (ledger = { sinks: new Set(), total: 0 }));
      ledger.sinks.add(this);
      this.ledger = ledger;
      w.once('close', () => this.leave());
    }
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
  destroy(): void {
    this.leave();
    // HTTP/2: reset this stream alone (CANCEL: the client sees an error and watches again). HTTP/1.1: the
    // connection carries only this watch.
    if (this.h2) this.h2.close(constants.NGHTTP2_CANCEL);
    else this.w.destroy();
  }
  /**
   * The ledger is updated on each write (drains are not seen, so it over-counts); only when it says the budget
   * is passed are the connection's watchers counted exactly, and this one cut if it holds more than its share.
   */
  congested(): boolean {
    const ledger = this.ledger;
    if (!ledger) return false;
    const own = this.w.writableLength;
    ledger.total += own - this.counted;
    this.counted = own;
    if (ledger.total <= this.budget) return false;
    let total = 0;
    for (const s of ledger.sinks) total += s.counted = s.w.writableLength;
    ledger.total = total;
    return total > this.budget && own >= this.budget / ledger.sinks.size;
  }
  private leave(): void {
    const ledger = this.ledger;
    if (!ledger?.sinks.delete(this)) return;
    ledger.total -= this.counted;
    this.counted = 0;
  }
}

/**
 * Streams a prepared watch (docs/kubernetes-wire.md, "Watch"): newline-delimited JSON events, flushed per
 * event, on HTTP/1.1 (chunked) or HTTP/2. Once the headers are out, errors are ERROR events. `release` gives
 * the watch's place back (watch limits) when the stream closes; `sessionBudget` is what the watches of one
 * HTTP/2 connection may queue together.
 */
export function streamWatch(
  watch: PreparedWatch,
  reply: KubegateReply,
  release: () => void = () => undefined,
  sessionBudget = Infinity,
): void {
  reply.hijack();
  const headers: Record<string, string | string[]> = {
    'content-type': 'application/json',
    'cache-control': 'no-cache, private',
  };
  if (watch.warnings) headers.warning = watch.warnings;
  const res = reply.raw;
  const h2 = res instanceof Http2ServerResponse ? res.stream : undefined;
  const stop = watch.start(new ResponseSink(openStream(res, headers), h2, sessionBudget));
  res.once('close', () => {
    stop();
    release();
  });
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
