import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { KubeError } from '../k8s/errors.ts';
import type { KubeObject } from '../k8s/types.ts';
import { makeEntry } from '../resources/entry.ts';
import { buildObject } from '../resources/object.ts';
import { resourceInfo } from '../resources/runtime.ts';
import type { MirrorResource, VersionedObject } from '../sdk/types.ts';
import { convertedSource, servedVersions } from './versions.ts';

const renamed = (from: string, to: string) => (o: VersionedObject) => {
  const s = o.status as Record<string, unknown>;
  const { [from]: v, ...rest } = s;
  return { ...o, status: { ...rest, [to]: v } };
};

const def: MirrorResource = {
  kind: 'Thing',
  plural: 'things',
  scope: 'Namespaced',
  mode: 'mirror',
  schema: { status: Type.Object({ size: Type.Number() }) },
  fields: ['status.size'],
  columns: [{ name: 'Size', type: 'number', jsonPath: '.status.size' }],
  list: () => Promise.resolve([]),
  versions: [
    { name: 'v1', storage: true },
    {
      name: 'v1beta1',
      deprecated: true,
      schema: { status: Type.Object({ length: Type.Number() }) },
      fields: ['status.length'],
      columns: [{ name: 'Length', type: 'number', jsonPath: '.status.length' }],
      fromHub: renamed('size', 'length'),
      toHub: renamed('length', 'size'),
    },
    { name: 'v1alpha1', served: false },
  ],
};

const hubInfo = resourceInfo('g.io', 'v1', def);
const hubEntry = (size: number, rv = 7) => {
  const built = buildObject(
    { name: 'a', namespace: 'ns', labels: { team: 'x' }, annotations: { note: 'y' }, status: { size } },
    { group: 'g.io', version: 'v1', kind: 'Thing', namespaced: true },
    () => '2026-01-01T00:00:00Z',
  );
  return makeEntry(built.key, rv, built.hash, built.body);
};

describe('servedVersions', () => {
  const served = servedVersions(hubInfo, def);
  it('serves the hub as it is and each served version with its own schema, columns and fields', () => {
    expect(served.map((v) => [v.info.version, v.hub])).toEqual([
      ['v1', true],
      ['v1beta1', false],
    ]);
    expect(served[0]?.info).toBe(hubInfo);
    expect(served[0]?.convert).toBeUndefined();
    const beta = served[1]?.info;
    expect(beta?.fields).toEqual(['status.length']);
    expect(beta?.columns.map((c) => c.name)).toEqual(['Length']);
    expect(beta?.schema.status).toMatchObject({ properties: { length: { type: 'number' } } });
    expect(served[1]?.deprecation).toBe('299 - "g.io/v1beta1 Thing is deprecated; use g.io/v1 Thing"');
    expect(beta?.deprecated).toBe('g.io/v1beta1 Thing is deprecated; use g.io/v1 Thing');
  });

  it('converts an entry once, keeping identity, resourceVersion and the projection of its version', () => {
    const convert = served[1]?.convert;
    if (!convert) throw new Error('no conversion');
    const hub = hubEntry(3);
    const beta = convert(hub);
    expect(convert(hub)).toBe(beta);
    const obj = beta.obj;
    const orig = hub.obj;
    expect(obj).toEqual({
      ...orig,
      apiVersion: 'g.io/v1beta1',
      status: { length: 3 },
    } satisfies KubeObject);
    expect(Object.keys(obj.metadata)).toEqual(Object.keys(orig.metadata));
    expect(beta.rv).toBe(7);
    expect(beta.key).toBe('ns/a');
    expect(beta.field('status.length')).toBe('3');
    expect(beta.cellsJson(0, () => '0s')).toContain('3');
    // A DELETED event's entry (another resourceVersion of the same content) converts too.
    expect(convert(hub.at(9)).text()).toContain('"resourceVersion":"9"');
  });

  it('a conversion that throws is a 500 naming the object and version', () => {
    const broken = servedVersions(hubInfo, {
      ...def,
      versions: [
        { name: 'v1', storage: true },
        {
          name: 'v2',
          fromHub: () => {
            throw new Error('boom');
          },
          toHub: (o) => o,
        },
      ],
    });
    const convert = broken[1]?.convert;
    let err: unknown;
    try {
      convert?.(hubEntry(1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KubeError);
    expect((err as KubeError).code).toBe(500);
    expect((err as Error).message).toBe('converting things.g.io "a" to v2 failed');
  });

  it('a converted list source shares the hub view resourceVersions and converts each snapshot once', async () => {
    const convert = served[1]?.convert;
    if (!convert) throw new Error('no conversion');
    const entries = [hubEntry(1, 5)];
    const view = {
      rv: 5,
      logStartRv: 2,
      sorted: () => entries,
      snapshotAt: (rv: number) => (rv === 5 ? entries : undefined),
      waitFor: () => Promise.resolve(true),
    };
    const source = convertedSource(view, convert);
    expect(source.rv).toBe(5);
    expect(source.logStartRv).toBe(2);
    expect(source.sorted()).toBe(source.sorted());
    expect(source.sorted()[0]?.field('status.length')).toBe('1');
    expect(source.snapshotAt(4)).toBeUndefined();
    expect(await source.waitFor(6, 1)).toBe(true);
  });
});
