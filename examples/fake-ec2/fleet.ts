/**
 * The fake's truth: instances, volumes and security groups in a few regions, generated from a seed and changed
 * step by step (instances stop, start, terminate and are launched), so two fakes with the same seed and the
 * same steps hold the same data.
 */

export const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'] as const;

/** EC2's instance state names with their codes (the low byte of `instanceState.code`). */
export const STATE_CODES = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
} as const;
export type StateName = keyof typeof STATE_CODES;

export interface Tag {
  key: string;
  value: string;
}

export interface Instance {
  instanceId: string;
  reservationId: string;
  region: string;
  zone: string;
  instanceType: string;
  imageId: string;
  state: StateName;
  /** Why the instance last changed state, as EC2 words it (`User initiated (...)`). */
  stateTransitionReason: string;
  privateIpAddress: string;
  publicIpAddress: string | undefined;
  launchTime: Date;
  vpcId: string;
  subnetId: string;
  architecture: 'x86_64' | 'arm64';
  keyName: string | undefined;
  groupIds: string[];
  volumeIds: string[];
  tags: Tag[];
  /** Step at which a terminated instance disappears from answers (EC2 keeps them visible for a while). */
  goneAt?: number;
}

export interface Volume {
  volumeId: string;
  region: string;
  zone: string;
  size: number;
  volumeType: 'gp3' | 'gp2' | 'io2' | 'st1';
  iops: number | undefined;
  encrypted: boolean;
  createTime: Date;
  /** The instance it is attached to (as `/dev/xvda` or `/dev/sdf`), or none. */
  instanceId: string | undefined;
  device: string | undefined;
  tags: Tag[];
}

export interface SecurityGroup {
  groupId: string;
  groupName: string;
  description: string;
  region: string;
  vpcId: string;
  /** Inbound rules: protocol, port range, CIDR blocks. */
  ingress: { protocol: string; fromPort: number; toPort: number; cidrs: string[] }[];
  tags: Tag[];
}

export interface Region {
  name: string;
  ownerId: string;
  instances: Map<string, Instance>;
  volumes: Map<string, Volume>;
  groups: Map<string, SecurityGroup>;
}

/** mulberry32: a small deterministic generator, good enough for test data. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ['t3.micro', 't3.small', 't3.medium', 'm5.large', 'm6g.large', 'c5.xlarge', 'r5.2xlarge'];
const TEAMS = ['payments', 'search', 'platform', 'data', 'web'];
const ENVS = ['prod', 'staging', 'dev'];
const OWNER = '123456789012';

export interface FleetOptions {
  /** Instances in all regions together (split evenly); default 3000. */
  instances?: number;
  seed?: number;
  regions?: readonly string[];
  /** Wall clock the launch times are counted back from; default now. */
  now?: Date;
}

export interface Fleet {
  regions: Map<string, Region>;
  /** Steps taken so far. */
  step: number;
  /** One step of change: a few instances in each region start, stop, terminate or launch. */
  advance(now?: Date): void;
  /** Sets one instance's state as a user would (stop/start/terminate); false when it does not exist. */
  setState(instanceId: string, state: StateName, now?: Date): boolean;
  /** Every instance visible in answers, across regions. */
  visibleInstances(): Instance[];
}

