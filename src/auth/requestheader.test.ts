import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createRequestHeaderAuthenticator,
  readRequestHeaderUser,
  STANDARD_REQUEST_HEADERS,
  stripRequestHeaders,
  type RequestHeaderConfig,
} from './requestheader.ts';
import type { AuthenticationRequest } from './types.ts';
import {
  createCA,
  createClientCertificate,
  createIntermediateCA,
  peerCertificateFromPem,
} from '../../test/harness/pki.ts';
import { createSignedCertificate, type CertPair } from '../server/tls.ts';

const HOUR = 3_600_000;

/** A request as fastify hands it over: `headers` (repeats joined) and `raw.rawHeaders` (as received). */
function request(raw: [string, string][], cert?: DetailedPeerCertificate): AuthenticationRequest {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of raw) {
    const l = k.toLowerCase();
    const prev = headers[l];
    headers[l] = prev === undefined ? v : `${String(prev)}, ${v}`;
  }
  return { headers, raw: { rawHeaders: raw.flat() }, ...(cert ? { peerCertificate: () => cert } : {}) };
}

let ca: CertPair;
let proxy: CertPair;
let cfg: RequestHeaderConfig;

beforeAll(async () => {
  ca = await createCA('front-proxy-ca');
  proxy = await createClientCertificate(ca, 'front-proxy-client');
  cfg = {
    caCertificates: [new X509Certificate(ca.cert)],
    allowedNames: ['front-proxy-client'],
    ...STANDARD_REQUEST_HEADERS,
  };
});

describe('readRequestHeaderUser', () => {
  it('reads user, uid, repeated groups (never split at commas) and extras', () => {
    const u = readRequestHeaderUser(
      request([
        ['X-Remote-User', 'alice'],
        ['X-Remote-Uid', 'u-1'],
        ['X-Remote-Group', 'devs'],
        ['X-Remote-Group', 'a,b'],
        ['X-Remote-Group', ''],
        ['X-Remote-Extra-Scopes', 'read'],
        ['X-Remote-Extra-Scopes', 'write'],
        ['X-Remote-Extra-Acme.com%2fProject', 'p1'],
      ]),
      STANDARD_REQUEST_HEADERS,
    );
    expect(u).toEqual({
      name: 'alice',
      uid: 'u-1',
      groups: ['devs', 'a,b'],
      extra: { scopes: ['read', 'write'], 'acme.com/project': ['p1'] },
    });
  });

  it('matches header names case-insensitively, configured names included', () => {
    const names = {
      usernameHeaders: ['X-Proxy-User'],
      uidHeaders: [],
      groupHeaders: ['X-Proxy-Groups'],
      extraHeaderPrefixes: ['X-Proxy-Extra-'],
    };
    const u = readRequestHeaderUser(
      request([
        ['x-proxy-USER', 'bob'],
        ['X-PROXY-groups', 'g1'],
        ['x-Proxy-Groups', 'g2'],
        ['X-PROXY-EXTRA-Team', 'blue'],
        ['X-Remote-User', 'ignored'],
      ]),
      names,
    );
    expect(u).toEqual({ name: 'bob', groups: ['g1', 'g2'], extra: { team: ['blue'] } });
  });

  it('takes the first non-empty username header, in configured order', () => {
    const names = { ...STANDARD_REQUEST_HEADERS, usernameHeaders: ['X-First', 'X-Second'] };
    expect(
      readRequestHeaderUser(
        request([
          ['X-Second', 'two'],
          ['X-First', ''],
        ]),
        names,
      )?.name,
    ).toBe('two');
    expect(
      readRequestHeaderUser(
        request([
          ['X-Second', 'two'],
          ['X-First', 'one'],
          ['X-First', 'uno'],
        ]),
        names,
      )?.name,
    ).toBe('one');
  });

  it('keeps a malformed %-escape in an extra key as sent', () => {
    const u = readRequestHeaderUser(
      request([
        ['X-Remote-User', 'a'],
        ['X-Remote-Extra-100%zz', 'v'],
      ]),
      STANDARD_REQUEST_HEADERS,
    );
    expect(u?.extra).toEqual({ '100%zz': ['v'] });
  });

  it('returns null without a username', () => {
    expect(readRequestHeaderUser(request([['X-Remote-Group', 'g']]), STANDARD_REQUEST_HEADERS)).toBeNull();
  });

  it('falls back to the headers object without rawHeaders (one value per header line)', () => {
    const u = readRequestHeaderUser(
      { headers: { 'x-remote-user': 'c', 'x-remote-group': ['g1', 'g2'] } },
      STANDARD_REQUEST_HEADERS,
    );
    expect(u).toEqual({ name: 'c', groups: ['g1', 'g2'] });
  });
});

describe('stripRequestHeaders', () => {
  it('removes the named headers and every extra header, whatever their case', () => {
    const h: Record<string, string | undefined> = {
      'x-remote-user': 'a',
      'x-remote-group': 'b',
      'x-remote-extra-foo': 'c',
      'X-Remote-Extra-Bar': 'd',
      accept: 'application/json',
    };
    stripRequestHeaders(h, STANDARD_REQUEST_HEADERS);
    expect(h).toEqual({ accept: 'application/json' });
  });
});

