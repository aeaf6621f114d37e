import type { Instance, Region, SecurityGroup, Tag, Volume } from './fleet.ts';
import { STATE_CODES } from './fleet.ts';

/**
 * EC2 Query protocol answers as the EC2 API reference documents them: `<ActionResponse>` in the
 * `http://ec2.amazonaws.com/doc/2016-11-15/` namespace, lists as `<xxxSet><item>…</item></xxxSet>`, and
 * errors as `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`.
 */

export const NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c] ?? c);

/** `<name>value</name>`, or nothing when the value is undefined (EC2 leaves absent members out). */
function el(name: string, v: string | number | boolean | undefined): string {
  if (v === undefined) return '';
  return `<${name}>${esc(String(v))}</${name}>`;
}
const set = (name: string, items: string[]) =>
  items.length === 0 ? `<${name}/>` : `<${name}>${items.map((i) => `<item>${i}</item>`).join('')}</${name}>`;
const time = (d: Date) => d.toISOString();
const tagSet = (tags: Tag[]) =>
  set(
    'tagSet',
    tags.map((t) => el('key', t.key) + el('value', t.value)),
  );

export function instanceXml(i: Instance, r: Region): string {
  const dns = `ip-${i.privateIpAddress.replaceAll('.', '-')}.${i.region}.compute.internal`;
  const running = i.state !== 'stopped' && i.state !== 'terminated' && i.state !== 'stopping';
  const pub = running ? i.publicIpAddress : undefined;
  return (
    el('instanceId', i.instanceId) +
    el('imageId', i.imageId) +
    `<instanceState>${el('code', STATE_CODES[i.state])}${el('name', i.state)}</instanceState>` +
    el('privateDnsName', i.state === 'terminated' ? '' : dns) +
    el('dnsName', pub ? `ec2-${pub.replaceAll('.', '-')}.${i.region}.compute.amazonaws.com` : '') +
    el('reason', i.stateTransitionReason) +
    el('keyName', i.keyName) +
    el('amiLaunchIndex', 0) +
    '<productCodes/>' +
    el('instanceType', i.instanceType) +
    el('launchTime', time(i.launchTime)) +
    `<placement>${el('availabilityZone', i.zone)}<groupName/>${el('tenancy', 'default')}</placement>` +
    `<monitoring>${el('state', 'disabled')}</monitoring>` +
    (i.state === 'terminated' ? '' : el('subnetId', i.subnetId) + el('vpcId', i.vpcId)) +
    (i.state === 'terminated' ? '' : el('privateIpAddress', i.privateIpAddress)) +
    el('ipAddress', pub) +
    el('sourceDestCheck', true) +
    set(
      'groupSet',
      i.groupIds.map((g) => el('groupId', g) + el('groupName', r.groups.get(g)?.groupName ?? 'default')),
    ) +
    el('architecture', i.architecture) +
    el('rootDeviceType', 'ebs') +
    el('rootDeviceName', '/dev/xvda') +
    set(
      'blockDeviceMapping',
      i.volumeIds.map(
        (v) =>
          el('deviceName', r.volumes.get(v)?.device ?? '/dev/xvda') +
          `<ebs>${el('volumeId', v)}${el('status', 'attached')}${el('attachTime', time(i.launchTime))}` +
          `${el('deleteOnTermination', true)}</ebs>`,
      ),
    ) +
    el('virtualizationType', 'hvm') +
    '<clientToken/>' +
    tagSet(i.tags) +
    el('hypervisor', i.instanceType.startsWith('t3') ? 'xen' : 'nitro') +
    el('ebsOptimized', false)
  );
}

/** One reservation holding the given instances (EC2 groups instances launched together). */
export function reservationXml(r: Region, reservationId: string, instances: Instance[]): string {
  return (
    el('reservationId', reservationId) +
    el('ownerId', r.ownerId) +
    '<groupSet/>' +
    set(
      'instancesSet',
      instances.map((i) => instanceXml(i, r)),
    )
  );
}

export function volumeXml(v: Volume): string {
  return (
    el('volumeId', v.volumeId) +
    el('size', v.size) +
    '<snapshotId/>' +
    el('availabilityZone', v.zone) +
    el('status', v.instanceId ? 'in-use' : 'available') +
    el('createTime', time(v.createTime)) +
    set(
      'attachmentSet',
      v.instanceId
        ? [
            el('volumeId', v.volumeId) +
              el('instanceId', v.instanceId) +
              el('device', v.device) +
              el('status', 'attached') +
              el('attachTime', time(v.createTime)) +
              el('deleteOnTermination', true),
          ]
        : [],
    ) +
    tagSet(v.tags) +
    el('volumeType', v.volumeType) +
    el('iops', v.iops) +
    el('encrypted', v.encrypted) +
    el('multiAttachEnabled', false)
  );
}

export function securityGroupXml(g: SecurityGroup, ownerId: string): string {
  return (
    el('ownerId', ownerId) +
    el('groupId', g.groupId) +
    el('groupName', g.groupName) +
    el('groupDescription', g.description) +
    el('vpcId', g.vpcId) +
    set(
      'ipPermissions',
      g.ingress.map(
        (p) =>
          el('ipProtocol', p.protocol) +
          el('fromPort', p.fromPort) +
          el('toPort', p.toPort) +
          '<groups/>' +
          set(
            'ipRanges',
            p.cidrs.map((c) => el('cidrIp', c)),
          ) +
          '<ipv6Ranges/><prefixListIds/>',
      ),
    ) +
    set('ipPermissionsEgress', [
      el('ipProtocol', '-1') +
        '<groups/>' +
        set('ipRanges', [el('cidrIp', '0.0.0.0/0')]) +
        '<ipv6Ranges/><prefixListIds/>',
    ]) +
    tagSet(g.tags)
  );
}

/** A successful answer: `<{Action}Response xmlns=…><requestId/>…</{Action}Response>`. */
export function answer(action: string, requestId: string, body: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NAMESPACE}">` +
    `${el('requestId', requestId)}${body}</${action}Response>`
  );
}

/** An error answer as EC2 sends it (note `RequestID`, not `requestId`). */
export function errorXml(code: string, message: string, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${el('Code', code)}${el('Message', message)}` +
    `</Error></Errors>${el('RequestID', requestId)}</Response>`
  );
}

export { el, set };
