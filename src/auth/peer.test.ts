import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerCertificateOf, peerChain, type RawRequestLike } from './peer.ts';
import { subjectOf } from './certs.ts';
import { createCA, createClientCertificate, createIntermediateCA } from '../../test/harness/pki.ts';
import { createDevCertificates, type CertPair, type DevCertificates } from '../server/tls.ts';

let dev: DevCertificates;
let clientCA: CertPair;
let inter: CertPair;
let client: CertPair;
let deep: CertPair;
let server: http2.Http2SecureServer;
let url: string;

/** What the server saw: the CN chain of the peer certificate (leaf first), or null. */
function seen(req: RawRequestLike): string[] | null {
  const cert = peerCertificateOf(req);
  return cert ? peerChain(cert).map((c) => subjectOf(c).commonName) : null;
}

beforeAll(async () => {
  dev = await createDevCertificates(['localhost'], ['127.0.0.1']);
  clientCA = await createCA('client-ca');
  inter = await createIntermediateCA(clientCA, 'client-intermediate');
  [client, deep] = await Promise.all([
    createClientCertificate(clientCA, 'alice'),
    createClientCertificate(inter, 'bob'),
  ]);
  // As kubegate serves: HTTP/2 and HTTP/1.1 on one port, certificates requested but verified by kubegate.
  server = http2.createSecureServer(
    { allowHTTP1: true, cert: dev.server.cert, key: dev.server.key, requestCert: true, rejectUnauthorized: false },
    (req, res) => res.end(JSON.stringify({ version: req.httpVersion, chain: seen(req as unknown as RawRequestLike) })),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

function h1(o: { cert?: CertPair; chain?: string }): Promise<{ version: string; chain: string[] | null }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      `${url}/`,
      {
        ca: dev.ca.cert,
        servername: 'localhost',
        agent: false,
        ...(o.cert ? { cert: o.chain ? `${o.cert.cert}\n${o.chain}` : o.cert.cert, key: o.cert.key } : {}),
      },
      (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(JSON.parse(b) as { version: string; chain: string[] | null }));
      },
    );
    req.on('error', reject);
  });
}

function h2(o: { cert?: CertPair }): Promise<{ version: string; chain: string[] | null }> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(url, {
      ca: dev.ca.cert,
      servername: 'localhost',
      ...(o.cert ? { cert: o.cert.cert, key: o.cert.key } : {}),
    });
    s.on('error', reject);
    const q = s.request({ ':path': '/' });
    let b = '';
    q.on('data', (d: Buffer) => (b += d.toString()));
    q.on('end', () => {
      s.close();
      resolve(JSON.parse(b) as { version: string; chain: string[] | null });
    });
    q.on('error', reject);
  });
}

describe('peerCertificateOf', () => {
  it('reads the client certificate of an HTTP/1.1 request', async () => {
    expect(await h1({ cert: client })).toEqual({ version: '1.1', chain: ['alice'] });
  });

  it('reads the client certificate of an HTTP/2 request (session socket)', async () => {
    expect(await h2({ cert: client })).toEqual({ version: '2.0', chain: ['alice'] });
  });

  it('is undefined when the client sends no certificate', async () => {
    expect((await h1({})).chain).toBeNull();
    expect((await h2({})).chain).toBeNull();
  });

  it('keeps the intermediates the client sent, leaf first', async () => {
    expect((await h1({ cert: deep, chain: inter.cert })).chain).toEqual(['bob', 'client-intermediate']);
  });

  it('is undefined without TLS (fastify inject)', () => {
    expect(peerCertificateOf({ socket: {} })).toBeUndefined();
    expect(peerCertificateOf({})).toBeUndefined();
  });
});
