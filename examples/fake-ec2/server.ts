import { randomUUID } from 'node:crypto';
import http from 'node:http';
import {
  createFleet,
  REGIONS,
  type Fleet,
  type FleetOptions,
  type Instance,
  type StateName,
  type Tag,
} from './fleet.ts';
import { answer, errorXml, reservationXml, securityGroupXml, set, volumeXml, el } from './xml.ts';

/**
 * A fake of the EC2 API's Query protocol for the read actions an inventory needs: `POST /` with a
 * form-encoded body `Action=DescribeInstances&Version=2016-11-15&…`, answered in XML as the EC2 API
 * reference documents it. The region is the one of the request's SigV4 credential scope (`Credential=
 * AKID/date/REGION/ec2/aws4_request`), so one fake serves every region at one endpoint.
 *
 * - DescribeInstances, DescribeVolumes, DescribeSecurityGroups with `MaxResults`/`NextToken` paging
 *   (MaxResults out of EC2's range is an `InvalidParameterValue`) and `Filter.N.Name`/`Filter.N.Value.M`
 *   filters (instance-state-name, instance-type, availability-zone, instance-id, tag:KEY, tag-key; volumes:
 *   status, volume-type, availability-zone, attachment.instance-id; groups: group-name, vpc-id). An unknown
 *   filter is an `InvalidParameterValue`, like EC2's.
 * - `RequestLimitExceeded` (HTTP 503) while throttling is on, as EC2 throttles an account.
 * - A request without a SigV4 `Authorization` header is an `AuthFailure` (401); a denied action (`deny`) an
 *   `UnauthorizedOperation` (403).
 */
export interface FakeEc2 {
  url: string;
  fleet: Fleet;
  /** Calls per action (all regions), throttled ones included. */
  calls: Record<string, number>;
  /** Calls answered with RequestLimitExceeded. */
  throttled: number;
  /** Throttles every call (true), the next `n` calls (a number), or none (false). */
  throttle(on: boolean | number): void;
  /** Answers `UnauthorizedOperation` (403) to this action, as EC2 does without the IAM permission; null: no more. */
  deny(action: string | null): void;
  /** Stops the automatic steps (the data only changes through the hooks below). */
  freeze(): void;
  unfreeze(): void;
  /** One step of change now. */
  tick(): void;
  /** Sets an instance's state now, as `aws ec2 stop-instances` would end; false when it does not exist. */
  setState(instanceId: string, state: StateName): boolean;
  /** The instances a caller would see right now (the truth tests compare against). */
  instances(): Instance[];
  close(): Promise<void>;
}

export interface FakeEc2Options extends FleetOptions {
  port?: number;
  host?: string;
  /** How often the fleet changes by itself (ms); 0 (default) only on `tick()`. */
  tickMs?: number;
  /** Largest request body accepted (bytes). */
  maxBodyBytes?: number;
}

class QueryError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const RANGES: Record<string, [number, number]> = {
  DescribeInstances: [5, 1000],
  DescribeVolumes: [5, 500],
  DescribeSecurityGroups: [5, 1000],
};
const FILTERS: Record<string, string[]> = {
  DescribeInstances: ['instance-state-name', 'instance-type', 'availability-zone', 'instance-id', 'tag-key'],
  DescribeVolumes: ['status', 'volume-type', 'availability-zone', 'attachment.instance-id', 'tag-key'],
  DescribeSecurityGroups: ['group-name', 'group-id', 'vpc-id', 'tag-key'],
};

type Filters = Map<string, string[]>;

/** `Filter.N.Name` / `Filter.N.Value.M` as a map of name → accepted values. */
function parseFilters(q: URLSearchParams, action: string): Filters {
  const out: Filters = new Map();
  for (const [k, name] of q) {
    const m = /^Filter\.(\d+)\.Name$/.exec(k);
    if (!m) continue;
    if (!(FILTERS[action] ?? []).includes(name) && !name.startsWith('tag:'))
      throw new QueryError('InvalidParameterValue', `The filter '${name}' is invalid`);
    const values: string[] = [];
    for (const [vk, v] of q) if (vk.startsWith(`Filter.${m[1]}.Value.`)) values.push(v);
    out.set(name, values);
  }
  return out;
}

