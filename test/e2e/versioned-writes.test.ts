import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDisksAdapter } from '../helpers/disks.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';

// kubectl writing a deprecated version of a resource: the adapter sees its storage version only, kubectl sees
// the version it wrote (and the deprecation Warning).

const GROUP = 'disks.e2e.kubegate.dev';
const { adapter, upstream } = createDisksAdapter(GROUP, 'ops');

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
