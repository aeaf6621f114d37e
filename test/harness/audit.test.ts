import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKubeApi, type FakeKubeApi } from './fake-kube-api.ts';
import { startFrontProxy, type FrontProxy } from './front-proxy.ts';
import { directRequest } from './http.ts';
import { authenticationConfigMapData, createClusterPki, KUBEGATE_SERVICE_NAME, type ClusterPki } from './pki.ts';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startFakePayments, type FakePayments } from '../../examples/fake-payments/server.ts';
import { parseConfig } from '../../src/config/load.ts';
import { loadAdapters } from '../../src/config/adapters.ts';
import { startGateway, type Gateway } from '../../src/server/gateway.ts';
import { createLogger } from '../../src/observability/log.ts';
import { EventSchema, type AuditEvent } from '../../src/audit/types.ts';

// The audit log of a whole gateway in aggregated mode, behind the aggregator stand-in, driven by real kubectl:
// every line an audit.k8s.io/v1 Event, and the requests an auditor looks for (refused, watched, proxied,
// written) each there with who, what, the decision and the outcome, and never a credential.
let kube: FakeKubeApi;
let weather: FakeWeather;
let pay: FakePayments;
let gw: Gateway;
let proxy: FrontProxy;
let pki: ClusterPki;
let dir: string;
let auditFile: string;
const W = '/apis/weather.kubegate.dev/v1alpha1';
const P = '/apis/payments.kubegate.dev/v1alpha1';

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: []
rules:
  - level: None
    nonResourceURLs: ["/healthz*", "/livez*", "/readyz*"]
  - level: RequestResponse
    verbs: [get]
    resources: [{ group: weather.kubegate.dev, resources: [forecasts] }]
  - level: Request
    resources: [{ group: payments.kubegate.dev }]
  - level: Metadata
