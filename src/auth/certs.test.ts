import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createChainVerifier, parseCertificateBundle, peerSubjectOf, subjectOf, verifyClientChain } from './certs.ts';
import {
  createCA,
  createCertificateWithoutEKU,
  createClientCertificate,
  createIntermediateCA,
  peerCertificateFromPem,
} from '../../test/harness/pki.ts';
import { createSignedCertificate, type CertPair } from '../server/tls.ts';

const x = (p: CertPair | string): X509Certificate => new X509Certificate(typeof p === 'string' ? p : p.cert);
const HOUR = 3_600_000;

let ca: CertPair;
let other: CertPair;
let inter: CertPair;
let leaf: CertPair;
let viaInter: CertPair;

beforeAll(async () => {
  [ca, other] = await Promise.all([createCA('front-proxy-ca'), createCA('other-ca')]);
  inter = await createIntermediateCA(ca, 'front-proxy-intermediate');
  [leaf, viaInter] = await Promise.all([
    createClientCertificate(ca, 'front-proxy-client', { organizations: ['system:masters', 'devs'] }),
    createClientCertificate(inter, 'via-intermediate'),
  ]);
});

describe('parseCertificateBundle', () => {
  it('reads every certificate of a bundle and ignores text around them', () => {
    const certs = parseCertificateBundle(`# rotated\n${ca.cert}\nsome comment\n${other.cert}`, 'client-ca-file');
    expect(certs.map((c) => subjectOf(c).commonName)).toEqual(['front-proxy-ca', 'other-ca']);
  });

  it('names the field when there is no certificate or a broken one', () => {
    expect(() => parseCertificateBundle('nothing here', 'client-ca-file')).toThrow(
      /^client-ca-file: no PEM certificate found/,
    );
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----';
    expect(() => parseCertificateBundle(`${ca.cert}\n${broken}`, 'requestheader-client-ca-file')).toThrow(
      /^requestheader-client-ca-file: certificate 2 is not a valid X.509 certificate/,
    );
  });
});

describe('verifyClientChain', () => {
  it('accepts a leaf signed directly by a root of the bundle', () => {
    const r = verifyClientChain([x(leaf)], [x(ca)]);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.chain.map((c) => subjectOf(c).commonName)).toEqual(['front-proxy-client', 'front-proxy-ca']);
  });

  it('tries every CA of a bundle (rotation: old and new CA side by side)', () => {
    expect(verifyClientChain([x(leaf)], [x(other), x(ca)]).ok).toBe(true);
  });

  it('rejects a leaf from another CA, even one with the same issuer name', async () => {
    const impostorCA = await createCA('front-proxy-ca');
    const impostor = await createClientCertificate(impostorCA, 'front-proxy-client');
    expect(verifyClientChain([x(impostor)], [x(ca)])).toEqual({
      ok: false,
      reason: 'x509: certificate signed by unknown authority',
    });
    expect(verifyClientChain([x(leaf)], [x(other)]).ok).toBe(false);
  });

  it('builds the chain through intermediates the client sent, never trusting them alone', () => {
    expect(verifyClientChain([x(viaInter), x(inter)], [x(ca)]).ok).toBe(true);
    // Without the intermediate there is no path to the root.
    expect(verifyClientChain([x(viaInter)], [x(ca)]).ok).toBe(false);
    // A client sending the intermediate (or a root) does not make it trusted.
    expect(verifyClientChain([x(viaInter), x(inter), x(ca)], [x(other)]).ok).toBe(false);
  });

  it('rejects a self-signed certificate the client sends as its own root', async () => {
    const self = await createCA('front-proxy-client');
    expect(verifyClientChain([x(self), x(self)], [x(ca)]).ok).toBe(false);
  });

  it('checks validity windows against the given clock', async () => {
    const now = Date.now();
    const expired = await createClientCertificate(ca, 'old', {
      notBeforeDate: new Date(now - 48 * HOUR),
      notAfterDate: new Date(now - HOUR),
    });
    const future = await createClientCertificate(ca, 'new', { notBeforeDate: new Date(now + HOUR) });
    const r1 = verifyClientChain([x(expired)], [x(ca)], now);
    expect(r1.ok).toBe(false);
    if (!r1.ok)
      expect(r1.reason).toMatch(/^x509: certificate has expired or is not yet valid: current time .* is after /);
    const r2 = verifyClientChain([x(future)], [x(ca)], now);
    if (!r2.ok) expect(r2.reason).toMatch(/is before/);
    expect(r2.ok).toBe(false);
    // The same certificate later is fine; the CA itself expiring breaks the chain.
    expect(verifyClientChain([x(future)], [x(ca)], now + 2 * HOUR).ok).toBe(true);
    expect(verifyClientChain([x(leaf)], [x(ca)], now + 400 * 24 * HOUR).ok).toBe(false);
  });

  it('requires clientAuth when the certificate has an extended key usage, as Go does', async () => {
    const serving = await createSignedCertificate(ca, 'a-server', { serverAuth: true });
    expect(verifyClientChain([x(serving)], [x(ca)])).toEqual({
      ok: false,
      reason: 'x509: certificate specifies an incompatible key usage',
    });
    const noEku = await createCertificateWithoutEKU(ca, 'legacy-client');
    expect(verifyClientChain([x(noEku)], [x(ca)]).ok).toBe(true);
  });

  it('reports an empty chain', () => {
    expect(verifyClientChain([], [x(ca)]).ok).toBe(false);
  });
});

