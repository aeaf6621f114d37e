import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http2 from 'node:http2';
import https from 'node:https';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeKubeApi, type FakeKubeApi } from './fake-kube-api.ts';
import { startFrontProxy, type FrontProxy } from './front-proxy.ts';
import { startTestKubegate, TEST_GROUP, TEST_VERSION, type TestKubegate } from './kubegate.ts';
import {
  authenticationConfigMapData,
  createCA,
  createClientCertificate,
  createClusterPki,
  KUBEGATE_SERVICE_NAME,
  type ClusterPki,
} from './pki.ts';
import { directRequest, type Answer, type DirectRequest } from './http.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { createSignedCertificate } from '../../src/server/tls.ts';

/**
 * kubegate behind a stand-in of the kube-apiserver: the fake API answers the authentication configmap,
 * TokenReview and SubjectAccessReview; the front proxy forwards users as the aggregator does. Every request
 * goes through the real server (HTTP/2 and HTTP/1.1 over TLS, client certificates requested).
 */

const GV = `/apis/${TEST_GROUP}/${TEST_VERSION}`;
const HOUR = 3_600_000;
const SAR_TIMEOUT_MS = 400;

let pki: ClusterPki;
let kube: FakeKubeApi;
let gate: TestKubegate;
let proxy: FrontProxy;
let proxy11: FrontProxy;
let dir: string;
const cleanup: (() => Promise<void> | void)[] = [];
/** Added to the wall clock kubegate's caches see (moving time forward without waiting). */
let skew = 0;

const tokens = {
  'alice-token': { username: 'alice', uid: 'alice-uid', groups: ['devs'] },
  'bob-token': { username: 'bob' },
  'carol-token': { username: 'carol', groups: ['devs'] },
  'dave-token': { username: 'dave', groups: ['devs'] },
};

const identityOf = (token: string) => {
  const u = kube.tokens.get(token);
  return u
    ? {
        name: u.username,
        ...(u.uid ? { uid: u.uid } : {}),
        groups: u.groups ?? [],
        ...(u.extra ? { extra: u.extra } : {}),
      }
    : undefined;
};

/** The causes kubegate logged for authorizations it could not decide. */
const authorizationCauses = (): string[] =>
  gate.logs
    .map((l) => JSON.parse(l) as { msg: string; cause?: string })
    .filter((l) => l.msg === 'authorization unavailable')
    .map((l) => l.cause ?? '');

/** Straight to kubegate (as a client that can forge any header). */
const direct = (path: string, o: DirectRequest = {}): Promise<Answer> =>
  directRequest(gate.url, pki.kubegateCA.cert, path, o);

/** Through the front proxy, as a user with a bearer token. */
function viaProxy(p: FrontProxy, path: string, token: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      `${p.url}${path}`,
      { ca: p.ca, agent: false, headers: { authorization: `Bearer ${token}`, ...headers } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
  });
}

const lastSar = () => kube.subjectAccessReviews[kube.subjectAccessReviews.length - 1];
const frontProxyHeaders = (user: string, ...groups: string[]): [string, string][] => [
  ['X-Remote-User', user],
  ...groups.map((g): [string, string] => ['X-Remote-Group', g]),
];

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  await vi.waitFor(() => expect(cond(), 'condition not met in time').toBe(true), { timeout: ms, interval: 10 });
}