/** EC2 filter values allow `*` and `?` wildcards. */
function matches(values: string[], v: string | undefined): boolean {
  if (v === undefined) return false;
  return values.some((p) =>
    p.includes('*') || p.includes('?')
      ? new RegExp(
          `^${p
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replaceAll('*', '.*')
            .replaceAll('?', '.')}$`,
        ).test(v)
      : p === v,
  );
}

function tagMatch(name: string, values: string[], tags: Tag[]): boolean | undefined {
  if (name === 'tag-key') return tags.some((t) => matches(values, t.key));
  if (name.startsWith('tag:')) {
    const key = name.slice(4);
    return tags.some((t) => t.key === key && matches(values, t.value));
  }
  return undefined;
}

/** The opaque NextToken: the offset, base64 with a marker so a token from another action is refused. */
const token = (action: string, offset: number) => Buffer.from(`${action}:${offset}`).toString('base64');
function offsetOf(action: string, t: string | null): number {
  if (t === null) return 0;
  const m = new RegExp(`^${action}:(\\d+)$`).exec(Buffer.from(t, 'base64').toString());
  if (!m) throw new QueryError('InvalidParameterValue', 'The token is not valid');
  return Number(m[1]);
}

function pageSize(q: URLSearchParams, action: string): number | undefined {
  const raw = q.get('MaxResults');
  if (raw === null) return undefined;
  const [lo, hi] = RANGES[action] ?? [5, 1000];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < lo || n > hi)
    throw new QueryError(
      'InvalidParameterValue',
      `Value ( ${raw} ) for parameter maxResults is invalid. Expecting a value between ${lo} and ${hi}.`,
    );
  return n;
}

function ids(q: URLSearchParams, prefix: string): string[] {
  return [...q].filter(([k]) => new RegExp(`^${prefix}\\.\\d+$`).test(k)).map(([, v]) => v);
}