describe('subjectOf', () => {
  it('reads CN and every O', () => {
    expect(subjectOf(x(leaf))).toEqual({ commonName: 'front-proxy-client', organizations: ['system:masters', 'devs'] });
    expect(subjectOf(x(viaInter))).toEqual({ commonName: 'via-intermediate', organizations: [] });
  });
});

describe('createChainVerifier', () => {
  it('remembers a verified chain, still checking its validity window', () => {
    const v = createChainVerifier();
    const roots = [x(ca)];
    const now = Date.now();
    const cert = peerCertificateFromPem(leaf.cert);
    expect(v.verify(cert, roots, now)).toEqual({ ok: true });
    expect(v.verify(cert, roots, now + 1000)).toEqual({ ok: true });
    const r = v.verify(cert, roots, now + 400 * 24 * HOUR);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/expired/);
  });

  it('does not reuse results across CA bundles (rotation) or chains', () => {
    const v = createChainVerifier();
    const cert = peerCertificateFromPem(leaf.cert);
    expect(v.verify(cert, [x(other)], Date.now()).ok).toBe(false);
    expect(v.verify(cert, [x(other), x(ca)], Date.now()).ok).toBe(true);
    expect(v.verify(peerCertificateFromPem(viaInter.cert), [x(ca)], Date.now()).ok).toBe(false);
    expect(v.verify(peerCertificateFromPem(viaInter.cert, inter.cert), [x(ca)], Date.now()).ok).toBe(true);
  });

  it('does not cache a failure that time may cure', async () => {
    const v = createChainVerifier();
    const now = Date.now();
    const future = peerCertificateFromPem(
      (await createClientCertificate(ca, 'soon', { notBeforeDate: new Date(now + HOUR) })).cert,
    );
    const roots = [x(ca)];
    expect(v.verify(future, roots, now).ok).toBe(false);
    expect(v.verify(future, roots, now + 2 * HOUR).ok).toBe(true);
  });

  it('forgets after its TTL', () => {
    const v = createChainVerifier({ ttlMs: 10 });
    const roots = [x(ca)];
    const cert = peerCertificateFromPem(leaf.cert);
    const now = Date.now();
    expect(v.verify(cert, roots, now).ok).toBe(true);
    expect(v.verify(cert, roots, now + 20).ok).toBe(true);
  });
});

describe('peerSubjectOf', () => {
  it("reads CN and O from the handshake's parsed subject", () => {
    expect(peerSubjectOf(peerCertificateFromPem(leaf.cert))).toEqual({
      commonName: 'front-proxy-client',
      organizations: ['system:masters', 'devs'],
    });
  });
});