beforeAll(async () => {
  pki = await createClusterPki();
  dir = mkdtempSync(join(tmpdir(), 'kubegate-auth-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  kube = await startFakeKubeApi({ configMap: authenticationConfigMapData(pki), tokens });
  cleanup.push(() => kube.close());
  kube.rules.push({
    role: 'forecast-viewer',
    groups: ['devs'],
    verbs: ['get', 'list', 'watch'],
    apiGroups: [TEST_GROUP],
    resources: ['forecasts'],
  });
  gate = await startTestKubegate({
    tls: pki.kubegate,
    kubeconfig: kube.kubeconfig,
    auth: { now: () => Date.now() + skew, authorization: { timeoutMs: SAR_TIMEOUT_MS }, initialBackoffMs: 50 },
  });
  cleanup.push(() => gate.close());
  const common = {
    target: gate.url,
    targetCA: pki.kubegateCA.cert,
    serverName: KUBEGATE_SERVICE_NAME,
    clientCert: pki.frontProxyClient,
    authenticate: identityOf,
  };
  proxy = await startFrontProxy(common);
  cleanup.push(() => proxy.close());
  proxy11 = await startFrontProxy({ ...common, protocol: 'http/1.1' });
  cleanup.push(() => proxy11.close());
});

afterAll(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

beforeEach(() => {
  kube.resetCalls();
  kube.faults.subjectAccessReview = undefined;
  kube.faults.tokenReview = undefined;
});

describe('forged front-proxy headers are not trusted', () => {
  const forged = [...frontProxyHeaders('admin', 'system:masters'), ['Accept', 'application/json']] as [
    string,
    string,
  ][];

  const expect401 = (a: Answer) => {
    expect(a.status).toBe(401);
    expect(JSON.parse(a.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
  };

  it('without a client certificate', async () => {
    expect401(await direct(`${GV}/forecasts`, { headers: forged }));
    expect401(await direct(`${GV}/forecasts`, { headers: forged, protocol: 'h2' }));
    expect(kube.calls.subjectAccessReviews).toBe(0);
  });

  it('with a certificate from another CA (same CN)', async () => {
    const cert = await createClientCertificate(await createCA('front-proxy-ca'), 'front-proxy-client');
    expect401(await direct(`${GV}/forecasts`, { headers: forged, cert }));
    expect401(await direct(`${GV}/forecasts`, { headers: forged, cert, protocol: 'h2' }));
  });

  it('with an expired front-proxy certificate', async () => {
    const cert = await createClientCertificate(pki.frontProxyCA, 'front-proxy-client', {
      notBeforeDate: new Date(Date.now() - 48 * HOUR),
      notAfterDate: new Date(Date.now() - HOUR),
    });
    expect401(await direct(`${GV}/forecasts`, { headers: forged, cert }));
  });

  it('with a CN that is not in requestheader-allowed-names', async () => {
    const cert = await createClientCertificate(pki.frontProxyCA, 'mallory');
    expect401(await direct(`${GV}/forecasts`, { headers: forged, cert }));
  });

  it('logs why the headers were not trusted and why authentication failed, once per cause', async () => {
    const cert = await createClientCertificate(pki.frontProxyCA, 'mallory');
    for (let i = 0; i < 5; i++) expect401(await direct(`${GV}/forecasts`, { headers: forged, cert }));
    const lines = gate.logs.map((l) => JSON.parse(l) as { msg: string; cause?: string });
    const untrusted = lines.filter(
      (l) => l.msg === 'front-proxy headers not trusted' && l.cause?.includes('cn=mallory is not in the allowed list'),
    );
    expect(untrusted).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'authentication failed').length).toBeGreaterThan(0);
  });

  it('with a certificate that does not allow clientAuth', async () => {
    const cert = await createSignedCertificate(pki.frontProxyCA, 'front-proxy-client', { serverAuth: true });
    expect401(await direct(`${GV}/forecasts`, { headers: forged, cert, protocol: 'h2' }));
  });

  it('and never with a bearer token: the token decides, the headers are dropped', async () => {
    const a = await direct(`${GV}/forecasts`, { headers: [...forged, ['Authorization', 'Bearer bob-token']] });
    expect(a.status).toBe(403);
    expect(lastSar()).toMatchObject({ user: 'bob', groups: ['system:authenticated'] });
  });
});

describe('front-proxy authentication', () => {
  it('trusts the aggregator: user from X-Remote-User, groups plus system:authenticated', async () => {
    const a = await direct(`${GV}/forecasts`, {
      headers: frontProxyHeaders('erin', 'devs'),
      cert: pki.frontProxyClient,
    });
    expect(a.status).toBe(200);
    expect(lastSar()).toEqual({
      user: 'erin',
      groups: ['devs', 'system:authenticated'],
      resourceAttributes: { verb: 'list', group: TEST_GROUP, version: TEST_VERSION, resource: 'forecasts' },
    });
  });

  it.each(['h2', 'http/1.1'] as const)(
    'reads repeated, oddly-cased headers and escaped extras over %s',
    async (protocol) => {
      const a = await direct(`${GV}/forecasts/berlin`, {
        protocol,
        cert: pki.frontProxyClient,
        headers: [
          ['x-REMOTE-user', `frank-${protocol}`],
          ['X-Remote-Group', 'devs'],
          ['x-remote-GROUP', 'a,b'],
          ['X-Remote-Extra-Acme.com%2FTeam', 'blue'],
          ['x-remote-extra-acme.com%2fteam', 'green'],
          ['X-Remote-Uid', 'frank-uid'],
        ],
      });
      expect(a.status).toBe(200);
      expect(lastSar()).toEqual({
        user: `frank-${protocol}`,
        uid: 'frank-uid',
        groups: ['devs', 'a,b', 'system:authenticated'],
        extra: { 'acme.com/team': ['blue', 'green'] },
        resourceAttributes: {
          verb: 'get',
          group: TEST_GROUP,
          version: TEST_VERSION,
          resource: 'forecasts',
          name: 'berlin',
        },
      });
    },
  );

  it('forwards users through the front proxy over HTTP/2 and HTTP/1.1', async () => {
    for (const p of [proxy, proxy11]) {
      const a = await viaProxy(p, `${GV}/forecasts`, 'alice-token');
      expect(a.status).toBe(200);
      expect((JSON.parse(a.body) as { items: unknown[] }).items).toHaveLength(2);
      expect(lastSar()).toMatchObject({ user: 'alice', uid: 'alice-uid', groups: ['devs', 'system:authenticated'] });
    }
    // The aggregator authenticated the user; kubegate never saw the token.
    expect(kube.calls.tokenReviews).toBe(0);
    expect(proxy.lastForwarded?.headers.find(([k]) => k === 'authorization')).toBeUndefined();
  });

  it('answers 401 when the proxy itself does not know the user', async () => {
    expect((await viaProxy(proxy, `${GV}/forecasts`, 'nobody')).status).toBe(401);
  });

  it('streams a watch through the proxy without buffering', async () => {
    const url = `${proxy.url}${GV}/forecasts?watch=true`;
    const first = await new Promise<string>((resolve, reject) => {
      const req = https.get(
        url,
        { ca: proxy.ca, agent: false, headers: { authorization: 'Bearer alice-token' } },
        (res) => {
          expect(res.statusCode).toBe(200);
          res.once('data', (d: Buffer) => {
            resolve(d.toString());
            req.destroy();
          });
        },
      );
      req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)));
    });
    expect(JSON.parse(first.split('\n')[0] ?? '{}')).toMatchObject({ type: 'ADDED', object: { kind: 'Forecast' } });
  });
});

