import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';
import { generate } from 'selfsigned';
import {
  createDevCertificates,
  createSignedCertificate,
  type CertPair,
  type SignOptions,
} from '../../src/server/tls.ts';

/**
 * Test certificates. Leaf certificates come from src/server/tls.ts (`createSignedCertificate`,
 * `createDevCertificates`); CAs with their own names and intermediates, which it does not make, from selfsigned.
 */

const DAY = 86_400_000;

/** A self-signed CA named `cn`. */
export async function createCA(cn: string, o: { notBeforeDate?: Date; notAfterDate?: Date } = {}): Promise<CertPair> {
  const now = Date.now();
  const r = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: o.notBeforeDate ?? new Date(now - 60_000),
    notAfterDate: o.notAfterDate ?? new Date(now + 365 * DAY),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: r.cert, key: r.private };
}

/** An intermediate CA signed by `parent`. */
export async function createIntermediateCA(parent: CertPair, cn: string): Promise<CertPair> {
  const now = Date.now();
  const r = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 365 * DAY),
    ca: { key: parent.key, cert: parent.cert },
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: r.cert, key: r.private };
}

/** A client certificate (EKU clientAuth unless told otherwise). */
export function createClientCertificate(
  ca: CertPair,
  cn: string,
  o: Omit<SignOptions, 'dnsNames' | 'ips'> = {},
): Promise<CertPair> {
  return createSignedCertificate(ca, cn, { clientAuth: true, ...o });
}

/** A client certificate with no extended-key-usage extension at all (Go accepts it for any usage). */
export async function createCertificateWithoutEKU(ca: CertPair, cn: string): Promise<CertPair> {
  const now = Date.now();
  const r = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 365 * DAY),
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
    ],
  });
  return { cert: r.cert, key: r.private };
}

/** Every certificate a cluster with an aggregated kubegate has. */
export interface ClusterPki {
  /** Serving CA and certificate of the (fake) kube-apiserver. */
  apiserverCA: CertPair;
  apiserver: CertPair;
  /** `requestheader-client-ca-file` and the aggregator's proxy client certificate (CN front-proxy-client). */
  frontProxyCA: CertPair;
  frontProxyClient: CertPair;
  /** `client-ca-file`. */
  clientCA: CertPair;
  /** kubegate's serving CA (the APIService caBundle) and certificate, SANs localhost, 127.0.0.1 and the service name. */
  kubegateCA: CertPair;
  kubegate: CertPair;
}

export const KUBEGATE_SERVICE_NAME = 'kubegate.kube-system.svc';

export async function createClusterPki(): Promise<ClusterPki> {
  const [apiserverDev, kubegateDev, frontProxyCA, clientCA] = await Promise.all([
    createDevCertificates(['localhost'], ['127.0.0.1']),
    createDevCertificates(['localhost', KUBEGATE_SERVICE_NAME], ['127.0.0.1']),
    createCA('front-proxy-ca'),
    createCA('kubernetes-client-ca'),
  ]);
  const frontProxyClient = await createClientCertificate(frontProxyCA, 'front-proxy-client');
  return {
    apiserverCA: apiserverDev.ca,
    apiserver: apiserverDev.server,
    frontProxyCA,
    frontProxyClient,
    clientCA,
    kubegateCA: kubegateDev.ca,
    kubegate: kubegateDev.server,
  };
}

/** The configmap data the kube-apiserver publishes for this PKI (`--requestheader-*` flags as kubeadm sets them). */
export function authenticationConfigMapData(
  pki: Pick<ClusterPki, 'clientCA' | 'frontProxyCA'>,
  o: { allowedNames?: string[]; requestHeaderCA?: string; clientCA?: string } = {},
): Record<string, string> {
  return {
    'client-ca-file': o.clientCA ?? pki.clientCA.cert,
    'requestheader-client-ca-file': o.requestHeaderCA ?? pki.frontProxyCA.cert,
    'requestheader-allowed-names': JSON.stringify(o.allowedNames ?? ['front-proxy-client']),
    'requestheader-username-headers': '["X-Remote-User"]',
    // Published by kube-apiserver 1.32+ (RemoteRequestHeaderUID).
    'requestheader-uid-headers': '["X-Remote-Uid"]',
    'requestheader-group-headers': '["X-Remote-Group"]',
    'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
  };
}

/**
 * What `getPeerCertificate(true)` would give for a client that sent `pems` (leaf first): `raw` and
 * `issuerCertificate` links, the last one pointing at itself when self-issued. For unit tests without TLS.
 */
export function peerCertificateFromPem(...pems: string[]): DetailedPeerCertificate {
  const certs = pems.map((p) => {
    const x = new X509Certificate(p);
    return {
      raw: x.raw,
      subject: x.toLegacyObject().subject,
      issuer: x.toLegacyObject().issuer,
      serialNumber: x.serialNumber,
    } as unknown as DetailedPeerCertificate;
  });
  certs.forEach((c, i) => {
    (c as { issuerCertificate: DetailedPeerCertificate }).issuerCertificate = certs[i + 1] ?? c;
  });
  const first = certs[0];
  if (!first) throw new Error('peerCertificateFromPem: no certificate');
  return first;
}
