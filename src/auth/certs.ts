import { X509Certificate } from 'node:crypto';

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
