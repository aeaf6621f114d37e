import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { peerCertificateOf } from '../auth/peer.ts';
import type { AuthenticationRequest, UserInfo } from '../auth/types.ts';
import { KubeError, toStatus, type Status } from '../k8s/errors.ts';

type RawRequest = IncomingMessage | Http2ServerRequest;
type RawResponse = ServerResponse | Http2ServerResponse;
export type RequestListener = (req: RawRequest, res: RawResponse) => void;

/** Methods with a meaning on the Kubernetes wire. HTTP/2 lets a client send any token, lower case included. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The user the edge authenticated, per Node request (read by the gate). */
const users = new WeakMap<object, UserInfo>();

/** The user the edge authenticated for this Node request, if it did. */
export function edgeUser(raw: object): UserInfo | undefined {
  return users.get(raw);
}

export interface EdgeOptions {
  /** Resolves the user or rejects (with a 401 KubeError); logs the cause itself. */
  authenticate(req: AuthenticationRequest): Promise<UserInfo>;
  /** Paths answered without credentials (health probes). */
  isOpen(path: string): boolean;
}

/** Whether the client announced a body that nobody has read yet. */
function bodyPending(req: RawRequest): boolean {
  const stream = (req as Http2ServerRequest).stream as { endAfterHeaders?: boolean } | undefined;
  if (stream) return !stream.endAfterHeaders && !req.readableEnded;
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** How long a connection closed on a client still sending is drained before it is dropped. */
const LINGER_MS = 2000;

/**
 * Closing a socket with unread bytes makes the kernel send a reset, which can destroy the answer before the
 * client reads it. So the connection is half-closed after the answer, what still arrives is discarded (never
 * kept), and it is dropped when the client closes its side or after LINGER_MS, whichever comes first.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
    const drop = setTimeout(() => this.destroy(), LINGER_MS);
    drop.unref();
    this.once('close', () => clearTimeout(drop));
    this.once('end', () => this.destroy());
  };
}

/** How long an answered HTTP/2 stream may go on receiving a body before it is reset. */
const STREAM_LINGER_MS = 250;

/**
 * Ends an HTTP/2 stream whose request body nobody will read, once the answer has been handed to Node: if the
 * client is still sending after a short linger (time for the answer to leave first), the stream is reset
 * (NO_ERROR), and dropped a little later should Node hold the reset back.
 */
export function endStreamAfterAnswer(stream: Http2ServerRequest['stream']): void {
  const sending = () => !stream.destroyed && !stream.closed && stream.state.remoteClose === 0;
  const reset = () => {
    if (!sending()) return;
    stream.close(constants.NGHTTP2_NO_ERROR);
    setTimeout(() => {
      if (!stream.destroyed) stream.destroy();
    }, LINGER_MS).unref();
  };
  const linger = () => {
    if (sending()) setTimeout(reset, STREAM_LINGER_MS).unref();
  };
  if (stream.writableFinished) linger();
  else stream.once('finish', linger);
}

/**
 * Answers a request before routing: the Status, then the end of the exchange if the client is still sending a
 * body (the connection on HTTP/1.1, the stream alone on HTTP/2), so the body is never read.
 */
export function refuse(req: RawRequest, res: RawResponse, status: Status): void {
  const body = JSON.stringify(status);
  const pending = bodyPending(req);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-cache, private',
  };
  if (status.details?.retryAfterSeconds) headers['retry-after'] = String(status.details.retryAfterSeconds);
  const stream = (req as Http2ServerRequest).stream as Http2ServerRequest['stream'] | undefined;
  if (!stream && pending) {
    headers.connection = 'close';
    lingerOnClose(req.socket);
  }
  (res as ServerResponse).writeHead(status.code, headers);
  res.end(body);
  // Reset (NO_ERROR) once the answer is out, so the client stops sending the body.
  if (stream && pending) endStreamAfterAnswer(stream);
}

/**
 * kubegate's edge, in front of fastify: every request except the health probes is authenticated before it is
 * routed and before a byte of its body is read; a client without valid credentials gets 401 (and its
 * connection or stream ends if it was sending a body), and nothing about it reaches the router or the request
 * log. Methods that mean nothing on the Kubernetes wire (HTTP/2 allows any token, `get` included) get a 405
 * Status here rather than reaching the router.
 */
export function createEdge(o: EdgeOptions): (next: RequestListener) => RequestListener {
  const badMethod = (method: string) =>
    toStatus(
      new KubeError(
        405,
        'MethodNotAllowed',
        `the method ${JSON.stringify(method.slice(0, 32))} is not supported (methods are upper case: ${[...METHODS].join(', ')})`,
      ),
    );
  return (next) => (req, res) => {
    const method = req.method ?? '';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if (o.isOpen(q < 0 ? url : url.slice(0, q))) {
      if (!METHODS.has(method)) refuse(req, res, badMethod(method));
      else next(req, res);
      return;
    }
    const authn: AuthenticationRequest = {
      headers: req.headers,
      raw: req,
      peerCertificate: () => peerCertificateOf(req),
    };
    o.authenticate(authn).then(
      (user) => {
        users.set(req, user);
        if (!METHODS.has(method)) refuse(req, res, badMethod(method));
        else next(req, res);
      },
      (err: unknown) => {
        if (!res.headersSent) refuse(req, res, toStatus(err));
      },
    );
  };
}
