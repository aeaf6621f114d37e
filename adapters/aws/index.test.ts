import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOnce } from 'kubegate/testing';
import { startFakeEc2, type FakeEc2 } from '../../examples/fake-ec2/server.ts';
import adapter from './index.ts';
import { fetchRequestHandler } from './handler.ts';
import { labelsAndAnnotations, toInstance, UNMAPPED_ANNOTATION } from './map.ts';

let ec2: FakeEc2;
const config = () => ({ regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'], endpoint: ec2.url, pageSize: 25 });

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDFAKEEC2EXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-ec2-secret-access-key';
  ec2 = await startFakeEc2({ instances: 150, seed: 2 });
});
afterAll(() => ec2.close());

describe('aws adapter', () => {
  it('lists every region page by page: ids as names, region and zone labels, tags as labels', async () => {
    const before = ec2.calls.DescribeInstances ?? 0;
    const { objects, skipped } = await listOnce({ adapter, config: config(), resource: 'instances' });
    expect(skipped).toEqual([]);
    expect(objects.map((o) => o.metadata.name).sort()).toEqual(
      ec2
        .instances()
        .map((i) => i.instanceId)
        .sort(),
    );
    expect((ec2.calls.DescribeInstances ?? 0) - before).toBe(3 * 2); // 50 per region, 25 per page
    const truth = ec2.instances()[0]!;
    const o = objects.find((x) => x.metadata.name === truth.instanceId)!;
    expect(o.metadata.labels).toMatchObject({ region: truth.region, zone: truth.zone, team: expect.any(String) });
    expect(o.status).toMatchObject({ state: truth.state, privateIpAddress: truth.privateIpAddress });
    expect((o.spec as { tags: Record<string, string> }).tags.Name).toBe(truth.tags[0]!.value);
  });

  it('reports tags that cannot be labels, and never lets a tag replace region or zone', () => {
    const r = labelsAndAnnotations(
      [
        { Key: 'Cost Center', Value: 'CC 42' },
        { Key: 'owner', Value: '@@@' },
        { Key: 'region', Value: 'mars' },
      ],
      { region: 'eu-west-1', zone: 'eu-west-1a' },
      undefined,
    );
    expect(r.labels).toEqual({ 'Cost-Center': 'CC-42', region: 'eu-west-1', zone: 'eu-west-1a' });
    const unmapped = JSON.parse(r.annotations![UNMAPPED_ANNOTATION]!) as { tag: string; reason: string }[];
    expect(unmapped.map((u) => u.tag).sort()).toEqual(['owner', 'region']);
  });

  it('skips an instance EC2 sent without the fields an object needs', () => {
    expect(toInstance({ InstanceId: 'i-0abc', State: { Name: 'running' } }, 'eu-west-1', undefined)).toBe(
      'an instance has no LaunchTime',
    );
  });

  it('RequestLimitExceeded is retried by kubegate, not the SDK', async () => {
    const before = ec2.throttled;
    ec2.throttle(2);
    const { objects } = await listOnce({ adapter, config: config(), resource: 'volumes' });
    expect(objects.length).toBeGreaterThan(0);
    expect(ec2.throttled - before).toBe(2);
  });

  it('a missing IAM permission names the permission, not the upstream message', async () => {
    ec2.deny('DescribeSecurityGroups');
    try {
      const err = await listOnce({ adapter, config: config(), resource: 'securitygroups' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(
        /DescribeSecurityGroups in [a-z0-9-]+ answered 403 UnauthorizedOperation: allow ec2:DescribeSecurityGroups/,
      );
      expect((err as Error).message).not.toMatch(/not authorized/);
    } finally {
      ec2.deny(null);
    }
  });
});

describe('fetchRequestHandler', () => {
  it('sends the SDK request over the given fetch, marking reads idempotent', async () => {
    const seen: { url: string; init: RequestInit & { idempotent?: boolean } }[] = [];
    const h = fetchRequestHandler(() => (url, init) => {
      seen.push({ url: url instanceof Request ? url.url : url.toString(), init: init ?? {} });
      return Promise.resolve(new Response('<x/>', { status: 200, headers: { 'content-type': 'text/xml' } }));
    });
    const req = (body: string) => ({
      method: 'POST',
      protocol: 'https:',
      hostname: 'ec2.eu-west-1.amazonaws.com',
      path: '/',
      headers: { host: 'ec2.eu-west-1.amazonaws.com', 'content-length': String(body.length), 'x-amz-date': 'd' },
      body,
    });
    const { response } = await h.handle(req('Action=DescribeInstances&Version=2016-11-15'));
    expect(response.statusCode).toBe(200);
    expect(new TextDecoder().decode(response.body)).toBe('<x/>');
    await h.handle(req('Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-0'));
    expect(seen.map((s) => s.init.idempotent)).toEqual([true, false]);
    expect(seen[0]!.url).toBe('https://ec2.eu-west-1.amazonaws.com/');
    const headers = seen[0]!.init.headers as Headers;
    expect(headers.get('host')).toBeNull();
    expect(headers.get('x-amz-date')).toBe('d');
  });
});