describe('client certificates (client-ca-file)', () => {
  it('authenticates CN as the user and O as groups', async () => {
    const cert = await createClientCertificate(pki.clientCA, 'grace', { organizations: ['devs'] });
    const a = await direct(`${GV}/forecasts`, { cert, protocol: 'h2' });
    expect(a.status).toBe(200);
    expect(lastSar()).toMatchObject({ user: 'grace', groups: ['devs', 'system:authenticated'] });
  });
});

describe('caches', () => {
  it('sends one TokenReview and one SubjectAccessReview for repeated requests, again after 10 s', async () => {
    for (let i = 0; i < 5; i++)
      expect((await direct(`${GV}/forecasts`, { headers: [['Authorization', 'Bearer carol-token']] })).status).toBe(
        200,
      );
    expect(kube.calls.tokenReviews).toBe(1);
    expect(kube.calls.subjectAccessReviews).toBe(1);
    const stats = gate.auth.stats();
    expect(stats.tokenReview?.hits).toBeGreaterThanOrEqual(4);
    // Concurrent requests share one review.
    await Promise.all(
      Array.from({ length: 10 }, () =>
        direct(`${GV}/forecasts/paris`, { headers: [['Authorization', 'Bearer carol-token']], protocol: 'h2' }),
      ),
    );
    expect(kube.calls.subjectAccessReviews).toBe(2);
    skew += 10_001;
    expect((await direct(`${GV}/forecasts`, { headers: [['Authorization', 'Bearer carol-token']] })).status).toBe(200);
    expect(kube.calls.tokenReviews).toBe(2);
    expect(kube.calls.subjectAccessReviews).toBe(3);
  });

  it('caches a refused token as well, and answers it 401', async () => {
    for (let i = 0; i < 3; i++)
      expect((await direct(`${GV}/forecasts`, { headers: [['Authorization', 'Bearer wrong']] })).status).toBe(401);
    expect(kube.calls.tokenReviews).toBe(1);
  });
});

