import { defineAdapter, defineResource, Type, type ObjectInput, type VersionedObject } from '../../src/sdk/index.ts';

/**
 * A writable resource served in two versions, for the tests of writes in a non-storage version: `Disk` in
 * namespace `ns`, stored as v1 (`spec.sizeGiB`) and served also as the deprecated v1beta1 (`spec.sizeMiB`).
 * `upstream` is what the adapter was asked to write, in the storage version's shape.
 */
export function createDisksAdapter(group: string, ns: string) {
  const upstream = new Map<string, { sizeGiB: number; labels: Record<string, string> }>();
  const served = (name: string): ObjectInput => {
    const d = upstream.get(name) ?? { sizeGiB: 0, labels: {} };
    return { name, namespace: ns, labels: d.labels, spec: { sizeGiB: d.sizeGiB } };
  };
  const store = (name: string, spec: unknown, labels: Record<string, string>) => {
    upstream.set(name, { sizeGiB: (spec as { sizeGiB: number }).sizeGiB, labels });
    return Promise.resolve(served(name));
  };
  const convert = (toHub: boolean) => (o: VersionedObject) => {
    const s = (o.spec ?? {}) as { sizeGiB?: number; sizeMiB?: number };
    return { ...o, spec: toHub ? { sizeGiB: (s.sizeMiB ?? 0) / 1024 } : { sizeMiB: (s.sizeGiB ?? 0) * 1024 } };
  };
  const adapter = defineAdapter({
    name: 'disks',
    group,
    version: 'v1',
    config: Type.Object({}),
    resources: [
      defineResource({
        kind: 'Disk',
        plural: 'disks',
        scope: 'Namespaced',
        mode: 'mirror',
        pollInterval: '1h',
        schema: { spec: Type.Object({ sizeGiB: Type.Number({ minimum: 1 }) }, { additionalProperties: false }) },
        list: () => Promise.resolve([...upstream.keys()].map(served)),
        create: (_ctx, obj) => store(obj.name, obj.spec, obj.labels),
        update: (_ctx, obj) => store(obj.name, obj.spec, obj.labels),
        delete(_ctx, current) {
          upstream.delete(current.metadata.name);
          return Promise.resolve(undefined);
        },
        versions: [
          { name: 'v1', storage: true },
          {
            name: 'v1beta1',
            deprecated: true,
            schema: {
              spec: Type.Object({ sizeMiB: Type.Integer({ minimum: 1024 }) }, { additionalProperties: false }),
            },
            fromHub: convert(false),
            toHub: convert(true),
          },
        ],
      }),
    ],
  });
  return { adapter, upstream };
}
