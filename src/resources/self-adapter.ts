import { Type, defineAdapter, defineResource } from '../sdk/index.ts';
import type { MirrorStatus } from '../registry/mirror.ts';
import type { FeedStatus } from './feed.ts';
import type { SkipRecord } from './skips.ts';
import { rfc3339 } from './poller.ts';

export const SELF_GROUP = 'kubegate.dev';

const AdapterStatus = Type.Object({
  resources: Type.Array(Type.String(), { description: 'Resources this adapter serves, as plural.group.' }),
  objects: Type.Optional(
    Type.Integer({
      description: 'Objects in the local view, all mirrored resources together (pass-through resources keep none).',
    }),
  ),
  lastSuccessfulPoll: Type.Optional(
    Type.String({ format: 'date-time', description: 'When the last poll of any resource succeeded.' }),
  ),
  lastError: Type.Optional(
    Type.String({
      description:
        "The last poll error, cleared by a successful poll; else a change feed's last error, naming its resource.",
    }),
  ),
  consecutiveFailures: Type.Integer({ description: 'Polls or change feed reads failed in a row (worst resource).' }),
  changeFeeds: Type.Optional(
    Type.Array(
      Type.Object({
        resource: Type.String({
          description: 'The pass-through resource the feed serves watches of, as plural.group.',
        }),
        reading: Type.Boolean({
          description: 'Whether this replica reads the feed (it holds the lease); the others serve what it commits.',
        }),
        lastSuccessfulRead: Type.Optional(
          Type.String({ format: 'date-time', description: 'When this replica last read the feed successfully.' }),
        ),
        lastError: Type.Optional(Type.String({ description: 'The last read error, cleared by a successful read.' })),
        consecutiveFailures: Type.Integer({ description: 'Reads failed in a row.' }),
      }),
      { description: "The change feeds of the adapter's pass-through resources (what their watches are fed by)." },
    ),
  ),
  breaker: Type.String({ description: 'Circuit breaker state of the upstream policy: closed, half-open or open.' }),
  upstreamP99Ms: Type.Optional(
    Type.Number({ description: 'p99 latency of the last 200 upstream calls, in milliseconds.' }),
  ),
  upstreamErrorRate: Type.Optional(
    Type.Number({ description: 'Share of the last 200 upstream calls that failed (0 to 1).' }),
  ),
  skippedItems: Type.Integer({
    description:
      'Upstream items not served: skipped by the last poll (mirror) or by fetches of the last 10 minutes (pass-through).',
  }),
  skipped: Type.Optional(
    Type.Array(
      Type.Object({
        resource: Type.String({ description: 'The resource the items belong to, as plural.group.' }),
        kind: Type.String({
          description: 'schema, duplicate, name, namespace, mapping (the object could not be built) or adapter.',
        }),
        reason: Type.String({ description: 'Why the items were skipped, e.g. the schema path they fail.' }),
        count: Type.Integer({ description: 'Items skipped for this reason.' }),
        example: Type.Optional(Type.String({ description: 'One skipped item, as namespace/name.' })),
        lastSeen: Type.String({ format: 'date-time', description: 'When an item was last skipped for this reason.' }),
      }),
      { description: 'Why upstream items are not served, one entry per distinct reason (most items first).' },
    ),
  ),
});

const AdapterSpec = Type.Object({
  group: Type.String({ description: 'The API group the adapter serves.' }),
  version: Type.String({ description: 'The API version the adapter serves.' }),
});

/** What a row of `kubectl get adapters` is made of, per served resource. */
export interface ResourceHealth {
  adapter: string;
  group: string;
  version: string;
  plural: string;
  breaker: string;
  /** Upstream items not served, one record per reason. */
  skipped: SkipRecord[];
  /** Only for mirrored resources. */
  mirror?: MirrorStatus;
  /** Only for pass-through resources with a change feed. */
  feed?: FeedStatus;
}

/**
 * kubegate describing itself through its own API: `kubectl get adapters` shows every adapter's health, the
 * first place an operator looks. Served like any mirrored resource (list, watch, selectors, Table).
 */