describe('authorization failures', () => {
  it('answers 403 with the kube-apiserver wording', async () => {
    const a = await viaProxy(proxy, `${GV}/forecasts`, 'bob-token');
    expect(a.status).toBe(403);
    expect(JSON.parse(a.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `forecasts.${TEST_GROUP} is forbidden: User "bob" cannot list resource "forecasts" in API group "${TEST_GROUP}" at the cluster scope`,
      reason: 'Forbidden',
      details: { group: TEST_GROUP, kind: 'forecasts' },
      code: 403,
    });
  });

  it('fails closed with 503 when the SubjectAccessReview times out', async () => {
    kube.faults.subjectAccessReview = 'hang';
    const started = Date.now();
    const a = await direct(`${GV}/forecasts/nowhere`, { headers: [['Authorization', 'Bearer dave-token']] });
    expect(a.status).toBe(503);
    expect(a.headers['retry-after']).toBe('1');
    expect(JSON.parse(a.body)).toMatchObject({
      kind: 'Status',
      reason: 'ServiceUnavailable',
      code: 503,
      message: 'authorization is unavailable: the SubjectAccessReview failed; retry later',
    });
    // The cause is for the operator: in the log, not the answer.
    expect(a.body).not.toContain('400 ms');
    await expect.poll(() => authorizationCauses().some((c) => c.includes('within 400 ms'))).toBe(true);
    expect(Date.now() - started).toBeLessThan(SAR_TIMEOUT_MS + 2000);
    // Not cached: once the kube-apiserver answers, so does kubegate.
    kube.faults.subjectAccessReview = undefined;
    expect(
      (await direct(`${GV}/forecasts/nowhere`, { headers: [['Authorization', 'Bearer dave-token']] })).status,
    ).toBe(404);
  });

  it('answers a failed SubjectAccessReview with a fixed 503 and logs its cause once, never the credential', async () => {
    kube.faults.subjectAccessReview = 500;
    const before = authorizationCauses().filter((c) => c.includes('answered 500')).length;
    try {
      for (let i = 0; i < 3; i++) {
        const a = await direct(`${GV}/forecasts/never-decided`, { headers: [['Authorization', 'Bearer dave-token']] });
        expect(a.status).toBe(503);
        expect(a.headers['retry-after']).toBe('1');
        expect(JSON.parse(a.body)).toMatchObject({
          reason: 'ServiceUnavailable',
          code: 503,
          message: 'authorization is unavailable: the SubjectAccessReview failed; retry later',
        });
        expect(a.body).not.toContain('injected failure');
      }
    } finally {
      kube.faults.subjectAccessReview = undefined;
    }
    const after = authorizationCauses().filter((c) => c.includes('answered 500'));
    // Three refusals, one line (the failure log's interval is a minute).
    expect(after.length - before).toBe(1);
    expect(gate.logs.some((l) => l.includes('dave-token'))).toBe(false);
  });

  it('answers 401 when TokenReview is unavailable (never anonymous)', async () => {
    kube.faults.tokenReview = 500;
    expect((await direct(`${GV}/forecasts`, { headers: [['Authorization', 'Bearer some-new-token']] })).status).toBe(
      401,
    );
  });
});

describe('the aggregator', () => {
  it('probes /apis as system:kube-aggregator with no groups, allowed by the default system:discovery binding', async () => {
    const apis = await proxy.requestAs({ name: 'system:kube-aggregator', groups: [] }, '/apis');
    expect(apis.status).toBe(200);
    expect(lastSar()).toEqual({
      user: 'system:kube-aggregator',
      groups: ['system:authenticated'],
      nonResourceAttributes: { path: '/apis', verb: 'get' },
    });
  });

  it('probes /apis/G/V (legacy discovery fallback) as system:kube-aggregator with no groups', async () => {
    const gv = await proxy.requestAs({ name: 'system:kube-aggregator', groups: [] }, GV);
    expect(lastSar()).toEqual({
      user: 'system:kube-aggregator',
      groups: ['system:authenticated'],
      nonResourceAttributes: { path: GV, verb: 'get' },
    });
    expect(gv.status).toBe(200);
  });

  it('checks availability as system:kube-aggregator in system:masters without a review', async () => {
    const r = await proxy.requestAs({ name: 'system:kube-aggregator', groups: ['system:masters'] }, GV);
    expect(r.status).toBe(200);
    expect(kube.calls.subjectAccessReviews).toBe(0);
  });
});