export async function startFakeEc2(o: FakeEc2Options = {}): Promise<FakeEc2> {
  const fleet = createFleet(o);
  const calls: Record<string, number> = {};
  let throttle: boolean | number = false;
  let frozen = false;
  let denied: string | null = null;
  const maxBody = o.maxBodyBytes ?? 64 << 10;
  const timer = o.tickMs ? setInterval(() => frozen || fleet.advance(), o.tickMs) : undefined;
  timer?.unref();

  const describe = (action: string, region: string, q: URLSearchParams): string => {
    const r = fleet.regions.get(region);
    if (!r) throw new QueryError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
    const filters = parseFilters(q, action);
    const size = pageSize(q, action);
    const from = offsetOf(action, q.get('NextToken'));
    const page = <T>(all: T[], body: (items: T[]) => string) => {
      const items = size === undefined ? all.slice(from) : all.slice(from, from + size);
      const next = size !== undefined && from + size < all.length ? token(action, from + size) : undefined;
      return body(items) + (next ? el('nextToken', next) : '');
    };
    switch (action) {
      case 'DescribeInstances': {
        const wanted = ids(q, 'InstanceId');
        if (wanted.length > 0 && size !== undefined)
          throw new QueryError(
            'InvalidParameterCombination',
            'The parameter instancesSet cannot be used with the parameter maxResults',
          );
        const all = [...r.instances.values()].filter((i) => {
          if (wanted.length > 0 && !wanted.includes(i.instanceId)) return false;
          for (const [name, values] of filters) {
            const t = tagMatch(name, values, i.tags);
            if (t === false) return false;
            if (t === undefined) {
              const v = {
                'instance-state-name': i.state,
                'instance-type': i.instanceType,
                'availability-zone': i.zone,
                'instance-id': i.instanceId,
              }[name];
              if (!matches(values, v)) return false;
            }
          }
          return true;
        });
        const missing = wanted.find((w) => !r.instances.has(w));
        if (missing) throw new QueryError('InvalidInstanceID.NotFound', `The instance ID '${missing}' does not exist`);
        return page(all, (items) =>
          set(
            'reservationSet',
            items.map((i) => reservationXml(r, i.reservationId, [i])),
          ),
        );
      }
      case 'DescribeVolumes': {
        const all = [...r.volumes.values()].filter((v) => {
          for (const [name, values] of filters) {
            const t = tagMatch(name, values, v.tags);
            if (t === false) return false;
            if (t === undefined) {
              const x = {
                status: v.instanceId ? 'in-use' : 'available',
                'volume-type': v.volumeType,
                'availability-zone': v.zone,
                'attachment.instance-id': v.instanceId,
              }[name];
              if (!matches(values, x)) return false;
            }
          }
          return true;
        });
        return page(all, (items) => set('volumeSet', items.map(volumeXml)));
      }
      case 'DescribeSecurityGroups': {
        const all = [...r.groups.values()].filter((g) => {
          for (const [name, values] of filters) {
            const t = tagMatch(name, values, g.tags);
            if (t === false) return false;
            if (t === undefined) {
              const x = { 'group-name': g.groupName, 'group-id': g.groupId, 'vpc-id': g.vpcId }[name];
              if (!matches(values, x)) return false;
            }
          }
          return true;
        });
        return page(all, (items) =>
          set(
            'securityGroupInfo',
            items.map((g) => securityGroupXml(g, r.ownerId)),
          ),
        );
      }
      default:
        throw new QueryError('InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  };

  const reply = (res: http.ServerResponse, status: number, xml: string, requestId: string) => {
    res.writeHead(status, {
      'content-type': 'text/xml;charset=UTF-8',
      'x-amzn-requestid': requestId,
      'content-length': Buffer.byteLength(xml),
    });
    res.end(xml);
  };

  const server = http.createServer((req, res) => {
    const requestId = randomUUID();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= maxBody) chunks.push(c);
    });
    req.on('end', () => {
      try {
        if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/')
          throw new QueryError('InvalidAction', 'The action is not valid for this web service.');
        if (size > maxBody) throw new QueryError('InvalidRequest', 'The request body is too large.', 413);
        const q = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const action = q.get('Action') ?? '';
        calls[action] = (calls[action] ?? 0) + 1;
        if (q.get('Version') !== '2016-11-15')
          throw new QueryError('InvalidParameterValue', 'The API version is not supported.');
        const scope = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/ec2\/aws4_request/.exec(req.headers.authorization ?? '');
        if (!scope?.[1] || !req.headers['x-amz-date'])
          throw new QueryError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
        if (action === denied)
          throw new QueryError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403);
        if (throttle === true || (typeof throttle === 'number' && throttle > 0)) {
          if (typeof throttle === 'number') throttle--;
          state.throttled++;
          throw new QueryError('RequestLimitExceeded', 'Request limit exceeded.', 503);
        }
        reply(res, 200, answer(action, requestId, describe(action, scope[1], q)), requestId);
      } catch (err) {
        const e =
          err instanceof QueryError ? err : new QueryError('InternalError', 'An internal error has occurred', 500);
        reply(res, e.status, errorXml(e.code, e.message, requestId), requestId);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve));
  const addr = server.address();
  const state: FakeEc2 = {
    url: `http://${o.host ?? '127.0.0.1'}:${typeof addr === 'object' && addr ? addr.port : 0}`,
    fleet,
    calls,
    throttled: 0,
    throttle: (on) => (throttle = on),
    deny: (action) => (denied = action),
    freeze: () => (frozen = true),
    unfreeze: () => (frozen = false),
    tick: () => fleet.advance(),
    setState: (id, s) => fleet.setState(id, s),
    instances: () => fleet.visibleInstances(),
    close: () =>
      new Promise<void>((resolve) => {
        if (timer) clearInterval(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return state;
}

export { REGIONS };
