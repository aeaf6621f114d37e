import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../src/config/load.ts';
import { loadAdapters } from '../src/config/adapters.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  roleRef?: { name: string };
}

async function render(dir: string): Promise<{ text: string; objects: Obj[] }> {
  const { stdout } = await run('kubectl', ['kustomize', resolve(ROOT, dir)]);
  return { text: stdout, objects: parseAllDocuments(stdout).map((d) => d.toJS() as Obj) };
}

describe.each([
  ['deploy/base', 'deploy/rendered/kubegate.yaml', 1],
  ['deploy/overlays/ha', 'deploy/rendered/kubegate-ha.yaml', 3],
])('%s', (dir, rendered, replicas) => {
  it('renders to the committed manifests (run `kubectl kustomize` to refresh them)', async () => {
    const { text } = await render(dir);
    expect(text).toBe(readFileSync(resolve(ROOT, rendered), 'utf8'));
  });

  it('registers every served group-version with an APIService on port 443', async () => {
    const { objects } = await render(dir);
    const apis = objects.filter((o) => o.kind === 'APIService');
    expect(apis.map((a) => a.metadata.name).sort()).toEqual(['v1alpha1.kubegate.dev', 'v1alpha1.weather.kubegate.dev']);
    for (const a of apis) {
      expect(a.spec).toMatchObject({ service: { name: 'kubegate', namespace: 'kubegate', port: 443 } });
      expect(a.spec?.insecureSkipTLSVerify).toBeUndefined();
      expect(Number(a.spec?.groupPriorityMinimum)).toBeGreaterThan(0);
    }
    const dep = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'kubegate');
    expect(dep?.spec?.replicas).toBe(replicas);
    const bindings = objects
      .filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')
      .map((o) => o.roleRef?.name);
    expect(bindings).toContain('system:auth-delegator');
    expect(bindings).toContain('extension-apiserver-authentication-reader');
  });

  it('ships a kubegate.yaml that validates, adapters included', async () => {
    const { objects } = await render(dir);
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kubegate-config');
    const loaded = parseConfig(cm?.data?.['kubegate.yaml'] ?? '', 'kubegate-config');
    const adapters = await loadAdapters(loaded, ROOT);
    expect(adapters.map((a) => a.definition.group)).toEqual(['weather.kubegate.dev']);
  });
});
