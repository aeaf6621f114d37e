import { createHash, X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';
import { issuerOf, peerChain } from './peer.ts';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';
/** Go's x509 gives up past this many intermediates; so do we (and it bounds the search). */
const MAX_DEPTH = 8;

/**
 * Parses a PEM bundle (one or more CERTIFICATE blocks; other blocks and text around them are ignored, as Go's
 * `AppendCertsFromPEM` does). Throws an error naming `field` when the bundle holds no usable certificate.
 *
 * @example
 * const roots = parseCertificateBundle(configMap.data['client-ca-file'], 'client-ca-file');
 */
export function parseCertificateBundle(pem: string, field: string): X509Certificate[] {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  const out: X509Certificate[] = [];
  for (const [i, b] of blocks.entries()) {
    try {
      out.push(new X509Certificate(b));
    } catch (err) {
      throw new Error(`${field}: certificate ${i + 1} is not a valid X.509 certificate: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  if (out.length === 0) throw new Error(`${field}: no PEM certificate found`);
  return out;
}

export type ChainResult = { ok: true; chain: X509Certificate[] } | { ok: false; reason: string };

function validityError(c: X509Certificate, now: number): string | undefined {
  const from = c.validFromDate.getTime();
  const to = c.validToDate.getTime();
  if (now < from)
    return `x509: certificate has expired or is not yet valid: current time ${new Date(now).toISOString()} is before ${c.validFromDate.toISOString()}`;
  if (now > to)
    return `x509: certificate has expired or is not yet valid: current time ${new Date(now).toISOString()} is after ${c.validToDate.toISOString()}`;
  return undefined;
}

/** Go accepts a certificate without an EKU extension (or with anyExtendedKeyUsage) for every usage. */
function allowsClientAuth(c: X509Certificate): boolean {
  const eku = c.keyUsage as string[] | undefined;
  return eku === undefined || eku.includes(EKU_CLIENT_AUTH) || eku.includes(EKU_ANY);
}

function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  if (!parent.ca || !child.checkIssued(parent)) return false;
  try {
    return child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/**
 * Verifies a TLS client certificate the way Go's `x509.Certificate.Verify` does with
 * `KeyUsages: [ClientAuth]` (what the kube-apiserver's x509 and request-header authenticators use): a chain
 * from the leaf through the certificates the client sent (never trusted by themselves) to one of `roots`,
 * each link an issuer-name match and a valid signature by a CA certificate, every certificate within its
 * validity window, and every certificate that has an extended-key-usage extension allowing clientAuth.
 * `presented[0]` is the leaf. Several roots (a CA bundle during rotation) are all tried.
 *
 * @example
 * const r = verifyClientChain(peerChain(cert), roots);
 * if (!r.ok) throw new Error(r.reason);
 */
export function verifyClientChain(
  presented: X509Certificate[],
  roots: X509Certificate[],
  now = Date.now(),
): ChainResult {
  const leaf = presented[0];
  if (!leaf) return { ok: false, reason: 'x509: no client certificate' };
  // Like Go, a leaf outside its validity window fails before any chain is looked for.
  const leafExpired = validityError(leaf, now);
  if (leafExpired) return { ok: false, reason: leafExpired };
  const intermediates = presented.slice(1);
  let reason = 'x509: certificate signed by unknown authority';

  const search = (path: X509Certificate[]): X509Certificate[] | undefined => {
    const cert = path[path.length - 1] as X509Certificate;
    for (const root of roots) {
      if (cert.raw.equals(root.raw) || signedBy(cert, root)) {
        const chain = cert.raw.equals(root.raw) ? path : [...path, root];
        const expired = chain.map((c) => validityError(c, now)).find((e) => e !== undefined);
        if (expired) {
          reason = expired;
          continue;
        }
        if (!chain.every(allowsClientAuth)) {
          reason = 'x509: certificate specifies an incompatible key usage';
          continue;
        }
        return chain;
      }
    }
    if (path.length > MAX_DEPTH) return undefined;
    for (const inter of intermediates) {
      if (path.some((p) => p.raw.equals(inter.raw)) || !signedBy(cert, inter)) continue;
      const found = search([...path, inter]);
      if (found) return found;
    }
    return undefined;
  };

  const chain = search([leaf]);
  return chain ? { ok: true, chain } : { ok: false, reason };
}

/** The subject's CN and O entries (multi-valued attributes come back as arrays from Node). */
export function subjectOf(c: X509Certificate): { commonName: string; organizations: string[] } {
  const subject = c.toLegacyObject().subject as unknown as Record<string, string | string[] | undefined>;
  const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return { commonName: list(subject.CN)[0] ?? '', organizations: list(subject.O) };
}

/** The CN and O entries of a peer certificate as Node parsed them during the handshake (no re-parsing). */
export function peerSubjectOf(cert: DetailedPeerCertificate): { commonName: string; organizations: string[] } {
  const subject = (cert.subject as unknown as Record<string, string | string[] | undefined> | undefined) ?? {};
  const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return { commonName: list(subject.CN)[0] ?? '', organizations: list(subject.O) };
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

export interface ChainVerifier {
  verify(cert: DetailedPeerCertificate, roots: X509Certificate[], now: number): VerifyResult;
}

interface VerifiedEntry {
  result: VerifyResult;
  /** The window in which every certificate of the chain is valid (ok results only). */
  from: number;
  to: number;
  at: number;
}

/**
 * {@link verifyClientChain} with a memory: a front proxy presents the same certificate on every request, and
 * a signature check costs more than serving a cached GET. Results are kept per CA bundle (a rotated bundle is a
 * new array, so nothing verified against the old one is reused) and per certificate chain sent, for `ttlMs`;
 * a cached success still checks the chain's validity window against `now`, and failures that depend on time
 * are not cached.
 *
 * @example
 * const verifier = createChainVerifier();
 * const r = verifier.verify(req.peerCertificate(), roots, Date.now());
 */
export function createChainVerifier(o: { ttlMs?: number; maxEntries?: number } = {}): ChainVerifier {
  const ttl = o.ttlMs ?? 60_000;
  const max = o.maxEntries ?? 1000;
  const byRoots = new WeakMap<X509Certificate[], Map<string, VerifiedEntry>>();
  const keyOf = (cert: DetailedPeerCertificate): string => {
    const parts: string[] = [];
    const seen = new Set<DetailedPeerCertificate>();
    let c: DetailedPeerCertificate | undefined = cert;
    while (c && !seen.has(c) && parts.length < 10) {
      seen.add(c);
      // Node computes fingerprint256 during the handshake; certificates made in tests may lack it.
      parts.push(c.fingerprint256 || createHash('sha256').update(c.raw).digest('base64'));
      c = issuerOf(c);
    }
    return parts.join('/');
  };
  return {
    verify(cert, roots, now) {
      let entries = byRoots.get(roots);
      if (!entries) byRoots.set(roots, (entries = new Map<string, VerifiedEntry>()));
      const key = keyOf(cert);
      const hit = entries.get(key);
      if (hit && now - hit.at < ttl && (!hit.result.ok || (now >= hit.from && now <= hit.to))) return hit.result;
      const r = verifyClientChain(peerChain(cert), roots, now);
      const timeBound = !r.ok && r.reason.includes('expired or is not yet valid');
      if (!timeBound) {
        const chain = r.ok ? r.chain : [];
        const from = Math.max(...chain.map((c) => c.validFromDate.getTime()));
        const to = Math.min(...chain.map((c) => c.validToDate.getTime()));
        entries.delete(key);
        entries.set(key, { result: r.ok ? { ok: true } : { ok: false, reason: r.reason }, from, to, at: now });
        if (entries.size > max) entries.delete(entries.keys().next().value as string);
      }
      return r.ok ? { ok: true } : { ok: false, reason: r.reason };
    },
  };
}
