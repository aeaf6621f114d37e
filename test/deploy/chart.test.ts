import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART, HA_VALUES, ROOT, helm, renderChart, type K8sObject } from './chart.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../harness/fake-kube-api.ts';
import { startFrontProxy, type FrontProxy } from '../harness/front-proxy.ts';
import { authenticationConfigMapData, createClusterPki } from '../harness/pki.ts';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { parseConfig } from '../../src/config/load.ts';
import { loadAdapters } from '../../src/config/adapters.ts';
import { startGateway, type Gateway } from '../../src/server/gateway.ts';
import { createLogger } from '../../src/observability/log.ts';

const run = promisify(execFile);

// Models generated from the Kubernetes OpenAPI (and from the cert-manager and prometheus-operator CRDs), each
// with an ajv validator of its schema: types, formats (int32, byte…), enums and required fields.
const MODEL_PACKAGES: Record<string, string> = {
  'cert-manager.io': '@kubernetes-models/cert-manager',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

async function schemaErrors(o: K8sObject): Promise<string | undefined> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const pkg = MODEL_PACKAGES[group ?? ''] ?? 'kubernetes-models';
  const path = group ? `${pkg}/${group}/${version}/${o.kind}` : `${pkg}/${version}/${o.kind}`;
  const mod = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = mod[o.kind];
  if (!Model) return `${o.apiVersion} ${o.kind}: no schema`;
  try {
    new Model(o).validate();
    return undefined;
  } catch (err) {
    return `${o.kind}/${o.metadata.name}: ${(err as Error).message}`;
  }
}

interface Container {
  name: string;
  securityContext?: {
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type: string };
  };
  ports?: { hostPort?: number }[];
}
interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Container[];
  initContainers?: Container[];
  volumes?: Record<string, unknown>[];
}

const ALLOWED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/** What the `restricted` Pod Security Standard (and a read-only root filesystem) forbids, as readable lines. */
function restrictedViolations(spec: PodSpec): string[] {
  const out: string[] = [];
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) out.push('host namespaces');
  for (const v of spec.volumes ?? [])
    for (const k of Object.keys(v)) if (k !== 'name' && !ALLOWED_VOLUMES.has(k)) out.push(`volume type ${k}`);
  const podSeccomp = spec.securityContext?.seccompProfile?.type;
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) out.push(`${c.name}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${c.name}: allowPrivilegeEscalation not false`);
    if (!(sc.runAsNonRoot ?? spec.securityContext?.runAsNonRoot)) out.push(`${c.name}: runAsNonRoot not true`);
    if ((sc.runAsUser ?? spec.securityContext?.runAsUser) === 0) out.push(`${c.name}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${c.name}: seccompProfile ${seccomp}`);
    if (!sc.capabilities?.drop?.includes('ALL')) out.push(`${c.name}: capabilities not dropping ALL`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') out.push(`${c.name}: adds ${cap}`);
    if (c.ports?.some((p) => p.hostPort)) out.push(`${c.name}: hostPort`);
    if (sc.readOnlyRootFilesystem !== true) out.push(`${c.name}: root filesystem writable`);
  }
  return out;
}

/** The image's bundled adapters (/opt/kubegate/dist/adapters/<name>/index.js) are built from adapters/ here. */
const fromImagePaths = (yaml: string): string =>
  yaml.replace(/\/opt\/kubegate\/dist\/adapters\/([\w-]+)\/index\.js/g, `${ROOT}/adapters/$1/index.ts`);

const byKind = (objs: K8sObject[], kind: string): K8sObject[] => objs.filter((o) => o.kind === kind);
const one = (objs: K8sObject[], kind: string, name?: string): K8sObject => {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0] as K8sObject;
};
type Deployment = K8sObject & {
  spec: {
    replicas: number;
    strategy: { rollingUpdate: { maxUnavailable: number } };
    template: { spec: PodSpec & { affinity?: { podAntiAffinity?: Record<string, unknown> } } };
  };
};
type ApiService = K8sObject & {
  spec: {
    service: { name: string; namespace: string; port: number };
    caBundle?: string;
    insecureSkipTLSVerify?: boolean;
    version: string;
    groupPriorityMinimum: number;
    versionPriority: number;
  };
};

const renders: [string, string[], { replicas: number; certManager: boolean; groups: string[] }][] = [
  ['default values', [], { replicas: 1, certManager: false, groups: ['weather.kubegate.dev'] }],
  [
    'HA + Redis Sentinel + cert-manager values',
    [HA_VALUES],
    { replicas: 3, certManager: true, groups: ['weather.kubegate.dev', 'payments.kubegate.dev'] },
  ],
];

