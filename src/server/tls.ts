import { generate } from 'selfsigned';

export interface CertPair {
  cert: string;
  key: string;
}

export interface DevCertificates {
  ca: CertPair;
  server: CertPair;
}

/**
 * A throwaway CA and a serving certificate it signs, for `kubegate dev` and tests: the kubeconfig embeds the
 * CA, so kubectl verifies the server like any cluster instead of skipping TLS verification.
 *
 * @example
 * const { ca, server } = await createDevCertificates(['localhost'], ['127.0.0.1']);
 */
export async function createDevCertificates(dnsNames: string[], ips: string[]): Promise<DevCertificates> {
  const now = Date.now();
  const notBeforeDate = new Date(now - 60_000);
  const caResult = await generate([{ name: 'commonName', value: 'kubegate-dev-ca' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(now + 365 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const ca = { cert: caResult.cert, key: caResult.private };
  const server = await createSignedCertificate(ca, dnsNames[0] ?? 'kubegate', { dnsNames, ips, serverAuth: true });
  return { ca, server };
}

export interface SignOptions {
  dnsNames?: string[];
  ips?: string[];
  serverAuth?: boolean;
  clientAuth?: boolean;
  /** Organization entries (Kubernetes reads them as groups for client certs). */
  organizations?: string[];
  notBeforeDate?: Date;
  notAfterDate?: Date;
}

/** A certificate signed by `ca` (serving or client, per the options). */
export async function createSignedCertificate(ca: CertPair, cn: string, o: SignOptions): Promise<CertPair> {
  const now = Date.now();
  const altNames = [
    ...(o.dnsNames ?? []).map((value) => ({ type: 2 as const, value })),
    ...(o.ips ?? []).map((ip) => ({ type: 7 as const, ip })),
  ];
  const r = await generate(
    [
      { name: 'commonName', value: cn },
      ...(o.organizations ?? []).map((value) => ({ name: 'organizationName', value })),
    ],
    {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: o.notBeforeDate ?? new Date(now - 60_000),
      notAfterDate: o.notAfterDate ?? new Date(now + 365 * 86_400_000),
      ca: { key: ca.key, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: o.serverAuth ?? false, clientAuth: o.clientAuth ?? false },
        ...(altNames.length > 0 ? [{ name: 'subjectAltName' as const, altNames }] : []),
      ],
    },
  );
  return { cert: r.cert, key: r.private };
}
