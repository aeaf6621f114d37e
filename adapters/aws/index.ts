import {
  paginateDescribeInstances,
  paginateDescribeSecurityGroups,
  paginateDescribeVolumes,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { AdapterError, defineAdapter, defineResource, type AdapterContext, type ObjectInput } from 'kubegate/sdk';
import { ec2Client, explain, type Config } from './clients.ts';
import { toInstance, toSecurityGroup, toVolume } from './map.ts';
import { AwsConfig, InstanceSpec, InstanceStatus, SecurityGroupSpec, VolumeSpec, VolumeStatus } from './schema.ts';

/**
 * Reads one collection in every configured region at once, page by page through the SDK's paginator, and maps
 * each item. A region that fails fails the whole poll: returning the other regions alone would look like the
 * failed region's objects were deleted (the delete guard stops that only when they are more than its ratio).
 */
async function everyRegion<T>(
  ctx: AdapterContext<Config>,
  action: string,
  pages: (client: EC2Client, region: string) => AsyncIterable<T[]>,
  map: (item: T, region: string, prefix: string | undefined) => ObjectInput | string,
): Promise<ObjectInput[]> {
  const { regions, maxPages, tagLabelPrefix } = ctx.config;
  const all = await Promise.all(
    regions.map(async (region) => {
      const out: ObjectInput[] = [];
      let n = 0;
      try {
        for await (const items of pages(ec2Client(ctx, region), region)) {
          if (++n > maxPages)
            throw new AdapterError(`${action} in ${region} needs more than ${maxPages} pages (config maxPages)`);
          for (const item of items) {
            const o = map(item, region, tagLabelPrefix);
            if (typeof o === 'string') ctx.skip(o, item);
            else out.push(o);
          }
        }
      } catch (err) {
        throw explain(err, action, region);
      }
      return out;
    }),
  );
  return all.flat();
}

async function* flatten<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[]): AsyncIterable<T[]> {
  for await (const p of pages) yield items(p);
}

/**
 * An EC2 inventory: instances, volumes and security groups of the configured regions, mirrored with
 * `region` and `zone` labels and the resources' tags as labels. Every call goes through the entry's
 * resilience policy (see handler.ts); credentials come from the AWS SDK's default chain.
 */
export default defineAdapter({
  name: 'aws',
  group: 'ec2.aws.kubegate.dev',
  version: 'v1alpha1',
  config: AwsConfig,
  resources: [
    defineResource<Config>({
      kind: 'Instance',
      plural: 'instances',
      shortNames: ['ec2'],
      categories: ['external', 'aws'],
      scope: 'Cluster',
      mode: 'mirror',
      pollInterval: '30s',
      description: 'An EC2 instance of one of the configured regions, named by its instance id.',
      schema: { spec: InstanceSpec, status: InstanceStatus },
      columns: [
        { name: 'State', type: 'string', jsonPath: '.status.state' },
        { name: 'Type', type: 'string', jsonPath: '.spec.instanceType' },
        { name: 'Zone', type: 'string', jsonPath: '.spec.availabilityZone' },
        { name: 'Private-IP', type: 'string', jsonPath: '.status.privateIpAddress' },
        { name: 'Launched', type: 'date', jsonPath: '.status.launchTime', description: 'When it last started.' },
        { name: 'Instance-Name', type: 'string', jsonPath: '.spec.tags.Name', priority: 1 },
        { name: 'Public-IP', type: 'string', jsonPath: '.status.publicIpAddress', priority: 1 },
        { name: 'Image', type: 'string', jsonPath: '.spec.imageId', priority: 1 },
        { name: 'VPC', type: 'string', jsonPath: '.spec.vpcId', priority: 1 },
      ],
      fields: ['status.state', 'spec.instanceType', 'spec.availabilityZone', 'spec.region'],
      deleteGuard: { maxDeleteRatio: 0.5, minObjects: 4 },
      list: (ctx) =>
        everyRegion(
          ctx,
          'DescribeInstances',
          (client) =>
            flatten(
              paginateDescribeInstances(
                { client, pageSize: ctx.config.pageSize, stopOnSameToken: true },
                {},
                { abortSignal: ctx.signal },
              ),
              (p) => (p.Reservations ?? []).flatMap((r) => r.Instances ?? []),
            ),
          toInstance,
        ),
    }),
    defineResource<Config>({
      kind: 'Volume',
      plural: 'volumes',
      shortNames: ['ebs'],
      categories: ['external', 'aws'],
      scope: 'Cluster',
      mode: 'mirror',
      pollInterval: '60s',
      description: 'An EBS volume of one of the configured regions, named by its volume id.',
      schema: { spec: VolumeSpec, status: VolumeStatus },
      columns: [
        { name: 'State', type: 'string', jsonPath: '.status.state' },
        { name: 'Type', type: 'string', jsonPath: '.spec.volumeType' },
        { name: 'Size', type: 'integer', jsonPath: '.spec.sizeGiB', description: 'GiB.' },
        { name: 'Zone', type: 'string', jsonPath: '.spec.availabilityZone' },
        { name: 'Instance', type: 'string', jsonPath: '.status.attachments[0].instanceId' },
        { name: 'Encrypted', type: 'boolean', jsonPath: '.spec.encrypted', priority: 1 },
        { name: 'IOPS', type: 'integer', jsonPath: '.spec.iops', priority: 1 },
      ],
      fields: ['status.state', 'spec.volumeType', 'spec.region'],
      list: (ctx) =>
        everyRegion(
          ctx,
          'DescribeVolumes',
          (client) =>
            flatten(
              paginateDescribeVolumes(
                { client, pageSize: Math.min(ctx.config.pageSize, 500), stopOnSameToken: true },
                {},
                { abortSignal: ctx.signal },
              ),
              (p) => p.Volumes ?? [],
            ),
          toVolume,
        ),
    }),
    defineResource<Config>({
      kind: 'SecurityGroup',
      plural: 'securitygroups',
      shortNames: ['sg'],
      categories: ['external', 'aws'],
      scope: 'Cluster',
      mode: 'mirror',
      pollInterval: '120s',
      description: 'An EC2 security group of one of the configured regions, named by its group id.',
      schema: { spec: SecurityGroupSpec },
      columns: [
        { name: 'Group-Name', type: 'string', jsonPath: '.spec.groupName' },
        { name: 'VPC', type: 'string', jsonPath: '.spec.vpcId' },
        { name: 'Region', type: 'string', jsonPath: '.spec.region' },
        { name: 'Description', type: 'string', jsonPath: '.spec.description', priority: 1 },
      ],
      fields: ['spec.groupName', 'spec.region'],
      list: (ctx) =>
        everyRegion(
          ctx,
          'DescribeSecurityGroups',
          (client) =>
            flatten(
              paginateDescribeSecurityGroups(
                { client, pageSize: ctx.config.pageSize, stopOnSameToken: true },
                {},
                { abortSignal: ctx.signal },
              ),
              (p) => p.SecurityGroups ?? [],
            ),
          toSecurityGroup,
        ),
    }),
  ],
});
