import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeEc2, type FakeEc2 } from '../../examples/fake-ec2/server.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';

// The aws adapter against the fake EC2 (the official SDK speaking the Query protocol to it), seen by kubectl.
let ec2: FakeEc2;
let gw: TestGateway;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];

beforeAll(async () => {
  // The SDK's default credential chain finds these first, as it would a pod's environment.
  process.env.AWS_ACCESS_KEY_ID = 'AKIDFAKEEC2EXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-ec2-secret-access-key';
  ec2 = await startFakeEc2({ instances: 300, seed: 11 });
  gw = await startTestGateway({
    adapters: [
      {
        name: 'aws',
        module: './adapters/aws/index.ts',
        config: { regions: REGIONS, endpoint: ec2.url, pageSize: 40 },
        pollInterval: '1s',
        resilience: { retries: 3, backoffInitial: '20ms', backoffMax: '100ms', breakerThreshold: 100 },
      },
    ],
    watch: { bookmarkInterval: '1s' },
  });
  await vi.waitFor(
    async () => {
      const r = await gw.get('/apis/ec2.aws.kubegate.dev/v1alpha1/instances?limit=1');
      if (r.status !== 200) throw new Error(`no data yet: ${r.status}`);
    },
    { timeout: 30_000, interval: 100 },
  );
});
afterAll(async () => {
  await gw.close();
  await ec2.close();
});

const rows = (out: string) => out.trim().split('\n').slice(1);
/** Waits until every instance of the fake is served with its current state. */
const converged = () =>
  vi.waitFor(
    async () => {
      const out = await kubectlOk(gw.kubeconfig, [
        'get',
        'instances',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}={.status.state}{"\\n"}{end}',
      ]);
      const served = out.trim().split('\n').sort();
      const truth = ec2
        .instances()
        .map((i) => `${i.instanceId}=${i.state}`)
        .sort();
      expect(served).toEqual(truth);
    },
    { timeout: 40_000, interval: 250 },
  );

