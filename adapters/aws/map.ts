import type { Instance, IpPermission, SecurityGroup, Tag, Volume } from '@aws-sdk/client-ec2';
import { labelsFromTags, type ObjectInput } from 'kubegate/sdk';

/** Labels kubegate sets itself; a tag mapping to one of them is reported rather than overriding it. */
const OWN_LABELS = new Set(['region', 'zone']);
export const UNMAPPED_ANNOTATION = 'ec2.aws.kubegate.dev/unmapped-tags';

const iso = (d: Date | undefined): string | undefined => d?.toISOString().replace(/\.\d{3}Z$/, 'Z');
const tagMap = (tags: Tag[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key ?? '', t.Value ?? '']));

/**
 * `region` and `zone` labels plus one label per tag, mapped by the SDK's rules (`Cost Center` → `Cost-Center`).
 * Tags that cannot become labels are listed with the reason in an annotation; every tag stays in `spec.tags`.
 */
export function labelsAndAnnotations(
  tags: Tag[] | undefined,
  where: { region: string; zone?: string | undefined },
  prefix: string | undefined,
): Pick<ObjectInput, 'labels' | 'annotations'> {
  const pairs = (tags ?? [])
    .filter((t) => t.Key !== undefined)
    .map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' }));
  const mapped = labelsFromTags(pairs, prefix === undefined ? {} : { prefix });
  const unmapped = mapped.unmapped;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(mapped.labels)) {
    if (!OWN_LABELS.has(k)) labels[k] = v;
    else {
      const from = pairs.find((p) => p.key === k)?.key ?? k;
      unmapped.push({ tag: from, reason: `the label "${k}" is the ${k} the object is in` });
    }
  }
  return {
    labels: { ...labels, region: where.region, ...(where.zone ? { zone: where.zone } : {}) },
    ...(unmapped.length > 0 ? { annotations: { [UNMAPPED_ANNOTATION]: JSON.stringify(unmapped) } } : {}),
  };
}

/** One EC2 instance as an Instance object; a string when it cannot become one (the reason to skip it). */
export function toInstance(i: Instance, region: string, prefix: string | undefined): ObjectInput | string {
  if (!i.InstanceId) return 'an instance has no InstanceId';
  const state = i.State?.Name;
  if (!state) return 'an instance has no State.Name';
  const launchTime = iso(i.LaunchTime);
  if (!launchTime) return 'an instance has no LaunchTime';
  const zone = i.Placement?.AvailabilityZone;
  if (!zone) return 'an instance has no Placement.AvailabilityZone';
  return {
    name: i.InstanceId,
    ...labelsAndAnnotations(i.Tags, { region, zone }, prefix),
    spec: {
      region,
      availabilityZone: zone,
      instanceType: i.InstanceType ?? '',
      imageId: i.ImageId ?? '',
      ...(i.Architecture ? { architecture: i.Architecture } : {}),
      ...(i.VpcId ? { vpcId: i.VpcId } : {}),
      ...(i.SubnetId ? { subnetId: i.SubnetId } : {}),
      ...(i.KeyName ? { keyName: i.KeyName } : {}),
      securityGroups: (i.SecurityGroups ?? []).map((g) => ({ groupId: g.GroupId ?? '', groupName: g.GroupName ?? '' })),
      volumeIds: (i.BlockDeviceMappings ?? []).flatMap((b) => (b.Ebs?.VolumeId ? [b.Ebs.VolumeId] : [])),
      tags: tagMap(i.Tags),
    },
    status: {
      state,
      ...(i.StateTransitionReason ? { stateReason: i.StateTransitionReason } : {}),
      launchTime,
      ...(i.PrivateIpAddress ? { privateIpAddress: i.PrivateIpAddress } : {}),
      ...(i.PublicIpAddress ? { publicIpAddress: i.PublicIpAddress } : {}),
      ...(i.PrivateDnsName ? { privateDnsName: i.PrivateDnsName } : {}),
    },
  };
}

export function toVolume(v: Volume, region: string, prefix: string | undefined): ObjectInput | string {
  if (!v.VolumeId) return 'a volume has no VolumeId';
  const createTime = iso(v.CreateTime);
  if (!createTime) return 'a volume has no CreateTime';
  if (!v.AvailabilityZone) return 'a volume has no AvailabilityZone';
  return {
    name: v.VolumeId,
    creationTimestamp: createTime,
    ...labelsAndAnnotations(v.Tags, { region, zone: v.AvailabilityZone }, prefix),
    spec: {
      region,
      availabilityZone: v.AvailabilityZone,
      volumeType: v.VolumeType ?? '',
      sizeGiB: v.Size ?? 0,
      ...(v.Iops !== undefined ? { iops: v.Iops } : {}),
      encrypted: v.Encrypted ?? false,
      ...(v.SnapshotId ? { snapshotId: v.SnapshotId } : {}),
      tags: tagMap(v.Tags),
    },
    status: {
      state: v.State ?? '',
      createTime,
      attachments: (v.Attachments ?? []).flatMap((a) =>
        a.InstanceId
          ? [
              {
                instanceId: a.InstanceId,
                ...(a.Device ? { device: a.Device } : {}),
                ...(a.State ? { state: a.State } : {}),
              },
            ]
          : [],
      ),
    },
  };
}

const rules = (ps: IpPermission[] | undefined) =>
  (ps ?? []).map((p) => ({
    protocol: p.IpProtocol ?? '-1',
    ...(p.FromPort !== undefined ? { fromPort: p.FromPort } : {}),
    ...(p.ToPort !== undefined ? { toPort: p.ToPort } : {}),
    cidrs: [
      ...(p.IpRanges ?? []).flatMap((r) => (r.CidrIp ? [r.CidrIp] : [])),
      ...(p.Ipv6Ranges ?? []).flatMap((r) => (r.CidrIpv6 ? [r.CidrIpv6] : [])),
    ],
    groups: (p.UserIdGroupPairs ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : [])),
  }));

export function toSecurityGroup(g: SecurityGroup, region: string, prefix: string | undefined): ObjectInput | string {
  if (!g.GroupId) return 'a security group has no GroupId';
  return {
    name: g.GroupId,
    ...labelsAndAnnotations(g.Tags, { region }, prefix),
    spec: {
      region,
      groupName: g.GroupName ?? '',
      description: g.Description ?? '',
      ...(g.VpcId ? { vpcId: g.VpcId } : {}),
      ingress: rules(g.IpPermissions),
      egress: rules(g.IpPermissionsEgress),
      tags: tagMap(g.Tags),
    },
  };
}