describe('createRequestHeaderAuthenticator', () => {
  const asserting = (cert?: DetailedPeerCertificate) =>
    request(
      [
        ['X-Remote-User', 'alice'],
        ['X-Remote-Group', 'devs'],
        ['X-Remote-Extra-Foo', 'bar'],
        ['Accept', '*/*'],
      ],
      cert,
    );

  it('trusts the headers of a front proxy whose certificate chains to the CA, is clientAuth and allowed', async () => {
    const req = asserting(peerCertificateFromPem(proxy.cert));
    const a = createRequestHeaderAuthenticator(() => cfg);
    expect(await a.authenticate(req)).toEqual({ name: 'alice', groups: ['devs'], extra: { foo: ['bar'] } });
    expect(req.headers).toEqual({ accept: '*/*' });
  });

  it('accepts any CN signed by the CA when the allowed list is empty', async () => {
    const anyone = await createClientCertificate(ca, 'someone-else');
    const a = createRequestHeaderAuthenticator(() => ({ ...cfg, allowedNames: [] }));
    expect((await a.authenticate(asserting(peerCertificateFromPem(anyone.cert))))?.name).toBe('alice');
  });

  it('follows a chain through an intermediate the proxy sent', async () => {
    const inter = await createIntermediateCA(ca, 'front-proxy-intermediate');
    const leaf = await createClientCertificate(inter, 'front-proxy-client');
    const a = createRequestHeaderAuthenticator(() => cfg);
    expect((await a.authenticate(asserting(peerCertificateFromPem(leaf.cert, inter.cert))))?.name).toBe('alice');
  });

  it.each([
    ['no client certificate', () => Promise.resolve(undefined), 'no client certificate'],
    [
      'a certificate from another CA',
      async () => createClientCertificate(await createCA('front-proxy-ca'), 'front-proxy-client'),
      'unknown authority',
    ],
    [
      'an expired certificate',
      async () =>
        createClientCertificate(ca, 'front-proxy-client', {
          notBeforeDate: new Date(Date.now() - 48 * HOUR),
          notAfterDate: new Date(Date.now() - HOUR),
        }),
      'expired',
    ],
    [
      'a CN not in the allowed names',
      async () => createClientCertificate(ca, 'mallory'),
      'cn=mallory is not in the allowed list',
    ],
    [
      'a certificate without clientAuth',
      async () => createSignedCertificate(ca, 'front-proxy-client', { serverAuth: true }),
      'incompatible key usage',
    ],
  ])('ignores (and strips) the headers with %s', async (_name, make, reason) => {
    const pair = await make();
    const reasons: string[] = [];
    const req = asserting(pair ? peerCertificateFromPem(pair.cert) : undefined);
    const a = createRequestHeaderAuthenticator(() => cfg, { onUntrusted: (r) => reasons.push(r) });
    expect(await a.authenticate(req)).toBeNull();
    expect(reasons.join()).toContain(reason);
    expect(req.headers).toEqual({ accept: '*/*' });
  });

  it('reads the configuration per request, so a rotated CA applies at once', async () => {
    const newCA = await createCA('front-proxy-ca-2');
    const newProxy = await createClientCertificate(newCA, 'front-proxy-client');
    let current = cfg;
    const a = createRequestHeaderAuthenticator(() => current);
    expect(await a.authenticate(asserting(peerCertificateFromPem(newProxy.cert)))).toBeNull();
    current = { ...cfg, caCertificates: [new X509Certificate(newCA.cert)] };
    expect((await a.authenticate(asserting(peerCertificateFromPem(newProxy.cert))))?.name).toBe('alice');
    expect(await a.authenticate(asserting(peerCertificateFromPem(proxy.cert)))).toBeNull();
  });

  it('strips the standard headers even when front-proxy authentication is off', async () => {
    const req = asserting();
    expect(await createRequestHeaderAuthenticator(() => undefined).authenticate(req)).toBeNull();
    expect(req.headers).toEqual({ accept: '*/*' });
  });

  it('never throws on arbitrary header names and values', async () => {
    const a = createRequestHeaderAuthenticator(() => cfg);
    const cert = peerCertificateFromPem(proxy.cert);
    const name = fc.oneof(
      fc.constantFrom('X-Remote-User', 'x-remote-group', 'X-REMOTE-EXTRA-', 'X-Remote-Uid'),
      fc.string({ maxLength: 12 }).map((s) => `X-Remote-Extra-${s}`),
      fc.string({ maxLength: 20 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(name, fc.string({ unit: 'binary', maxLength: 40 })), { maxLength: 12 }),
        fc.boolean(),
        async (hs, withCert) => {
          const req = request(hs, withCert ? cert : undefined);
          const u = await a.authenticate(req);
          if (u) {
            expect(typeof u.name).toBe('string');
            expect(u.groups.every((g) => g.length > 0)).toBe(true);
          }
          expect(Object.keys(req.headers).some((k) => k.startsWith('x-remote-'))).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
