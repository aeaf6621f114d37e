import { createHash, type X509Certificate } from 'node:crypto';
import { createChainVerifier, peerSubjectOf, type ChainVerifier } from './certs.ts';
import type { Authenticator, UserInfo } from './types.ts';
import { KubegateError } from '../errors.ts';

/** The extra key the kube-apiserver records a client certificate's fingerprint under. */
export const CREDENTIAL_ID_KEY = 'authentication.kubernetes.io/credential-id';

/** A certificate verification failure; the gate answers it with 401. */
export class ClientCertificateError extends KubegateError {
  override name = 'ClientCertificateError';
  override readonly code: string = 'KUBEGATE_CLIENT_CERTIFICATE';
}

export interface X509AuthenticatorOptions {
  /** Clock for certificate validity (tests). */
  now?: () => number;
  /** Remembers verified certificates (default: a new one per authenticator). */
  verifier?: ChainVerifier;
}

/**
 * Client-certificate authentication against the configmap's `client-ca-file` (docs/kubernetes-wire.md, "Authentication"): the certificate's
 * CN is the user, its O entries are the groups, as in the kube-apiserver (x509.CommonNameUserConversion).
 * No certificate, or no client CA configured → null. A certificate that does not verify → throws
 * (`x509: certificate signed by unknown authority`, expired, wrong key usage), which the gate turns into 401.
 * A verified certificate with an empty CN → null (the kube-apiserver does not authenticate it either).
 *
 * `roots()` is read on every request, so a rotated CA applies at once.
 *
 * @example
 * const authn = createX509Authenticator(() => delegation.current().clientCA);
 */
export function createX509Authenticator(
  roots: () => X509Certificate[] | undefined,
  o: X509AuthenticatorOptions = {},
): Authenticator {
  const now = o.now ?? Date.now;
  const verifier = o.verifier ?? createChainVerifier();
  return {
    authenticate(req) {
      const cas = roots();
      if (!cas || cas.length === 0) return Promise.resolve(null);
      const cert = req.peerCertificate?.();
      if (!cert) return Promise.resolve(null);
      const r = verifier.verify(cert, cas, now());
      if (!r.ok)
        return Promise.reject(
          new ClientCertificateError(`verifying certificate SN=${cert.serialNumber} failed: ${r.reason}`),
        );
      const { commonName, organizations } = peerSubjectOf(cert);
      if (!commonName) return Promise.resolve(null);
      const fingerprint = createHash('sha256').update(cert.raw).digest('hex');
      const user: UserInfo = {
        name: commonName,
        groups: organizations,
        extra: { [CREDENTIAL_ID_KEY]: [`X509SHA256=${fingerprint}`] },
      };
      return Promise.resolve(user);
    },
  };
}