export function createSelfAdapter(source: {
  /** Every served resource: mirrors report their polls, pass-throughs only their upstream. */
  resources(): ResourceHealth[];
  p99(adapter: string): number | undefined;
  errorRate(adapter: string): number | undefined;
}) {
  return defineAdapter({
    name: 'kubegate',
    group: SELF_GROUP,
    version: 'v1alpha1',
    config: Type.Object({}),
    resources: [
      defineResource({
        kind: 'Adapter',
        plural: 'adapters',
        scope: 'Cluster',
        mode: 'mirror',
        pollInterval: '2s',
        description: 'An adapter kubegate runs: which resources it serves and how its upstream is doing.',
        schema: { spec: AdapterSpec, status: AdapterStatus },
        columns: [
          { name: 'Resources', type: 'string', jsonPath: '.status.resources' },
          { name: 'Objects', type: 'integer', jsonPath: '.status.objects' },
          { name: 'Skipped', type: 'integer', jsonPath: '.status.skippedItems' },
          { name: 'Last Poll', type: 'date', jsonPath: '.status.lastSuccessfulPoll' },
          { name: 'Breaker', type: 'string', jsonPath: '.status.breaker' },
          { name: 'P99 ms', type: 'number', jsonPath: '.status.upstreamP99Ms' },
          { name: 'Error Rate', type: 'number', jsonPath: '.status.upstreamErrorRate' },
          { name: 'Last Error', type: 'string', jsonPath: '.status.lastError', priority: 1 },
        ],
        fields: ['status.breaker'],
        list() {
          const by = new Map<string, ResourceHealth[]>();
          for (const r of source.resources()) {
            if (r.group === SELF_GROUP) continue;
            by.set(r.adapter, [...(by.get(r.adapter) ?? []), r]);
          }
          // What both kinds of adapter report: served resources, skipped items, the health of the upstream policy.
          const common = (name: string, mode: string, rs: ResourceHealth[]) => {
            const first = rs[0] as ResourceHealth;
            const p99 = source.p99(name);
            const rate = source.errorRate(name);
            const breaker = first.breaker;
            const skipped = rs.flatMap((r) => r.skipped);
            const feeds = rs.flatMap((r) =>
              r.feed
                ? [
                    {
                      resource: `${r.plural}.${r.group}`,
                      reading: r.feed.leader,
                      ...(r.feed.lastSuccess !== undefined ? { lastSuccessfulRead: rfc3339(r.feed.lastSuccess) } : {}),
                      ...(r.feed.lastError !== undefined ? { lastError: r.feed.lastError } : {}),
                      consecutiveFailures: r.feed.consecutiveFailures,
                    },
                  ]
                : [],
            );
            const feedError = feeds.find((f) => f.lastError !== undefined);
            return {
              name,
              labels: { 'kubegate.dev/breaker': breaker, 'kubegate.dev/mode': mode },
              spec: { group: first.group, version: first.version },
              status: {
                resources: rs.map((r) => `${r.plural}.${r.group}`),
                breaker,
                skippedItems: skipped.reduce((n, x) => n + x.count, 0),
                ...(skipped.length > 0 ? { skipped } : {}),
                ...(p99 !== undefined ? { upstreamP99Ms: Math.round(p99 * 10) / 10 } : {}),
                ...(rate !== undefined ? { upstreamErrorRate: Math.round(rate * 1000) / 1000 } : {}),
                ...(feedError ? { lastError: `${feedError.resource} change feed: ${feedError.lastError ?? ''}` } : {}),
                consecutiveFailures: Math.max(0, ...feeds.map((f) => f.consecutiveFailures)),
                ...(feeds.length > 0 ? { changeFeeds: feeds } : {}),
              },
            };
          };
          const passRows = [...by]
            .filter(([, rs]) => rs.every((r) => !r.mirror))
            .map(([name, rs]) => {
              return common(name, 'passthrough', rs);
            });
          const mirrorRows = [...by]
            .map(([name, rs]) => [name, rs.flatMap((r) => (r.mirror ? [r.mirror] : []))] as const)
            .filter(([, ms]) => ms.length > 0)
            .map(([name, ms]) => {
              const row = common(name, 'mirror', by.get(name) ?? []);
              const success = Math.max(...ms.map((m) => m.lastSuccess ?? 0));
              const err = ms.map((m) => m.lastError).find(Boolean);
              return {
                ...row,
                status: {
                  ...row.status,
                  objects: ms.reduce((n, m) => n + m.objects, 0),
                  ...(success > 0 ? { lastSuccessfulPoll: rfc3339(success) } : {}),
                  ...(err ? { lastError: err } : {}),
                  consecutiveFailures: Math.max(
                    row.status.consecutiveFailures,
                    ...ms.map((m) => m.consecutiveFailures),
                  ),
                },
              };
            });
          return Promise.resolve([...passRows, ...mirrorRows]);
        },
      }),
    ],
  });
}
