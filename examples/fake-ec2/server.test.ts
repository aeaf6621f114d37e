import {
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  EC2Client,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeEc2, type FakeEc2 } from './server.ts';

// The fake is checked with the official SDK and its own HTTP handler: what its deserializers accept is what
// the adapter will be given.
let fake: FakeEc2;
const clients = new Map<string, EC2Client>();
const client = (region: string) => {
  let c = clients.get(region);
  if (!c) {
    c = new EC2Client({
      region,
      endpoint: fake.url,
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    });
    clients.set(region, c);
  }
  return c;
};

beforeAll(async () => {
  fake = await startFakeEc2({ instances: 300, seed: 7 });
});
afterAll(async () => {
  for (const c of clients.values()) c.destroy();
  await fake.close();
});

describe('fake EC2 through the AWS SDK', () => {
  it('pages DescribeInstances with MaxResults/NextToken and keeps regions apart', async () => {
    const seen: string[] = [];
    let pages = 0;
    for await (const p of paginateDescribeInstances({ client: client('eu-west-1'), pageSize: 30 }, {})) {
      pages++;
      for (const r of p.Reservations ?? []) for (const i of r.Instances ?? []) seen.push(i.InstanceId ?? '');
    }
    const truth = fake.instances().filter((i) => i.region === 'eu-west-1');
    expect(pages).toBe(Math.ceil(truth.length / 30));
    expect(seen.sort()).toEqual(truth.map((i) => i.instanceId).sort());
    const one = (await client('eu-west-1').send(new DescribeInstancesCommand({ InstanceIds: [truth[0]!.instanceId] })))
      .Reservations?.[0]?.Instances?.[0];
    expect(one?.State?.Name).toBe(truth[0]!.state);
    expect(one?.Placement?.AvailabilityZone).toMatch(/^eu-west-1[abc]$/);
    expect(one?.LaunchTime).toBeInstanceOf(Date);
    expect(one?.Tags?.find((t) => t.Key === 'Name')?.Value).toBe(truth[0]!.tags[0]!.value);
    expect(one?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId).toMatch(/^vol-/);
  });

  it('applies instance-state-name, instance-type, availability-zone and tag filters', async () => {
    const truth = fake.instances().filter((i) => i.region === 'us-east-1');
    const ask = async (Name: string, Values: string[]) =>
      (
        (await client('us-east-1').send(new DescribeInstancesCommand({ Filters: [{ Name, Values }] }))).Reservations ??
        []
      ).flatMap((r) => r.Instances ?? []);
    expect((await ask('instance-state-name', ['stopped'])).length).toBe(
      truth.filter((i) => i.state === 'stopped').length,
    );
    expect((await ask('instance-type', ['t3.*'])).every((i) => i.InstanceType?.startsWith('t3.'))).toBe(true);
    expect((await ask('availability-zone', ['us-east-1b'])).length).toBe(
      truth.filter((i) => i.zone === 'us-east-1b').length,
    );
    const team = await ask('tag:team', ['payments']);
    expect(team.length).toBe(
      truth.filter((i) => i.tags.some((t) => t.key === 'team' && t.value === 'payments')).length,
    );
    await expect(ask('no-such-filter', ['x'])).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('answers volumes and security groups in their documented shapes', async () => {
    const v = await client('ap-southeast-2').send(new DescribeVolumesCommand({ MaxResults: 5 }));
    expect(v.Volumes).toHaveLength(5);
    expect(v.NextToken).toBeTruthy();
    expect(v.Volumes?.[0]?.CreateTime).toBeInstanceOf(Date);
    const g = await client('ap-southeast-2').send(new DescribeSecurityGroupsCommand({}));
    expect(g.SecurityGroups?.length).toBe(12);
    expect(g.SecurityGroups?.[1]?.IpPermissions?.[0]?.IpRanges?.[0]?.CidrIp).toBe('0.0.0.0/0');
  });

  it('refuses MaxResults outside EC2s range', async () => {
    await expect(client('eu-west-1').send(new DescribeInstancesCommand({ MaxResults: 2 }))).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('throttles with RequestLimitExceeded (503) as the SDK knows it', async () => {
    fake.throttle(1);
    const before = fake.throttled;
    await expect(client('eu-west-1').send(new DescribeVolumesCommand({}))).rejects.toMatchObject({
      name: 'RequestLimitExceeded',
      $metadata: { httpStatusCode: 503 },
    });
    expect(fake.throttled - before).toBe(1);
    expect((await client('eu-west-1').send(new DescribeVolumesCommand({}))).Volumes?.length).toBeGreaterThan(0);
  });

  it('changes over time: stops, starts, terminations and launches, deterministic by seed', async () => {
    const a = await startFakeEc2({ instances: 90, seed: 3 });
    const b = await startFakeEc2({ instances: 90, seed: 3 });
    try {
      for (let i = 0; i < 8; i++) {
        a.tick();
        b.tick();
      }
      const view = (f: FakeEc2) => f.instances().map((i) => `${i.instanceId}:${i.state}`);
      expect(view(a)).toEqual(view(b));
      const states = new Set(a.instances().map((i) => i.state));
      expect(states.has('running')).toBe(true);
      expect(a.instances().length).toBeGreaterThanOrEqual(90);
      const id = a.instances().find((i) => i.state === 'running')!.instanceId;
      expect(a.setState(id, 'stopped')).toBe(true);
      expect(a.instances().find((i) => i.instanceId === id)?.state).toBe('stopped');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
