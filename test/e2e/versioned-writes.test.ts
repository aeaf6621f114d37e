import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAdapter, defineResource, Type, type ObjectInput, type VersionedObject } from '../../src/sdk/index.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';

// kubectl writing a deprecated version of a resource: the adapter sees its storage version only, kubectl sees
// the version it wrote (and the deprecation Warning).

const GROUP = 'disks.e2e.kubegate.dev';
/** The upstream, in the storage version's shape (v1: sizeGiB). */
const upstream = new Map<string, { sizeGiB: number; labels: Record<string, string> }>();

const convert = (toHub: boolean) => (o: VersionedObject) => {
  const s = (o.spec ?? {}) as { sizeGiB?: number; sizeMiB?: number };
  return { ...o, spec: toHub ? { sizeGiB: (s.sizeMiB ?? 0) / 1024 } : { sizeMiB: (s.sizeGiB ?? 0) * 1024 } };
};
const served = (name: string): ObjectInput => {
  const d = upstream.get(name) ?? { sizeGiB: 0, labels: {} };
  return { name, namespace: 'ops', labels: d.labels, spec: { sizeGiB: d.sizeGiB } };
};

const adapter = defineAdapter({
  name: 'disks',
  group: GROUP,
  version: 'v1',
  config: Type.Object({}),
  resources: [
    defineResource({
      kind: 'Disk',
      plural: 'disks',
      scope: 'Namespaced',
      mode: 'mirror',
      pollInterval: '1h',
      schema: { spec: Type.Object({ sizeGiB: Type.Number({ minimum: 1 }) }, { additionalProperties: false }) },
      list: () => Promise.resolve([...upstream.keys()].map(served)),
      create(_ctx, obj) {
        upstream.set(obj.name, { sizeGiB: (obj.spec as { sizeGiB: number }).sizeGiB, labels: obj.labels });
        return Promise.resolve(served(obj.name));
      },
      update(_ctx, obj) {
        upstream.set(obj.name, { sizeGiB: (obj.spec as { sizeGiB: number }).sizeGiB, labels: obj.labels });
        return Promise.resolve(served(obj.name));
      },
      delete(_ctx, current) {
        upstream.delete(current.metadata.name);
        return Promise.resolve(undefined);
      },
      versions: [
        { name: 'v1', storage: true },
        {
          name: 'v1beta1',
          deprecated: true,
          schema: { spec: Type.Object({ sizeMiB: Type.Integer({ minimum: 1024 }) }, { additionalProperties: false }) },
          fromHub: convert(false),
          toHub: convert(true),
        },
      ],
    }),
  ],
});

let gw: TestGateway;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubegate-vwrites-'));
  gw = await startTestGateway({ adapters: [{ adapter, config: {} }] });
});
afterAll(async () => {
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

const BETA = `disks.v1beta1.${GROUP}`;
const V1 = `disks.v1.${GROUP}`;

function diskYaml(name: string, sizeMiB: number): string {
  const f = join(dir, `${name}-${sizeMiB}.yaml`);
  writeFileSync(
    f,
    `apiVersion: ${GROUP}/v1beta1\nkind: Disk\nmetadata:\n  name: ${name}\n  namespace: ops\n  labels: { team: storage }\nspec:\n  sizeMiB: ${sizeMiB}\n`,
  );
  return f;
}

describe('kubectl writes in a deprecated version', () => {
  it('create -f of a v1beta1 object: the adapter gets v1, kubectl reads it in both versions', async () => {
    const created = await kubectl(gw.kubeconfig, ['create', '-f', diskYaml('scratch', 2048)]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`disk.${GROUP}/scratch created`);
    expect(created.stderr).toContain(`${GROUP}/v1beta1 Disk is deprecated; use ${GROUP}/v1 Disk`);
    expect(upstream.get('scratch')).toEqual({ sizeGiB: 2, labels: { team: 'storage' } });
    const beta = JSON.parse(await kubectlOk(gw.kubeconfig, ['get', BETA, 'scratch', '-n', 'ops', '-o', 'json'])) as {
      spec: unknown;
      metadata: { resourceVersion: string };
    };
    const v1 = JSON.parse(
      await kubectlOk(gw.kubeconfig, ['get', V1, 'scratch', '-n', 'ops', '-o', 'json']),
    ) as typeof beta;
    expect(beta.spec).toEqual({ sizeMiB: 2048 });
    expect(v1.spec).toEqual({ sizeGiB: 2 });
    expect(beta.metadata.resourceVersion).toBe(v1.metadata.resourceVersion);
  });

  it("an invalid v1beta1 object is refused with that version's field", async () => {
    const r = await kubectl(gw.kubeconfig, ['create', '-f', diskYaml('tiny', 10)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is invalid: spec\.sizeMiB: Invalid value: 10/);
    expect(upstream.has('tiny')).toBe(false);
  });

  it('patch in v1beta1 terms, then delete', async () => {
    await kubectlOk(gw.kubeconfig, [
      'patch',
      BETA,
      'scratch',
      '-n',
      'ops',
      '--type',
      'merge',
      '-p',
      '{"spec":{"sizeMiB":4096}}',
    ]);
    expect(upstream.get('scratch')?.sizeGiB).toBe(4);
    await kubectlOk(gw.kubeconfig, ['delete', BETA, 'scratch', '-n', 'ops']);
    expect(upstream.has('scratch')).toBe(false);
  });
});
