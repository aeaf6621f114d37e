import { Type, defineAdapter, defineResource, type Static } from '../../src/sdk/index.ts';

const Status = Type.Object({
  state: Type.String({ description: 'running, stopped, pending' }),
  cpu: Type.Number({ description: 'CPU cores' }),
  memoryMiB: Type.Integer(),
  zone: Type.String(),
  launchedAt: Type.String({ format: 'date-time' }),
});

const Spec = Type.Object({
  instanceType: Type.String(),
  image: Type.String(),
  tags: Type.Record(Type.String(), Type.String()),
});

const Config = Type.Object({ count: Type.Integer({ minimum: 0 }), generation: Type.Optional(Type.Integer()) });

/** Upstream calls made (the benchmark checks they do not grow with watchers). */
export const stats = { polls: 0 };

/** A synthetic cloud inventory of `count` instances, for benchmarks: deterministic, no upstream. */
export default defineAdapter({
  name: 'synthetic',
  group: 'bench.kubegate.dev',
  version: 'v1',
  config: Config,
  resources: [
    defineResource<Static<typeof Config>>({
      kind: 'Instance',
      plural: 'instances',
      shortNames: ['inst'],
      scope: 'Namespaced',
      mode: 'mirror',
      pollInterval: '1h',
      schema: { spec: Spec, status: Status },
      columns: [
        { name: 'State', type: 'string', jsonPath: '.status.state' },
        { name: 'Type', type: 'string', jsonPath: '.spec.instanceType' },
        { name: 'Zone', type: 'string', jsonPath: '.status.zone' },
        { name: 'CPU', type: 'number', jsonPath: '.status.cpu', priority: 1 },
      ],
      fields: ['status.state'],
      // A second, converted version: what is measured at v1 is the storage version served beside another.
      versions: [
        { name: 'v1', storage: true },
        {
          name: 'v1beta1',
          fromHub: (o) => {
            const { memoryMiB, ...rest } = o.status as Static<typeof Status>;
            return { ...o, status: { ...rest, memory: `${memoryMiB}Mi` } };
          },
          toHub: (o) => {
            const { memory, ...rest } = o.status as Omit<Static<typeof Status>, 'memoryMiB'> & { memory: string };
            return { ...o, status: { ...rest, memoryMiB: parseInt(memory, 10) } };
          },
          schema: {
            spec: Spec,
            status: Type.Object({ ...Type.Omit(Status, ['memoryMiB']).properties, memory: Type.String() }),
          },
        },
      ],
      list(ctx) {
        stats.polls++;
        const gen = ctx.config.generation ?? 0;
        return Promise.resolve(
          Array.from({ length: ctx.config.count }, (_, i) => ({
            name: `i-${i.toString(16).padStart(8, '0')}`,
            namespace: `team-${i % 10}`,
            labels: { env: i % 3 === 0 ? 'prod' : 'dev', team: `team-${i % 10}`, tier: i % 2 ? 'web' : 'db' },
            annotations: { 'bench.kubegate.dev/source': `https://cloud.example.com/instances/${i}` },
            creationTimestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000),
            spec: {
              instanceType: ['m5.large', 'c6g.xlarge', 't3.micro'][i % 3] ?? '',
              image: `ami-${(i * 7919) % 100000}`,
              tags: { owner: `user${i % 50}`, cost: `cc-${i % 7}` },
            },
            status: {
              state: i % 11 === 0 ? 'stopped' : 'running',
              cpu: (i % 8) + 1,
              memoryMiB: 1024 * ((i % 4) + 1),
              zone: `eu-west-1${'abc'[i % 3] ?? 'a'}`,
              launchedAt: new Date(Date.UTC(2026, 0, 1) + i * 1000 + (i === 0 ? gen : 0)).toISOString(),
            },
          })),
        );
      },
    }),
  ],
});