export function createFleet(o: FleetOptions = {}): Fleet {
  const rnd = random(o.seed ?? 1);
  const now = o.now ?? new Date();
  const names = o.regions ?? REGIONS;
  const perRegion = Math.ceil((o.instances ?? 3000) / names.length);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const regions = new Map<string, Region>();
  let serial = 0;

  const launch = (r: Region, at: Date, state: StateName): Instance => {
    const zones = ['a', 'b', 'c'].map((z) => `${r.name}${z}`);
    const zone = pick(zones);
    const team = pick(TEAMS);
    const env = pick(ENVS);
    const n = serial++;
    const tags: Tag[] = [
      { key: 'Name', value: `${team}-${env}-${n}` },
      { key: 'team', value: team },
      { key: 'env', value: env },
    ];
    // Tags as accounts really have them: spaces, colons, AWS's own, and values a label cannot hold.
    if (rnd() < 0.3) tags.push({ key: 'Cost Center', value: `CC ${Math.floor(rnd() * 90 + 10)}` });
    if (rnd() < 0.2) tags.push({ key: 'aws:cloudformation:stack-name', value: `${team}-stack` });
    if (rnd() < 0.05) tags.push({ key: 'owner', value: '@@@' });
    const groups = [...r.groups.values()];
    const inst: Instance = {
      instanceId: `i-0${hex(16)}`,
      reservationId: `r-0${hex(16)}`,
      region: r.name,
      zone,
      instanceType: pick(TYPES),
      imageId: `ami-0${hex(16)}`,
      state,
      stateTransitionReason: '',
      privateIpAddress: `10.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 254) + 1}`,
      publicIpAddress:
        rnd() < 0.3
          ? `${Math.floor(rnd() * 200) + 3}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 254) + 1}`
          : undefined,
      launchTime: at,
      vpcId: `vpc-0${r.name.length}${hex(15)}`,
      subnetId: `subnet-0${hex(16)}`,
      architecture: rnd() < 0.2 ? 'arm64' : 'x86_64',
      keyName: rnd() < 0.5 ? `${team}-key` : undefined,
      groupIds: groups.length > 0 ? [pick(groups).groupId] : [],
      volumeIds: [],
      tags,
    };
    const root: Volume = {
      volumeId: `vol-0${hex(16)}`,
      region: r.name,
      zone,
      size: pick([8, 20, 50, 100]),
      volumeType: pick(['gp3', 'gp3', 'gp2', 'io2'] as const),
      iops: undefined,
      encrypted: rnd() < 0.7,
      createTime: at,
      instanceId: inst.instanceId,
      device: '/dev/xvda',
      tags: [{ key: 'team', value: team }],
    };
    if (root.volumeType === 'io2') root.iops = 3000;
    if (root.volumeType === 'gp3') root.iops = 3000;
    inst.volumeIds.push(root.volumeId);
    r.instances.set(inst.instanceId, inst);
    r.volumes.set(root.volumeId, root);
    return inst;
  };

  for (const name of names) {
    const r: Region = { name, ownerId: OWNER, instances: new Map(), volumes: new Map(), groups: new Map() };
    regions.set(name, r);
    for (let g = 0; g < 12; g++) {
      const team = TEAMS[g % TEAMS.length] ?? 'web';
      const sg: SecurityGroup = {
        groupId: `sg-0${hex(16)}`,
        groupName: g === 0 ? 'default' : `${team}-${g}`,
        description: g === 0 ? 'default VPC security group' : `${team} services`,
        region: name,
        vpcId: `vpc-0${name.length}${hex(15)}`,
        ingress:
          g === 0
            ? []
            : [
                { protocol: 'tcp', fromPort: 443, toPort: 443, cidrs: ['0.0.0.0/0'] },
                { protocol: 'tcp', fromPort: 22, toPort: 22, cidrs: ['10.0.0.0/8'] },
              ],
        tags: g === 0 ? [] : [{ key: 'team', value: team }],
      };
      r.groups.set(sg.groupId, sg);
    }
    for (let i = 0; i < perRegion; i++) {
      const age = Math.floor(rnd() * 90 * 86_400_000);
      launch(r, new Date(now.getTime() - age), rnd() < 0.8 ? 'running' : 'stopped');
    }
    // A few detached volumes, as every account has.
    for (let v = 0; v < Math.ceil(perRegion / 20); v++) {
      const vol: Volume = {
        volumeId: `vol-0${hex(16)}`,
        region: name,
        zone: `${name}${pick(['a', 'b', 'c'])}`,
        size: pick([100, 500, 1000]),
        volumeType: pick(['gp3', 'st1'] as const),
        iops: undefined,
        encrypted: true,
        createTime: new Date(now.getTime() - Math.floor(rnd() * 30 * 86_400_000)),
        instanceId: undefined,
        device: undefined,
        tags: [{ key: 'purpose', value: 'backup' }],
      };
      r.volumes.set(vol.volumeId, vol);
    }
  }

  const fleet: Fleet = {
    regions,
    step: 0,
    setState(instanceId, state, at = new Date()) {
      for (const r of regions.values()) {
        const inst = r.instances.get(instanceId);
        if (!inst) continue;
        inst.state = state;
        if (state === 'stopping' || state === 'stopped' || state === 'shutting-down')
          inst.stateTransitionReason = `User initiated (${at.toISOString().slice(0, 19).replace('T', ' ')} GMT)`;
        if (state === 'pending' || state === 'running') {
          inst.stateTransitionReason = '';
          inst.launchTime = at;
        }
        if (state === 'terminated') {
          inst.goneAt = fleet.step + 5;
          for (const v of inst.volumeIds) r.volumes.delete(v);
          inst.volumeIds = [];
          inst.publicIpAddress = undefined;
        }
        return true;
      }
      return false;
    },
    advance(at = new Date()) {
      fleet.step++;
      for (const r of regions.values()) {
        // Transitions started in the previous step complete, as EC2's do within a minute or two.
        for (const inst of r.instances.values()) {
          if (inst.state === 'pending') fleet.setState(inst.instanceId, 'running', at);
          else if (inst.state === 'stopping') fleet.setState(inst.instanceId, 'stopped', at);
          else if (inst.state === 'shutting-down') fleet.setState(inst.instanceId, 'terminated', at);
          else if (inst.state === 'terminated' && (inst.goneAt ?? 0) <= fleet.step) r.instances.delete(inst.instanceId);
        }
        const ids = [...r.instances.keys()];
        const changes = Math.max(1, Math.round(ids.length / 500));
        for (let c = 0; c < changes; c++) {
          const inst = r.instances.get(ids[Math.floor(rnd() * ids.length)] ?? '');
          if (!inst) continue;
          const roll = rnd();
          if (inst.state === 'running') fleet.setState(inst.instanceId, roll < 0.7 ? 'stopping' : 'shutting-down', at);
          else if (inst.state === 'stopped') fleet.setState(inst.instanceId, 'pending', at);
        }
        // Launches keep the population steady against terminations.
        const live = [...r.instances.values()].filter((i) => i.state !== 'terminated').length;
        for (let n = live; n < perRegion; n++) launch(r, at, 'pending');
      }
    },
    visibleInstances: () => [...regions.values()].flatMap((r) => [...r.instances.values()]),
  };
  return fleet;
}