describe('helm lint', () => {
  it('passes with the default values and with the HA values', async () => {
    const a = await helm(['lint', CHART, '--strict']);
    expect(a.stdout).toContain('0 chart(s) failed');
    const b = await helm(['lint', CHART, '--strict', '-f', HA_VALUES]);
    expect(b.stdout).toContain('0 chart(s) failed');
  });

  it('refuses values that break the schema or cannot work, naming the field', async () => {
    const bad = (set: string[]) =>
      helm(['template', 'kg', CHART, ...set.flatMap((s) => ['--set', s])]).then(
        () => 'rendered',
        (e: unknown) => (e as { stderr: string }).stderr,
      );
    expect(await bad(['store.type=etcd'])).toMatch(/'\/store\/type': value must be one of/);
    expect(await bad(['replicas=3'])).toMatch(/replicas > 1 needs store.type: redis/);
    expect(await bad(['store.type=redis'])).toMatch(/store.type redis needs store.redis.url/);
    expect(await bad(['containerPort=443'])).toMatch(/'\/containerPort'/);
    expect(await bad(['tls.existingSecret=mine'])).toMatch(/tls.existingSecret needs tls.caBundle/);
  });
});

describe.each(renders)('helm template with %s', (_name, files, want) => {
  let objs: K8sObject[];
  beforeAll(async () => {
    objs = await renderChart(files);
  });

  it('renders only objects that validate against the Kubernetes (and CRD) schemas', async () => {
    expect(objs.length).toBeGreaterThan(10);
    const errors = (await Promise.all(objs.map(schemaErrors))).filter(Boolean);
    expect(errors).toEqual([]);
  });

  it('the pods meet the restricted Pod Security Standard on a read-only root filesystem', () => {
    const dep = one(objs, 'Deployment') as Deployment;
    expect(restrictedViolations(dep.spec.template.spec)).toEqual([]);
    const c = dep.spec.template.spec.containers[0] as Container & {
      readinessProbe: { httpGet: { path: string; scheme: string } };
      livenessProbe: { httpGet: { path: string; scheme: string } };
      resources: { requests: { memory: string }; limits: { memory: string } };
    };
    expect(c.readinessProbe.httpGet).toMatchObject({ path: '/readyz', scheme: 'HTTPS' });
    expect(c.livenessProbe.httpGet).toMatchObject({ path: '/livez', scheme: 'HTTPS' });
    expect(c.resources.requests.memory).toBeTruthy();
    expect(c.resources.limits.memory).toBeTruthy();
  });

  it('rolls without losing an endpoint: replicas, maxUnavailable 0, anti-affinity, a PodDisruptionBudget', () => {
    const dep = one(objs, 'Deployment') as Deployment;
    expect(dep.spec.replicas).toBe(want.replicas);
    expect(dep.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(dep.spec.template.spec.affinity?.podAntiAffinity).toBeDefined();
    one(objs, 'PodDisruptionBudget');
  });

  it('registers kubegate.dev and every adapter group-version with an APIService that verifies the certificate', () => {
    const apis = byKind(objs, 'APIService') as ApiService[];
    // Weather is served as v1 (preferred) and v1alpha1: one APIService per group-version.
    expect(apis.map((a) => a.metadata.name).sort()).toEqual(
      [...['kubegate.dev', ...want.groups].map((g) => `v1alpha1.${g}`), 'v1.weather.kubegate.dev'].sort(),
    );
    const weather = apis.filter((a) => a.metadata.name.endsWith('.weather.kubegate.dev'));
    const byPriority = [...weather].sort((a, b) => b.spec.versionPriority - a.spec.versionPriority);
    expect(byPriority.map((a) => a.spec.version)).toEqual(['v1', 'v1alpha1']);
    for (const a of apis) expect(a.spec.groupPriorityMinimum).toBe(1000);
    const svc = one(objs, 'Service');
    for (const a of apis) {
      expect(a.spec.service).toEqual({ name: svc.metadata.name, namespace: 'kubegate', port: 443 });
      expect(a.spec.insecureSkipTLSVerify).toBeUndefined();
      if (want.certManager) {
        expect(a.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe('kubegate/kg-kubegate-serving-cert');
        expect(a.spec.caBundle).toBeUndefined();
      } else {
        expect(Buffer.from(a.spec.caBundle ?? '', 'base64').toString()).toContain('BEGIN CERTIFICATE');
      }
    }
    if (want.certManager) one(objs, 'Certificate', 'kg-kubegate-serving-cert');
  });

  it('RBAC: delegation, the authentication reader, named credential Secrets only, separate proxy and write roles', () => {
    const refs = objs
      .filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')
      .map((o) => `${o.metadata.namespace ?? ''}/${(o as { roleRef?: { name: string } }).roleRef?.name}`);
    expect(refs).toContain('/system:auth-delegator');
    expect(refs).toContain('kube-system/extension-apiserver-authentication-reader');
    const rules = (o: K8sObject) =>
      (
        o as unknown as {
          rules: { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs: string[] }[];
        }
      ).rules;
    for (const role of [...byKind(objs, 'Role'), ...byKind(objs, 'ClusterRole')])
      for (const r of rules(role))
        if (r.resources?.includes('secrets')) {
          expect(r.resourceNames, `${role.metadata.name} reads named Secrets only`).toBeDefined();
          expect(r.verbs).not.toContain('list');
        }
    const viewer = one(objs, 'ClusterRole', 'kg-kubegate:viewer');
    expect(viewer.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view']).toBe('true');
    expect(rules(viewer).flatMap((r) => r.verbs)).not.toContain('create');
    expect(rules(viewer).flatMap((r) => r.resources)).not.toContain('*/proxy');
    const proxy = one(objs, 'ClusterRole', 'kg-kubegate:proxy');
    expect(proxy.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view']).toBeUndefined();
    expect(rules(proxy)[0]?.resources).toEqual(['*/proxy']);
    const writer = one(objs, 'ClusterRole', 'kg-kubegate:writer');
    expect(rules(writer)[0]?.verbs).toEqual(['create', 'update', 'patch', 'delete']);
    expect(rules(writer)[0]?.apiGroups?.sort()).toEqual([...want.groups].sort());
  });

  it('creates no Secret from values: only the generated serving certificate when cert-manager is off', () => {
    const secrets = byKind(objs, 'Secret');
    expect(secrets.map((s) => s.metadata.name)).toEqual(want.certManager ? [] : ['kg-kubegate-serving-cert']);
    const text = JSON.stringify(objs);
    expect(text).not.toMatch(/sk_(test|live)_/);
  });
});

describe('the rendered kubegate.yaml', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubegate-chart-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(renders)('passes `kubegate validate` (%s)', async (name, files) => {
    const objs = await renderChart(files);
    const cm = one(objs, 'ConfigMap', 'kg-kubegate-config') as K8sObject & { data: Record<string, string> };
    const file = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(file, fromImagePaths(cm.data['kubegate.yaml'] ?? ''));
    // --offline: the certificate files and variables the config names exist in the pod, not on this machine.
    const { stdout } = await run(
      process.execPath,
      [resolve(ROOT, 'src/cli/main.ts'), 'validate', '--offline', '--config', file],
      {
        env: { ...process.env, PAYMENTS_API_KEY: 'sk_test_0123456789abcdef' },
      },
    );
    expect(stdout).toMatch(/: ok \(\d+ adapters, \d+ resources\)/);
    const config = parse(cm.data['kubegate.yaml'] ?? '') as { mode: string; store: { type: string } };
    expect(config.mode).toBe('aggregated');
  });
});

describe('kubegate started with the chart (default values) behind the aggregator stand-in', () => {
  let kube: FakeKubeApi;
  let weather: FakeWeather;
  let gw: Gateway;
  let proxy: FrontProxy;
  let apis: ApiService[];
  beforeAll(async () => {
    const objs = await renderChart();
    const secret = one(objs, 'Secret', 'kg-kubegate-serving-cert') as K8sObject & { data: Record<string, string> };
    const pem = (k: string) => Buffer.from(secret.data[k] ?? '', 'base64').toString();
    apis = byKind(objs, 'APIService') as ApiService[];
    const pki = await createClusterPki();
    kube = await startFakeKubeApi({ configMap: authenticationConfigMapData(pki) });
    weather = await startFakeWeather({ port: 0 });
    const cm = one(objs, 'ConfigMap', 'kg-kubegate-config') as K8sObject & { data: Record<string, string> };
    const config = parse(fromImagePaths(cm.data['kubegate.yaml'] ?? '')) as {
      server: Record<string, unknown>;
      auth?: Record<string, unknown>;
      adapters: { config: Record<string, unknown> }[];
    };
    // What differs from the pod: a free port on loopback, the fake kube-apiserver, the fake upstream.
    config.server = { ...config.server, host: '127.0.0.1', port: 0 };
    config.auth = { ...config.auth, kubeconfig: kube.kubeconfig };
    for (const a of config.adapters) a.config = { ...a.config, baseUrl: weather.url, locations: LOCATIONS };
    const loaded = parseConfig(JSON.stringify(config));
    gw = await startGateway({
      config: loaded.config,
      adapters: await loadAdapters(loaded),
      tls: { cert: pem('tls.crt'), key: pem('tls.key') },
      logger: createLogger('error'),
    });
    const api = apis[0] as ApiService;
    proxy = await startFrontProxy({
      target: gw.url,
      // What the aggregator does with the APIService: dial <service>.<namespace>.svc, trust caBundle only.
      targetCA: Buffer.from(api.spec.caBundle ?? '', 'base64').toString(),
      serverName: `${api.spec.service.name}.${api.spec.service.namespace}.svc`,
      clientCert: pki.frontProxyClient,
      authenticate: () => undefined,
    });
  });
  afterAll(async () => {
    await proxy.close();
    await gw.close();
    await weather.close();
    await kube.close();
  });

  it('serves discovery of every registered group-version to the aggregator, over the generated certificate', async () => {
    for (const a of apis) {
      const { group, version } = a.spec as unknown as { group: string; version: string };
      const r = await proxy.requestAs(
        { name: 'system:kube-aggregator', groups: ['system:masters'] },
        `/apis/${group}/${version}`,
      );
      expect(r.status, `${group}/${version}`).toBe(200);
      expect((JSON.parse(r.body) as { groupVersion: string }).groupVersion).toBe(`${group}/${version}`);
    }
    const all = await proxy.requestAs({ name: 'system:kube-aggregator', groups: ['system:masters'] }, '/apis');
    expect(all.body).toContain('weather.kubegate.dev');
  });
});
