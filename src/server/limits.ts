import { createSecureServer, type Http2SecureServer, type Http2Session, type SecureServerOptions } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

/**
 * Connection and request bounds of the HTTPS server, for both protocols. Every field has a default; the
 * config's `server.timeouts` and `server.http2` sections override them.
 */
export interface ServerLimits {
  /** TLS handshake must finish within this (ms). */
  handshakeTimeoutMs: number;
  /** HTTP/1.1: the request line and headers must arrive within this (ms). */
  headersTimeoutMs: number;
  /**
   * HTTP/1.1: the whole request, body included, must arrive within this (ms). HTTP/2 bounds unread bodies by
   * flow control instead (`initialWindowSize` per stream), and readers of bodies bound their own time.
   */
  requestTimeoutMs: number;
  /** An HTTP/1.1 connection between requests, or an HTTP/2 connection without open streams, is closed after this (ms). */
  idleTimeoutMs: number;
  /** HTTP/2: streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxConcurrentStreams: number;
  /** HTTP/2: how many request-body bytes a client may send on one stream before kubegate reads them. */
  initialWindowSize: number;
  /**
   * HTTP/2: Node's per-connection memory ceiling (bytes). Past it Node refuses new streams with
   * ENHANCE_YOUR_CALM, so it must stay above what the connection's watchers may queue (see
   * `sessionWatchBudget`) plus what ordinary responses queue.
   */
  maxSessionMemory: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 90_000,
  maxConcurrentStreams: 250,
  initialWindowSize: 64 << 10,
  maxSessionMemory: 128 << 20,
};

/** Largest header list a client may send, in bytes (kubectl's largest requests carry a few KiB). */
const MAX_HEADER_BYTES = 64 << 10;

type Handler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

/**
 * Open streams per HTTP/2 connection: a connection is idle (and closed after `idleTimeoutMs`) only while it has
 * none, so a quiet watch is never cut for lack of traffic.
 */
const openStreams = new WeakMap<Http2Session, number>();

/**
 * Creates the TLS server (HTTP/2 with HTTP/1.1 by ALPN) with every timeout and HTTP/2 setting bounded, for
 * fastify's `serverFactory`. `handler` receives each request (kubegate's edge, then fastify).
 */
export function createBoundedServer(
  tls: SecureServerOptions,
  limits: ServerLimits,
  handler: Handler,
): Http2SecureServer {
  const http1 = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    maxHeaderSize: MAX_HEADER_BYTES,
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
  };
  const server = createSecureServer(
    {
      ...tls,
      allowHTTP1: true,
      handshakeTimeout: limits.handshakeTimeoutMs,
      // Node counts this in megabytes.
      maxSessionMemory: Math.max(1, Math.ceil(limits.maxSessionMemory / 1_000_000)),
      maxHeaderListPairs: 256,
      settings: {
        maxConcurrentStreams: limits.maxConcurrentStreams,
        initialWindowSize: limits.initialWindowSize,
        maxHeaderListSize: MAX_HEADER_BYTES,
        enablePush: false,
      },
      // Kubegate opens no streams towards clients; until the client's SETTINGS arrive, assume few.
      peerMaxConcurrentStreams: 100,
      unknownProtocolTimeout: limits.handshakeTimeoutMs,
      // The HTTP/1.1 side of the server (Node reads these options when `allowHTTP1` is set).
      ...http1,
    } as SecureServerOptions,
    handler,
  );
  // No socket-inactivity timeout: a watch with nothing to say is idle by design; headers, body and keep-alive
  // are bounded instead.
  server.setTimeout(0);
  server.on('session', (session: Http2Session) => {
    openStreams.set(session, 0);
    session.setTimeout(limits.idleTimeoutMs, () => {
      if ((openStreams.get(session) ?? 0) === 0) session.close();
    });
  });
  server.on('stream', (stream) => {
    const session = stream.session;
    if (!session) return;
    openStreams.set(session, (openStreams.get(session) ?? 0) + 1);
    stream.once('close', () => openStreams.set(session, (openStreams.get(session) ?? 1) - 1));
  });
  return server;
}
