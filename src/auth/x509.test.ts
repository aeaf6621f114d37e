import { createHash, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClientCertificateError, createX509Authenticator, CREDENTIAL_ID_KEY } from './x509.ts';
import { createCA, createClientCertificate, peerCertificateFromPem } from '../../test/harness/pki.ts';
import type { CertPair } from '../server/tls.ts';
import type { AuthenticationRequest } from './types.ts';

let ca: CertPair;
let roots: X509Certificate[];
const req = (pem?: string): AuthenticationRequest => ({
  headers: {},
  ...(pem ? { peerCertificate: () => peerCertificateFromPem(pem) } : {}),
});

beforeAll(async () => {
  ca = await createCA('kubernetes-client-ca');
  roots = [new X509Certificate(ca.cert)];
});

describe('createX509Authenticator', () => {
  it('maps CN to the user and O to groups, with the credential id the kube-apiserver records', async () => {
    const c = await createClientCertificate(ca, 'jane', { organizations: ['system:masters', 'ops'] });
    const u = await createX509Authenticator(() => roots).authenticate(req(c.cert));
    const fp = createHash('sha256').update(new X509Certificate(c.cert).raw).digest('hex');
    expect(u).toEqual({
      name: 'jane',
      groups: ['system:masters', 'ops'],
      extra: { [CREDENTIAL_ID_KEY]: [`X509SHA256=${fp}`] },
    });
  });

  it('is null without a certificate or without a client CA', async () => {
    const c = await createClientCertificate(ca, 'jane');
    expect(await createX509Authenticator(() => roots).authenticate(req())).toBeNull();
    expect(await createX509Authenticator(() => undefined).authenticate(req(c.cert))).toBeNull();
  });

  it('throws for a certificate that does not verify (the gate answers 401)', async () => {
    const stranger = await createClientCertificate(await createCA('elsewhere'), 'jane');
    await expect(createX509Authenticator(() => roots).authenticate(req(stranger.cert))).rejects.toThrow(
      ClientCertificateError,
    );
    await expect(createX509Authenticator(() => roots).authenticate(req(stranger.cert))).rejects.toThrow(
      /signed by unknown authority/,
    );
    const expired = await createClientCertificate(ca, 'jane', {
      notBeforeDate: new Date(Date.now() - 7200_000),
      notAfterDate: new Date(Date.now() - 3600_000),
    });
    await expect(createX509Authenticator(() => roots).authenticate(req(expired.cert))).rejects.toThrow(/expired/);
  });

  it('uses the clock it is given', async () => {
    const c = await createClientCertificate(ca, 'jane');
    const later = Date.now() + 2 * 365 * 86_400_000;
    await expect(createX509Authenticator(() => roots, { now: () => later }).authenticate(req(c.cert))).rejects.toThrow(
      /expired/,
    );
  });
});