describe('kubectl get instances', () => {
  it('-o wide shows every instance with state, type, zone, IP, launch age and the wide columns', async () => {
    await converged();
    const out = await kubectlOk(gw.kubeconfig, ['get', 'instances', '-o', 'wide']);
    const [header] = out.split('\n');
    expect(header).toMatch(
      /^NAME\s+STATE\s+TYPE\s+ZONE\s+PRIVATE-IP\s+LAUNCHED\s+INSTANCE-NAME\s+PUBLIC-IP\s+IMAGE\s+VPC/,
    );
    expect(rows(out)).toHaveLength(ec2.instances().length);
    const one = ec2.instances().find((i) => i.state === 'running')!;
    const row = rows(out).find((r) => r.startsWith(one.instanceId))!;
    expect(row).toMatch(
      new RegExp(
        `running\\s+${one.instanceType.replace('.', '\\.')}\\s+${one.zone}\\s+${one.privateIpAddress}\\s+\\d+d`,
      ),
    );
    const narrow = (await kubectlOk(gw.kubeconfig, ['get', 'instances'])).split('\n')[0]!;
    expect(narrow).not.toMatch(/IMAGE/);
  });

  it('-l region=eu-west-1 lists that region only; tags are labels', async () => {
    const out = await kubectlOk(gw.kubeconfig, ['get', 'instances', '-l', 'region=eu-west-1', '-L', 'team']);
    const eu = ec2.instances().filter((i) => i.region === 'eu-west-1');
    expect(rows(out)).toHaveLength(eu.length);
    expect(rows(out).every((r) => /\seu-west-1[abc]\s/.test(r))).toBe(true);
    const payments = ec2.instances().filter((i) => i.tags.some((t) => t.key === 'team' && t.value === 'payments'));
    const byTeam = await kubectlOk(gw.kubeconfig, ['get', 'instances', '-l', 'team=payments', '-o', 'name']);
    expect(byTeam.trim().split('\n')).toHaveLength(payments.length);
    // "Cost Center" = "CC 42" becomes Cost-Center=CC-42, guessable from the tag.
    const costly = ec2.instances().find((i) => i.tags.some((t) => t.key === 'Cost Center'))!;
    const cc = costly.tags.find((t) => t.key === 'Cost Center')!.value.replace(' ', '-');
    const sel = await kubectlOk(gw.kubeconfig, ['get', 'instances', '-l', `Cost-Center=${cc}`, '-o', 'name']);
    expect(sel).toContain(costly.instanceId);
  });

  it('--field-selector status.state=running and spec.instanceType select on the server', async () => {
    await converged();
    const running = ec2.instances().filter((i) => i.state === 'running');
    const out = await kubectlOk(gw.kubeconfig, ['get', 'instances', '--field-selector', 'status.state=running']);
    expect(rows(out)).toHaveLength(running.length);
    expect(rows(out).every((r) => /\srunning\s/.test(r))).toBe(true);
    const micro = await kubectlOk(gw.kubeconfig, [
      'get',
      'instances',
      '--field-selector',
      'spec.instanceType=t3.micro,status.state!=running',
      '-o',
      'name',
    ]);
    const want = ec2.instances().filter((i) => i.instanceType === 't3.micro' && i.state !== 'running');
    expect(micro.trim().split('\n').filter(Boolean)).toHaveLength(want.length);
    const bad = await kubectl(gw.kubeconfig, ['get', 'instances', '--field-selector', 'status.color=red']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/status\.color/);
  });

  it('-w prints MODIFIED with the new state when an instance is stopped', async () => {
    const target = ec2.instances().find((i) => i.state === 'running')!;
    const p = spawn('kubectl', [
      '--kubeconfig',
      gw.kubeconfig,
      'get',
      'instances',
      '-w',
      '--output-watch-events',
      '--field-selector',
      `metadata.name=${target.instanceId}`,
    ]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      // The watch is open once kubectl has printed the instance as it is; the stop comes after that.
      await vi.waitFor(() => expect(out).toMatch(new RegExp(`ADDED\\s+${target.instanceId}\\s+running\\s`)), {
        timeout: 15_000,
        interval: 100,
      });
      ec2.setState(target.instanceId, 'stopped');
      await vi.waitFor(() => expect(out).toMatch(new RegExp(`MODIFIED\\s+${target.instanceId}\\s+stopped\\s`)), {
        timeout: 15_000,
        interval: 100,
      });
    } finally {
      p.kill();
    }
  });

  it('explain instances.status documents the fields', async () => {
    const out = await kubectlOk(gw.kubeconfig, ['explain', 'instances.status']);
    expect(out).toMatch(/state\s+<string>/);
    expect(out).toMatch(/launchTime/);
    expect(out).toMatch(/EC2 instance state name/);
  });

  it('volumes and security groups are served too', async () => {
    const vols = await kubectlOk(gw.kubeconfig, ['get', 'volumes', '-l', 'region=ap-southeast-2']);
    expect(rows(vols).length).toBe([...ec2.fleet.regions.get('ap-southeast-2')!.volumes.values()].length);
    const sgs = await kubectlOk(gw.kubeconfig, ['get', 'securitygroups', '-o', 'wide']);
    expect(rows(sgs)).toHaveLength(36);
  });
});

describe('throttling', () => {
  it('RequestLimitExceeded is retried with backoff: the poll goes through', async () => {
    await converged();
    const before = ec2.throttled;
    const target = ec2.instances().find((i) => i.state === 'stopped')!;
    ec2.throttle(2);
    ec2.setState(target.instanceId, 'running');
    await converged();
    expect(ec2.throttled - before).toBe(2);
  });

  it('persistent throttling serves the last data with a Warning, and loses nothing after recovery', async () => {
    await converged();
    const before = ec2.throttled;
    ec2.throttle(true);
    const target = ec2.instances().find((i) => i.state === 'running')!;
    ec2.setState(target.instanceId, 'stopped');
    await vi.waitFor(
      async () => {
        const r = await kubectl(gw.kubeconfig, ['get', 'instances', '-l', 'region=eu-west-1']);
        expect(r.code).toBe(0);
        expect(r.stderr).toMatch(/Warning: aws: upstream unavailable \(.*503.*\), serving data from/);
      },
      { timeout: 20_000, interval: 200 },
    );
    // The policy retried before giving up: every failed call reached the fake four times (retries: 3).
    expect(ec2.throttled - before).toBeGreaterThanOrEqual(4);
    // Some instances terminate and vanish while the gateway cannot see them; others launch.
    for (let i = 0; i < 3; i++) ec2.tick();
    ec2.throttle(false);
    await converged();
    const ok = await kubectl(gw.kubeconfig, ['get', 'instances', '-l', 'region=eu-west-1']);
    expect(ok.stderr).not.toMatch(/Warning/);
  });
});
