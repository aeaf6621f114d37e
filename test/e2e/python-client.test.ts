import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeEc2, type FakeEc2 } from '../../examples/fake-ec2/server.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

// The official Kubernetes Python client (Debian's python3-kubernetes, installed for the system Python by
// .ci/run) lists and then watches instances, as a Python controller would, and must hold the fake's truth.
const PYTHON = '/usr/bin/python3';
const SCRIPT = resolve(import.meta.dirname, '../python/list_watch.py');

function pythonClient(): string | undefined {
  try {
    return execFileSync(PYTHON, ['-c', 'import kubernetes; print(kubernetes.__version__)'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    return undefined;
  }
}
const version = pythonClient();

interface Dump {
  objects: Record<string, string>;
  events: number;
  relists: number;
  errors: string[];
}

let ec2: FakeEc2;
let gw: TestGateway;
let py: ChildProcessWithoutNullStreams | undefined;
const answers: string[] = [];
let stderr = '';

describe.skipIf(version === undefined)(`the Kubernetes Python client ${version ?? ''}`, () => {
  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDFAKEEC2EXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'fake-ec2-secret-access-key';
    ec2 = await startFakeEc2({ instances: 240, seed: 5 });
    gw = await startTestGateway({
      adapters: [
        {
          name: 'aws',
          module: './adapters/aws/index.ts',
          config: { regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'], endpoint: ec2.url, pageSize: 50 },
          pollInterval: '500ms',
        },
      ],
      watch: { bookmarkInterval: '1s' },
    });
    await gw.gateway.runtime.collections[0]?.poller.ready();
  });
  afterAll(async () => {
    py?.kill();
    await gw.close();
    await ec2.close();
  });

  const dump = async (): Promise<Dump> => {
    const n = answers.length;
    py?.stdin.write('dump\n');
    await vi.waitFor(() => expect(answers.length, stderr).toBeGreaterThan(n), { timeout: 10_000, interval: 20 });
    return JSON.parse(answers[n]!) as Dump;
  };
  const truth = () => Object.fromEntries(ec2.instances().map((i) => [i.instanceId, i.state]));

  it('lists, then watches from the list, and holds the upstream truth as instances change', async () => {
    py = spawn(PYTHON, [SCRIPT, gw.kubeconfig, 'ec2.aws.kubegate.dev', 'v1alpha1', 'instances', 'status.state']);
    py.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: py.stdout }).on('line', (l) => answers.push(l));
    await vi.waitFor(() => expect(answers[0], stderr).toMatch(/"listed": \d+/), { timeout: 20_000, interval: 50 });
    answers.shift();
    expect((await dump()).objects).toEqual(truth());

    // Stops and starts by hand, then the fleet's own life: stops, terminations (gone after a while), launches.
    const running = ec2.instances().filter((i) => i.state === 'running');
    for (const i of running.slice(0, 3)) ec2.setState(i.instanceId, 'stopped');
    for (let step = 0; step < 8; step++) ec2.tick();
    await vi.waitFor(async () => expect((await dump()).objects).toEqual(truth()), { timeout: 20_000, interval: 250 });
    const d = await dump();
    expect(d.errors).toEqual([]);
    expect(d.events).toBeGreaterThan(3);
    expect(d.relists).toBe(1);
  });
});
