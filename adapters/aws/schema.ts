import { Type } from 'kubegate/sdk';

export const AwsConfig = Type.Object(
  {
    regions: Type.Array(Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$', description: 'e.g. "eu-west-1".' }), {
      minItems: 1,
      maxItems: 40,
      uniqueItems: true,
      description: 'The regions to list: every poll reads each of them (the `region` label).',
    }),
    endpoint: Type.Optional(
      Type.String({
        format: 'uri',
        description:
          'An EC2 endpoint for every region instead of the regional ones (a VPC endpoint, or a fake in tests).',
      }),
    ),
    profile: Type.Optional(
      Type.String({ minLength: 1, description: 'A profile of the shared config/credentials files to use.' }),
    ),
    pageSize: Type.Integer({
      minimum: 5,
      maximum: 1000,
      default: 1000,
      description: 'MaxResults of each Describe call (EC2 allows up to 1000; volumes are read at most 500 at a time).',
    }),
    maxPages: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 200,
      description: 'Pages read per region and resource in one poll; a poll needing more fails instead of growing.',
    }),
    tagLabelPrefix: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
        description: 'Prefix of labels made from tags (`tags.example.com/team`); default none (`team`).',
      }),
    ),
  },
  { additionalProperties: false },
);

const Tags = Type.Record(Type.String(), Type.String(), { description: "The resource's EC2 tags, exactly as set." });

export const InstanceSpec = Type.Object({
  region: Type.String(),
  availabilityZone: Type.String(),
  instanceType: Type.String({ description: 'e.g. "t3.micro".' }),
  imageId: Type.String(),
  architecture: Type.Optional(Type.String()),
  vpcId: Type.Optional(Type.String()),
  subnetId: Type.Optional(Type.String()),
  keyName: Type.Optional(Type.String()),
  securityGroups: Type.Array(Type.Object({ groupId: Type.String(), groupName: Type.String() })),
  volumeIds: Type.Array(Type.String()),
  tags: Tags,
});

export const InstanceStatus = Type.Object({
  state: Type.Union(
    ['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped'].map((s) => Type.Literal(s)),
    { description: 'EC2 instance state name.' },
  ),
  stateReason: Type.Optional(Type.String({ description: 'Why the instance last changed state, as EC2 words it.' })),
  launchTime: Type.String({ format: 'date-time', description: 'When the instance last started.' }),
  privateIpAddress: Type.Optional(Type.String()),
  publicIpAddress: Type.Optional(Type.String()),
  privateDnsName: Type.Optional(Type.String()),
});

export const VolumeSpec = Type.Object({
  region: Type.String(),
  availabilityZone: Type.String(),
  volumeType: Type.String({ description: 'e.g. "gp3".' }),
  sizeGiB: Type.Integer(),
  iops: Type.Optional(Type.Integer()),
  encrypted: Type.Boolean(),
  snapshotId: Type.Optional(Type.String()),
  tags: Tags,
});

export const VolumeStatus = Type.Object({
  state: Type.String({ description: 'creating, available, in-use, deleting, deleted or error.' }),
  createTime: Type.String({ format: 'date-time' }),
  attachments: Type.Array(
    Type.Object({
      instanceId: Type.String(),
      device: Type.Optional(Type.String()),
      state: Type.Optional(Type.String()),
    }),
  ),
});

const Rule = Type.Object({
  protocol: Type.String({ description: 'tcp, udp, icmp, or -1 for all.' }),
  fromPort: Type.Optional(Type.Integer()),
  toPort: Type.Optional(Type.Integer()),
  cidrs: Type.Array(Type.String()),
  groups: Type.Array(Type.String({ description: 'Security group ids allowed.' })),
});

export const SecurityGroupSpec = Type.Object({
  region: Type.String(),
  groupName: Type.String(),
  description: Type.String(),
  vpcId: Type.Optional(Type.String()),
  ingress: Type.Array(Rule),
  egress: Type.Array(Rule),
  tags: Tags,
});