`;

beforeAll(async () => {
  pki = await createClusterPki();
  dir = mkdtempSync(join(tmpdir(), 'kubegate-audit-'));
  auditFile = join(dir, 'audit.log');
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  kube = await startFakeKubeApi({
    configMap: authenticationConfigMapData(pki),
    tokens: {
      'alice-token-0123456789': { username: 'alice', groups: ['devs'] },
      'bob-token-0123456789': { username: 'bob' },
    },
  });
  kube.rules.push(
    {
      role: 'forecast-viewer',
      groups: ['devs'],
      verbs: ['get', 'list', 'watch'],
      apiGroups: ['weather.kubegate.dev'],
      resources: ['forecasts'],
    },
    {
      role: 'charges',
      groups: ['devs'],
      verbs: ['get', 'list', 'create'],
      apiGroups: ['payments.kubegate.dev'],
      resources: ['charges', 'charges/proxy', 'refunds'],
    },
  );
  weather = await startFakeWeather({ port: 0 });
  pay = await startFakePayments({ port: 0, charges: 20 });
  const loaded = parseConfig(
    JSON.stringify({
      mode: 'aggregated',
      server: { host: '127.0.0.1', port: 0 },
      auth: { kubeconfig: kube.kubeconfig },
      audit: { path: auditFile, policyFile: join(dir, 'policy.yaml'), batchMaxWait: '20ms' },
      adapters: [
        {
          name: 'weather',
          module: resolve(import.meta.dirname, '../../adapters/weather/index.ts'),
          config: { baseUrl: weather.url, locations: LOCATIONS },
        },
        {
          name: 'payments',
          module: resolve(import.meta.dirname, '../../adapters/payments/index.ts'),
          config: { baseUrl: pay.url, apiKey: pay.apiKey },
        },
      ],
    }),
  );
  gw = await startGateway({
    config: loaded.config,
    adapters: await loadAdapters(loaded),
    tls: pki.kubegate,
    logger: createLogger('error'),
  });
  proxy = await startFrontProxy({
    target: gw.url,
    targetCA: pki.kubegateCA.cert,
    serverName: KUBEGATE_SERVICE_NAME,
    clientCert: pki.frontProxyClient,
    authenticate: (t) => {
      const u = kube.tokens.get(t);
      return u ? { name: u.username, groups: u.groups ?? [] } : undefined;
    },
  });
  proxy.writeKubeconfig(join(dir, 'alice'), 'alice-token-0123456789', 'alice');
  proxy.writeKubeconfig(join(dir, 'bob'), 'bob-token-0123456789', 'bob');
});
afterAll(async () => {
  await proxy.close();
  await gw.close();
  await weather.close();
  await pay.close().catch(() => undefined);
  await kube.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every event in the log so far (each line checked against the Event schema). */
function events(): AuditEvent[] {
  let text: string;
  try {
    text = readFileSync(auditFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const ev = JSON.parse(l) as unknown;
      const bad = Value.Errors(EventSchema, ev).First();
      if (bad) throw new Error(`not an audit.k8s.io/v1 Event (${bad.path}: ${bad.message}): ${l}`);
      return ev as AuditEvent;
    });
}

/** Waits until events matching `match` include each of `stages`; returns them. */
async function waitFor(match: (e: AuditEvent) => boolean, stages: string[]): Promise<AuditEvent[]> {
  let found: AuditEvent[] = [];
  await expect
    .poll(() => {
      found = events().filter(match);
      return stages.every((s) => found.some((e) => e.stage === s));
    })
    .toBe(true);
  return found;
}

describe('the audit log (audit.k8s.io/v1 Events)', () => {
  it('a list through the aggregator: the front-proxy user, the decision, one auditID for both stages', async () => {
    await kubectlOk(join(dir, 'alice'), ['get', 'forecasts.weather.kubegate.dev', '-o', 'name']);
    const evs = await waitFor(
      (e) => e.verb === 'list' && e.objectRef?.resource === 'forecasts' && e.user.username === 'alice',
      ['RequestReceived', 'ResponseComplete'],
    );
    const done = evs.find((e) => e.stage === 'ResponseComplete')!;
    expect(evs.find((e) => e.stage === 'RequestReceived')!.auditID).toBe(done.auditID);
    expect(done).toMatchObject({
      level: 'Metadata',
      // kubectl asks for the preferred version.
      requestURI: expect.stringMatching(/^\/apis\/weather\.kubegate\.dev\/v1[a-z0-9]*\/forecasts/) as string,
      user: { username: 'alice', groups: ['devs', 'system:authenticated'] },
      objectRef: {
        resource: 'forecasts',
        apiGroup: 'weather.kubegate.dev',
        apiVersion: expect.stringMatching(/^v1/) as string,
      },
      responseStatus: { metadata: {}, code: 200 },
      annotations: {
        'authorization.k8s.io/decision': 'allow',
        'authentication.kubegate.dev/front-proxy': 'front-proxy-client',
      },
    });
    expect(done.userAgent).toContain('kubectl');
    expect(done.sourceIPs?.length).toBeGreaterThan(0);
    expect(done.responseObject).toBeUndefined();
  });

  it('a get at RequestResponse records the object returned, and the Audit-ID header matches', async () => {
    const r = await proxy.requestAs({ name: 'alice', groups: ['devs'] }, `${W}/forecasts/berlin`);
    expect(r.status).toBe(200);
    const id = r.headers['audit-id'];
    expect(typeof id).toBe('string');
    const evs = await waitFor((e) => e.auditID === id, ['ResponseComplete']);
    const done = evs.find((e) => e.stage === 'ResponseComplete')!;
    expect(done.level).toBe('RequestResponse');
    expect(done.objectRef).toMatchObject({ resource: 'forecasts', name: 'berlin' });
    expect(done.responseObject).toMatchObject({ kind: 'Forecast', metadata: { name: 'berlin' } });
  });

  it('a 403 from the gate: decision forbid and the Forbidden status', async () => {
    const r = await kubectl(join(dir, 'bob'), ['get', 'forecasts.weather.kubegate.dev']);
    expect(r.code).toBe(1);
    const evs = await waitFor((e) => e.user.username === 'bob' && e.responseStatus?.code === 403, ['ResponseComplete']);
    expect(evs[0]).toMatchObject({
      verb: 'list',
      responseStatus: { status: 'Failure', reason: 'Forbidden', code: 403 },
      annotations: { 'authorization.k8s.io/decision': 'forbid' },
    });
  });

  it('a 401 at the edge: one ResponseStarted event saying what was attempted, never the token', async () => {
    const r = await directRequest(gw.url, pki.kubegateCA.cert, `${W}/forecasts`, {
      headers: [['Authorization', 'Bearer not-a-valid-token-0123456789']],
      servername: KUBEGATE_SERVICE_NAME,
    });
    expect(r.status).toBe(401);
    const id = r.headers['audit-id'];
    const evs = await waitFor((e) => e.auditID === id, ['ResponseStarted']);
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({
      user: {},
      verb: 'list',
      objectRef: { resource: 'forecasts', apiGroup: 'weather.kubegate.dev' },
      responseStatus: { message: 'Authentication failed, attempted: bearer', reason: 'Unauthorized', code: 401 },
    });
    expect(readFileSync(auditFile, 'utf8')).not.toContain('not-a-valid-token');
  });

  it('a watch: ResponseStarted when it starts, ResponseComplete when it ends', async () => {
    await kubectl(join(dir, 'alice'), ['get', 'forecasts.weather.kubegate.dev', '-w', '--request-timeout=2s'], 10_000);
    const evs = await waitFor(
      (e) => e.verb === 'watch' && e.user.username === 'alice',
      ['RequestReceived', 'ResponseStarted', 'ResponseComplete'],
    );
    expect(evs.find((e) => e.stage === 'ResponseStarted')!.responseStatus).toEqual({ metadata: {}, code: 200 });
    expect(evs.find((e) => e.stage === 'ResponseComplete')!.responseObject).toBeUndefined();
  });

  it('a proxy call: the upstream method, path and status; no query, no API key', async () => {
    const list = JSON.parse(
      await kubectlOk(join(dir, 'alice'), ['get', 'charges.payments.kubegate.dev', '-n', 'checkout', '-o', 'json']),
    ) as { items: { metadata: { name: string } }[] };
    const name = list.items[0]!.metadata.name;
    await kubectlOk(join(dir, 'alice'), ['get', '--raw', `${P}/namespaces/checkout/charges/${name}/proxy`]);
    // A query the adapter does not allow is refused (400), and still never recorded.
    const refused = await kubectl(join(dir, 'alice'), [
      'get',
      '--raw',
      `${P}/namespaces/checkout/charges/${name}/proxy?api_key=leak0123456789`,
    ]);
    expect(refused.stderr).toContain('BadRequest');
    const evs = await waitFor(
      (e) => e.objectRef?.subresource === 'proxy' && e.objectRef.name === name,
      ['RequestReceived', 'ResponseStarted', 'ResponseComplete'],
    );
    const done = evs.find((e) => e.stage === 'ResponseComplete' && e.responseStatus?.code === 200)!;
    expect(done).toMatchObject({
      level: 'Request',
      verb: 'get',
      requestURI: `${P}/namespaces/checkout/charges/${name}/proxy`,
      objectRef: { resource: 'charges', namespace: 'checkout', subresource: 'proxy' },
      annotations: {
        'proxy.kubegate.dev/upstream-method': 'GET',
        'proxy.kubegate.dev/upstream-path': expect.stringMatching(/^\/v1\/charges\/ch_/) as string,
        'proxy.kubegate.dev/upstream-status': '200',
      },
    });
    expect(readFileSync(auditFile, 'utf8')).not.toContain(pay.apiKey);
    const [bad] = await waitFor(
      (e) => e.objectRef?.name === name && e.responseStatus?.code === 400,
      ['ResponseComplete'],
    );
    expect(bad?.requestURI).toBe(`${P}/namespaces/checkout/charges/${name}/proxy`);
    expect(readFileSync(auditFile, 'utf8')).not.toContain('leak0123456789');
  });

  it('a write: a create is recorded with its verb and outcome', async () => {
    const body = join(dir, 'charge.json');
    writeFileSync(
      body,
      JSON.stringify({ apiVersion: 'payments.kubegate.dev/v1alpha1', kind: 'Charge', metadata: { name: 'c1' } }),
    );
    const r = await kubectl(join(dir, 'alice'), ['create', '--raw', `${P}/namespaces/checkout/charges`, '-f', body]);
    expect(r.code).not.toBe(0);
    const evs = await waitFor(
      (e) => e.verb === 'create' && e.objectRef?.resource === 'charges',
      ['RequestReceived', 'ResponseComplete'],
    );
    const done = evs.find((e) => e.stage === 'ResponseComplete')!;
    expect(done.level).toBe('Request');
    expect(done.responseStatus?.code).toBeGreaterThanOrEqual(200);
    expect(done.objectRef).toMatchObject({
      resource: 'charges',
      namespace: 'checkout',
      apiGroup: 'payments.kubegate.dev',
    });
  });

  it('a created object: the decoded request body as requestObject at Request level', async () => {
    const list = JSON.parse(
      await kubectlOk(join(dir, 'alice'), [
        'get',
        'charges.payments.kubegate.dev',
        '-A',
        '-l',
        'status=succeeded',
        '-o',
        'json',
      ]),
    ) as { items: { metadata: { namespace: string; annotations: Record<string, string> } }[] };
    const ns = list.items[0]!.metadata.namespace;
    const charge = list.items[0]!.metadata.annotations['payments.kubegate.dev/id']!;
    const f = join(dir, 'refund.yaml');
    writeFileSync(
      f,
      `apiVersion: payments.kubegate.dev/v1alpha1\nkind: Refund\nmetadata:\n  name: audited\n  namespace: ${ns}\nspec:\n  charge: ${charge}\n  amount: 100\n`,
    );
    await kubectlOk(join(dir, 'alice'), ['create', '-f', f]);
    const evs = await waitFor(
      (e) => e.verb === 'create' && e.objectRef?.resource === 'refunds',
      ['RequestReceived', 'ResponseComplete'],
    );
    const done = evs.find((e) => e.stage === 'ResponseComplete')!;
    expect(done).toMatchObject({
      level: 'Request',
      responseStatus: { code: 201 },
      requestObject: { kind: 'Refund', metadata: { name: 'audited' }, spec: { charge, amount: 100 } },
    });
    expect(done.responseObject).toBeUndefined();
  });

  it('no credential anywhere in the log; every line an Event', () => {
    const text = readFileSync(auditFile, 'utf8');
    for (const secret of ['alice-token-0123456789', 'bob-token-0123456789', pay.apiKey, 'BEGIN CERTIFICATE', 'Bearer'])
      expect(text).not.toContain(secret);
    expect(events().length).toBeGreaterThan(10);
  });
});