describe('CA rotation', () => {
  it('applies a new requestheader CA from the configmap without restart', async () => {
    const newCA = await createCA('front-proxy-ca-2026');
    const newClient = await createClientCertificate(newCA, 'front-proxy-client');
    const ask = (cert: typeof newClient) =>
      direct(`${GV}/forecasts`, { headers: frontProxyHeaders('rotator', 'devs'), cert });
    expect((await ask(newClient)).status).toBe(401);
    // Rotation, step 1: both CAs trusted.
    kube.setConfigMap(authenticationConfigMapData(pki, { requestHeaderCA: `${pki.frontProxyCA.cert}\n${newCA.cert}` }));
    await until(() => gate.auth.config().requestHeader?.caCertificates.length === 2);
    expect((await ask(newClient)).status).toBe(200);
    expect((await ask(pki.frontProxyClient)).status).toBe(200);
    // Step 2: the old CA retired.
    kube.setConfigMap(authenticationConfigMapData(pki, { requestHeaderCA: newCA.cert }));
    await until(() => gate.auth.config().requestHeader?.caCertificates.length === 1);
    expect((await ask(pki.frontProxyClient)).status).toBe(401);
    expect((await ask(newClient)).status).toBe(200);
    expect(kube.calls.configMapLists).toBe(0);
    kube.setConfigMap(authenticationConfigMapData(pki));
    await until(() => gate.auth.config().requestHeader?.caCertificates[0]?.subject === 'CN=front-proxy-ca');
  });

  it('applies a new allowed-names list', async () => {
    const cert = await createClientCertificate(pki.frontProxyCA, 'aggregator-2');
    expect((await direct(`${GV}/forecasts`, { headers: frontProxyHeaders('x', 'devs'), cert })).status).toBe(401);
    kube.setConfigMap(authenticationConfigMapData(pki, { allowedNames: ['front-proxy-client', 'aggregator-2'] }));
    await until(() => gate.auth.config().requestHeader?.allowedNames.length === 2);
    expect((await direct(`${GV}/forecasts`, { headers: frontProxyHeaders('x', 'devs'), cert })).status).toBe(200);
    kube.setConfigMap(authenticationConfigMapData(pki));
    await until(() => gate.auth.config().requestHeader?.allowedNames.length === 1);
  });
});

describe('robustness', () => {
  it('never fails with a 5xx or crashes on fuzzed front-proxy header values', async () => {
    const visible = fc.string({
      unit: fc.constantFrom(...'abcXYZ019 -_.,:;=/%\\"\'!@#$^&*()[]{}<>?~`|é\t'.split('')),
      maxLength: 30,
    });
    const name = fc.constantFrom(
      'X-Remote-User',
      'X-Remote-Group',
      'X-Remote-Uid',
      'X-Remote-Extra-K%2',
      'X-Remote-Extra-a%2Fb',
    );
    const authorization = fc.option(
      fc.oneof(
        visible.map((v) => `Bearer ${v}`),
        visible,
      ),
      { nil: undefined },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(name, visible), { maxLength: 8 }),
        authorization,
        fc.boolean(),
        fc.boolean(),
        async (hs, auth, withCert, h2) => {
          const a = await direct(`${GV}/forecasts`, {
            headers: [
              ...hs.map(([k, v]): [string, string] => [k, v.trim()]),
              ...(auth === undefined ? [] : [['Authorization', auth.trim()] as [string, string]]),
            ],
            protocol: h2 ? 'h2' : 'http/1.1',
            ...(withCert ? { cert: pki.frontProxyClient } : {}),
          });
          expect([200, 401, 403]).toContain(a.status);
          expect(JSON.parse(a.body)).toBeTypeOf('object');
        },
      ),
      { numRuns: 60 },
    );
    expect((await direct('/healthz')).status).toBe(200);
  });

  it('keeps HTTP/2 sessions usable for other streams after an unauthenticated request', async () => {
    const s = http2.connect(gate.url, {
      ca: pki.kubegateCA.cert,
      servername: 'localhost',
      cert: pki.frontProxyClient.cert,
      key: pki.frontProxyClient.key,
    });
    const one = (headers: http2.OutgoingHttpHeaders) =>
      new Promise<number>((resolve, reject) => {
        const q = s.request({ ':path': `${GV}/forecasts`, ...headers });
        q.on('response', (h) => resolve(Number(h[':status'])));
        q.on('error', reject);
        q.resume();
      });
    expect(await one({})).toBe(401);
    expect(await one({ 'x-remote-user': 'ivy', 'x-remote-group': 'devs' })).toBe(200);
    s.close();
  });
});

describe('kubectl through the front proxy', () => {
  it('lists forecasts with a kubeconfig for the proxy', async () => {
    const kc = join(dir, 'kubeconfig-alice');
    proxy.writeKubeconfig(kc, 'alice-token', 'alice');
    const r = await kubectl(kc, ['get', `forecasts.${TEST_GROUP}`, '-o', 'name']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual([`forecast.${TEST_GROUP}/berlin`, `forecast.${TEST_GROUP}/paris`]);
  });

  it('shows kubectl the Forbidden message for a user without RBAC', async () => {
    const kc = join(dir, 'kubeconfig-bob');
    proxy.writeKubeconfig(kc, 'bob-token', 'bob');
    const r = await kubectl(kc, ['get', `forecasts.${TEST_GROUP}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `forecasts.${TEST_GROUP} is forbidden: User "bob" cannot list resource "forecasts" in API group "${TEST_GROUP}" at the cluster scope`,
    );
  });
});
