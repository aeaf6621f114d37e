import { createChainVerifier, peerSubjectOf, type ChainVerifier } from './certs.ts';
import type { AuthenticationRequest, Authenticator, UserInfo } from './types.ts';
import type { X509Certificate } from 'node:crypto';

/** Which headers carry the front proxy's user (the configmap's `requestheader-*-headers`). */
export interface RequestHeaderNames {
  usernameHeaders: string[];
  uidHeaders: string[];
  groupHeaders: string[];
  extraHeaderPrefixes: string[];
}

/** Front-proxy trust: the CA the proxy's client certificate must chain to, and the CNs allowed to use it. */
export interface RequestHeaderConfig extends RequestHeaderNames {
  caCertificates: X509Certificate[];
  /** Empty: any CN signed by the CA is a front proxy. */
  allowedNames: string[];
}

/**
 * The header names the kube-apiserver always removes after authentication, whatever is configured
 * (k8s.io/apiserver endpoints/filters/authentication.go), so they never reach a handler or an upstream.
 */
export const STANDARD_REQUEST_HEADERS: RequestHeaderNames = {
  usernameHeaders: ['X-Remote-User'],
  uidHeaders: ['X-Remote-Uid'],
  groupHeaders: ['X-Remote-Group'],
  extraHeaderPrefixes: ['X-Remote-Extra-'],
};

type Headers = AuthenticationRequest['headers'];

/**
 * Deletes the front-proxy headers (`names`, extra prefixes matched case-insensitively) from `headers`, in place.
 * The request-header authenticator calls it on every request it sees, trusted or not, with the configured and
 * the standard names, so forged `X-Remote-*` headers are never read further on.
 *
 * @example
 * stripRequestHeaders(req.headers, STANDARD_REQUEST_HEADERS);
 */
export function stripRequestHeaders(headers: Headers, names: RequestHeaderNames): void {
  const exact = new Set(
    [...names.usernameHeaders, ...names.uidHeaders, ...names.groupHeaders].map((h) => h.toLowerCase()),
  );
  const prefixes = names.extraHeaderPrefixes.map((p) => p.toLowerCase());
  for (const key of Object.keys(headers)) {
    const k = key.toLowerCase();
    if (exact.has(k) || prefixes.some((p) => k.startsWith(p))) Reflect.deleteProperty(headers, key);
  }
}

/** Every value of every header whose (lower-cased) name satisfies `match`, in arrival order, by header name. */
function headerEntries(req: AuthenticationRequest, match: (lowerName: string) => boolean): [string, string][] {
  const out: [string, string][] = [];
  const raw = req.raw?.rawHeaders;
  if (Array.isArray(raw)) {
    // rawHeaders keeps repeated headers apart; `headers` joins them with ", ", which would merge two groups.
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = String(raw[i]);
      if (match(name.toLowerCase())) out.push([name, String(raw[i + 1])]);
    }
    return out;
  }
  for (const [name, v] of Object.entries(req.headers)) {
    if (v === undefined || !match(name.toLowerCase())) continue;
    for (const value of Array.isArray(v) ? v : [v]) out.push([name, value]);
  }
  return out;
}

/** Go's url.PathUnescape, keeping the key as sent when it is malformed (as the kube-apiserver does). */
function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/**
 * Reads the user the front proxy asserts, exactly like the kube-apiserver's request-header authenticator:
 * the first non-empty value of the first username header that has one; the same for the uid; every
 * non-empty value of the group headers, repeated headers kept apart and never split at commas; every
 * `<prefix><key>` header as extra `key` (lower-cased, then %-unescaped) with all its values.
 * Returns null when no username header is set. Does not check who sent the headers.
 */
export function readRequestHeaderUser(req: AuthenticationRequest, names: RequestHeaderNames): UserInfo | null {
  const first = (headerNames: string[]): string => {
    for (const h of headerNames) {
      const lower = h.toLowerCase();
      const v = headerEntries(req, (n) => n === lower)[0]?.[1];
      if (v) return v;
    }
    return '';
  };
  const name = first(names.usernameHeaders);
  if (!name) return null;
  const uid = first(names.uidHeaders);
  const groups: string[] = [];
  for (const h of names.groupHeaders) {
    const lower = h.toLowerCase();
    for (const [, v] of headerEntries(req, (n) => n === lower)) if (v.length > 0) groups.push(v);
  }
  // No prototype: an extra key may be any header suffix, `__proto__` included.
  const extra = Object.create(null) as Record<string, string[]>;
  for (const prefix of names.extraHeaderPrefixes) {
    const p = prefix.toLowerCase();
    for (const [header, v] of headerEntries(req, (n) => n.startsWith(p))) {
      const key = unescapeExtraKey(header.slice(p.length).toLowerCase());
      (extra[key] ??= []).push(v);
    }
  }
  const user: UserInfo = { name, groups };
  if (uid) user.uid = uid;
  if (Object.keys(extra).length > 0) user.extra = extra;
  return user;
}

export interface RequestHeaderAuthenticatorOptions {
  /** Clock for certificate validity (tests). */
  now?: () => number;
  /** Told why a request's front-proxy headers were not trusted (for a debug log; never carries secrets). */
  onUntrusted?: (reason: string) => void;
  /** Remembers verified certificates (default: a new one per authenticator). */
  verifier?: ChainVerifier;
}

/**
 * Front-proxy authentication (docs/kubernetes-wire.md, "Authentication"): trusts the `X-Remote-*` headers (names from the configmap) only
 * when the TLS client certificate chains to the request-header CA, allows clientAuth, and its CN is in the
 * allowed names (empty list: any). Otherwise the headers are ignored — the request may still authenticate by
 * client certificate or token — and, in every case, removed from the request.
 *
 * `config()` is read on every request, so a CA rotated in the configmap applies at once; undefined disables
 * front-proxy authentication.
 *
 * @example
 * const authn = createRequestHeaderAuthenticator(() => delegation.current().requestHeader);
 */
export function createRequestHeaderAuthenticator(
  config: () => RequestHeaderConfig | undefined,
  o: RequestHeaderAuthenticatorOptions = {},
): Authenticator {
  const now = o.now ?? Date.now;
  const verifier = o.verifier ?? createChainVerifier();
  const untrusted = (reason: string): null => {
    o.onUntrusted?.(reason);
    return null;
  };
  const trust = (req: AuthenticationRequest, cfg: RequestHeaderConfig): string | undefined => {
    const cert = req.peerCertificate?.();
    if (!cert) return 'no client certificate';
    const r = verifier.verify(cert, cfg.caCertificates, now());
    if (!r.ok) return r.reason;
    const cn = peerSubjectOf(cert).commonName;
    if (cfg.allowedNames.length > 0 && !cfg.allowedNames.includes(cn))
      return `x509: subject with cn=${cn} is not in the allowed list`;
    return undefined;
  };
  return {
    authenticate(req) {
      const cfg = config();
      try {
        if (!cfg) return Promise.resolve(null);
        // Headers first: a request that asserts no user costs no certificate verification.
        const asserted = readRequestHeaderUser(req, cfg);
        if (!asserted) return Promise.resolve(null);
        const why = trust(req, cfg);
        return Promise.resolve(why === undefined ? asserted : untrusted(why));
      } finally {
        stripRequestHeaders(req.headers, STANDARD_REQUEST_HEADERS);
        if (cfg) stripRequestHeaders(req.headers, cfg);
      }
    },
  };
}
