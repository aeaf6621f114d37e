import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';

/** The parts of a Node request (HTTP/1.1 IncomingMessage or HTTP/2 compat Http2ServerRequest) read here. */
export interface RawRequestLike {
  socket?: unknown;
  stream?: { session?: { socket?: unknown } | undefined } | undefined;
}

function isTlsSocket(s: unknown): s is Pick<TLSSocket, 'getPeerCertificate'> {
  return typeof s === 'object' && s !== null && typeof (s as TLSSocket).getPeerCertificate === 'function';
}

/** The client certificate per TLS socket (null: none sent); dropped with the socket. */
const bySocket = new WeakMap<object, DetailedPeerCertificate | null>();

/**
 * The client certificate of the TLS connection a request arrived on, with the chain the client sent
 * (`issuerCertificate` links), or undefined when the client sent none or the request is not over TLS (fastify
 * `inject()`). Works for HTTP/1.1 (`req.socket`) and HTTP/2 compat requests (`req.stream.session.socket`: the
 * compat `req.socket` is a proxy that forwards most calls, but the session socket is the real TLS socket).
 *
 * The server must ask for the certificate (`requestCert: true`) and must not let OpenSSL reject unknown issuers
 * (`rejectUnauthorized: false`): which CA a certificate must chain to depends on what it is used for (front
 * proxy or client certificate), so kubegate verifies it itself.
 *
 * @example
 * const cert = peerCertificateOf(fastifyRequest.raw);
 * if (cert) console.log(cert.subject.CN);
 */
export function peerCertificateOf(raw: RawRequestLike): DetailedPeerCertificate | undefined {
  const sessionSocket = raw.stream?.session?.socket;
  const socket = isTlsSocket(sessionSocket) ? sessionSocket : raw.socket;
  if (!isTlsSocket(socket)) return undefined;
  // One connection carries many requests (keep-alive, HTTP/2 streams); its certificate is read once.
  const known = bySocket.get(socket);
  if (known !== undefined) return known ?? undefined;
  const cert = socket.getPeerCertificate(true) as DetailedPeerCertificate | null;
  // Node answers {} (not null) when the client sent no certificate.
  const found = cert && Buffer.isBuffer(cert.raw) ? cert : undefined;
  bySocket.set(socket, found ?? null);
  return found;
}

/**
 * The certificates the client sent, leaf first, as X509Certificate (intermediates to try when building a
 * chain; never trusted by themselves). Stops at the self-issued end of the `issuerCertificate` links.
 */
export function peerChain(cert: DetailedPeerCertificate, max = 10): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<DetailedPeerCertificate>();
  let c: DetailedPeerCertificate | undefined = cert;
  while (c && !seen.has(c) && out.length < max && Buffer.isBuffer(c.raw)) {
    seen.add(c);
    out.push(new X509Certificate(c.raw));
    c = issuerOf(c);
  }
  return out;
}

/** The next certificate of the chain the client sent. Node leaves it out (the types say otherwise) when the chain ends below a root. */
export function issuerOf(c: DetailedPeerCertificate): DetailedPeerCertificate | undefined {
  return c.issuerCertificate;
}
