import { describe, expect, it } from 'vitest';
import { renderChart, type K8sObject } from './chart.ts';
import { parseConfig } from '../../src/config/load.ts';
import { parsePolicy } from '../../src/audit/policy.ts';

interface Volume {
  name: string;
  configMap?: { name: string };
  emptyDir?: { sizeLimit?: string };
}
interface Deployment {
  spec: {
    template: {
      spec: { volumes: Volume[]; containers: { volumeMounts: { name: string; mountPath: string }[] }[] };
    };
  };
}

const configMap = (objs: K8sObject[], name: string) =>
  objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name) as
    (K8sObject & { data: Record<string, string> }) | undefined;

describe('chart: the audit log', () => {
  it('off by default: no audit section, no policy ConfigMap', async () => {
    const objs = await renderChart();
    expect(configMap(objs, 'kg-kubegate-audit-policy')).toBeUndefined();
    const cfg = parseConfig(configMap(objs, 'kg-kubegate-config')!.data['kubegate.yaml']!).config;
    expect(cfg.audit).toBeUndefined();
  });

  it('audit.enabled: kubegate.yaml names the mounted policy and the log in an emptyDir; both parse', async () => {
    const objs = await renderChart([], ['audit.enabled=true']);
    const names = objs.map((o) => o.metadata.name);
    expect(names).toContain('kg-kubegate-audit-policy');
    const cfg = parseConfig(configMap(objs, 'kg-kubegate-config')!.data['kubegate.yaml']!).config;
    expect(cfg.audit).toEqual({
      path: '/var/log/kubegate/audit.log',
      policyFile: '/etc/kubegate/audit/policy.yaml',
      maxSize: 100,
      maxBackups: 4,
      mode: 'batch',
    });
    const policy = parsePolicy(configMap(objs, 'kg-kubegate-audit-policy')!.data['policy.yaml']!);
    expect(policy.rules.at(-1)?.level).toBe('Metadata');
    const dep = objs.find((o) => o.kind === 'Deployment') as unknown as Deployment;
    const pod = dep.spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'audit-policy', configMap: { name: 'kg-kubegate-audit-policy' } });
    expect(pod.volumes).toContainEqual({ name: 'audit-log', emptyDir: { sizeLimit: '1Gi' } });
    const mounts = pod.containers[0]!.volumeMounts;
    expect(mounts).toContainEqual(expect.objectContaining({ name: 'audit-log', mountPath: '/var/log/kubegate' }));
    expect(mounts).toContainEqual(expect.objectContaining({ name: 'audit-policy', mountPath: '/etc/kubegate/audit' }));
  });

  it('audit.path "-": stdout, no log volume', async () => {
    const objs = await renderChart([], ['audit.enabled=true', 'audit.path=-']);
    const dep = objs.find((o) => o.kind === 'Deployment') as unknown as Deployment;
    expect(dep.spec.template.spec.volumes.map((v) => v.name)).not.toContain('audit-log');
    expect(parseConfig(configMap(objs, 'kg-kubegate-config')!.data['kubegate.yaml']!).config.audit?.path).toBe('-');
  });
});
