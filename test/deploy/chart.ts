import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ensureTools } from '../../scripts/tools.mjs';

const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '../..');
export const CHART = resolve(ROOT, 'deploy/chart');
export const HA_VALUES = resolve(CHART, 'ci/ha-redis-cert-manager-values.yaml');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
}

/** helm and kubectl from the npm package (scripts/tools.mjs). */
export const tools = (): { helm: string; kubectl: string } => ensureTools();

export async function helm(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(tools().helm, args, { maxBuffer: 64 << 20 });
}

/** `helm template` of the chart as release `kg` in namespace `kubegate`, parsed. */
export async function renderChart(valueFiles: string[] = [], set: string[] = []): Promise<K8sObject[]> {
  const { stdout } = await helm([
    'template',
    'kg',
    CHART,
    '--namespace',
    'kubegate',
    ...valueFiles.flatMap((f) => ['-f', f]),
    ...set.flatMap((s) => ['--set', s]),
  ]);
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}
