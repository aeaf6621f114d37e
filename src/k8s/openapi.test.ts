import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { defineResource } from '../sdk/define.ts';
import { resourceInfo } from '../resources/runtime.ts';
import { buildOpenApiDocuments, definitionName } from './openapi.ts';
import type { GroupVersionInfo } from './types.ts';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const GROUP = 'weather.kubegate.dev';
const VERSION = 'v1alpha1';

const forecasts = defineResource({
  kind: 'Forecast',
  plural: 'forecasts',
  scope: 'Cluster',
  mode: 'mirror',
  description: 'A weather forecast for one city.',
  schema: {
    spec: Type.Object({
      city: Type.String({ description: 'City the forecast is for.' }),
      days: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
    status: Type.Object(
      {
        temperatureC: Type.Number({ description: 'Temperature in degrees Celsius.' }),
        condition: Type.Union([Type.Literal('sunny'), Type.Literal('rain')]),
        tags: Type.Record(Type.String(), Type.String()),
        note: Type.Union([Type.String(), Type.Null()]),
      },
      { description: 'Latest reading.' },
    ),
  },
  list: () => Promise.resolve([]),
});

const stations = defineResource({
  kind: 'Station',
  plural: 'stations',
  scope: 'Namespaced',
  mode: 'passthrough',
  schema: { status: Type.Object({ online: Type.Boolean() }) },
  listPage: () => Promise.resolve({ items: [] }),
  get: () => Promise.resolve(undefined),
});

const gv: GroupVersionInfo = {
  group: GROUP,
  version: VERSION,
  resources: [resourceInfo(GROUP, VERSION, forecasts), resourceInfo(GROUP, VERSION, stations)],
};
const docs = buildOpenApiDocuments([gv]);
const v2 = JSON.parse(docs.v2.body.toString()) as Doc;
const v3 = JSON.parse(docs.v3.get(`apis/${GROUP}/${VERSION}`)?.body.toString() ?? 'null') as Doc;
const FORECAST = definitionName(GROUP, VERSION, 'Forecast');
const STATION = definitionName(GROUP, VERSION, 'Station');
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** Every `$ref` in a document, anywhere. */
function refs(x: unknown, out: string[] = []): string[] {
  if (Array.isArray(x)) for (const v of x) refs(v, out);
  else if (x && typeof x === 'object')
    for (const [k, v] of Object.entries(x)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  return out;
}

const flavours = [
  { name: 'v2', doc: v2, schemas: v2.definitions as Doc, prefix: '#/definitions/' },
  { name: 'v3', doc: v3, schemas: v3.components?.schemas as Doc, prefix: '#/components/schemas/' },
];

describe('OpenAPI documents', () => {
  it('names kubegate definitions by reversed group, version and kind', () => {
    expect(FORECAST).toBe('dev.kubegate.weather.v1alpha1.Forecast');
  });

  it('is a Swagger 2.0 document at /openapi/v2 and an OpenAPI 3.0 document per group-version', () => {
    expect(v2.swagger).toBe('2.0');
    expect(v3.openapi).toBe('3.0.0');
    expect([...docs.v3.keys()]).toEqual([`apis/${GROUP}/${VERSION}`]);
    // The v3 root points at each group-version's document with a hash that is its ETag.
    const root = JSON.parse(docs.v3Root.body.toString()) as Doc;
    const etag = docs.v3.get(`apis/${GROUP}/${VERSION}`)?.etag.slice(1, -1).toUpperCase();
    expect(root.paths).toEqual({
      [`apis/${GROUP}/${VERSION}`]: { serverRelativeURL: `/openapi/v3/apis/${GROUP}/${VERSION}?hash=${etag}` },
    });
    expect(docs.v2.etag).toMatch(/^"[0-9a-f]{128}"$/);
  });

  describe.each(flavours)('$name', ({ name, doc, schemas, prefix }) => {
    it('resolves every $ref inside the document', () => {
      const all = refs(doc);
      expect(all.length).toBeGreaterThan(0);
      for (const r of all) {
        expect(r.startsWith(prefix), r).toBe(true);
        expect(schemas[r.slice(prefix.length)], r).toBeDefined();
      }
    });

    it('tags each kind and its list kind with x-kubernetes-group-version-kind (an array)', () => {
      for (const kind of ['Forecast', 'Station']) {
        const def = definitionName(GROUP, VERSION, kind);
        expect(schemas[def]['x-kubernetes-group-version-kind']).toEqual([{ group: GROUP, version: VERSION, kind }]);
        expect(schemas[`${def}List`]['x-kubernetes-group-version-kind']).toEqual([
          { group: GROUP, version: VERSION, kind: `${kind}List` },
        ]);
      }
    });

    it('describes an object: apiVersion, kind, ObjectMeta, the description, spec and status', () => {
      const f = schemas[FORECAST];
      expect(f.type).toBe('object');
      expect(f.description).toBe('A weather forecast for one city.');
      expect(Object.keys(f.properties as object)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
      expect(f.properties.apiVersion).toMatchObject({ type: 'string', description: expect.any(String) });
      expect(f.properties.kind).toMatchObject({ type: 'string', description: expect.any(String) });
      const metaRef = name === 'v2' ? f.properties.metadata.$ref : f.properties.metadata.allOf[0].$ref;
      expect(metaRef).toBe(`${prefix}${META}.ObjectMeta`);
      expect(schemas[`${META}.ObjectMeta`].properties).toMatchObject({
        name: { type: 'string' },
        namespace: { type: 'string' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        creationTimestamp: { type: 'string', format: 'date-time' },
      });
      // A resource without a description gets a generated one; one without spec has no spec.
      expect(schemas[STATION].description).toBe('Station objects served by kubegate from an external API.');
      expect(Object.keys(schemas[STATION].properties as object)).toEqual(['apiVersion', 'kind', 'metadata', 'status']);
    });

    it('keeps the spec and status schemas: types, required fields and field descriptions', () => {
      const { spec, status } = schemas[FORECAST].properties;
      expect(spec).toMatchObject({
        type: 'object',
        description: 'What the upstream says about the object.',
        required: ['city'],
        properties: {
          city: { type: 'string', description: 'City the forecast is for.' },
          days: { type: 'integer', minimum: 1 },
        },
      });
      // The schema's own description wins over the generic one.
      expect(status.description).toBe('Latest reading.');
      expect(status.required).toEqual(['temperatureC', 'condition', 'tags', 'note']);
      expect(status.properties.temperatureC).toEqual({
        type: 'number',
        description: 'Temperature in degrees Celsius.',
      });
      // A union of literals is one enum; a record is a map; a nullable union stays one type.
      expect(status.properties.condition).toEqual({ type: 'string', enum: ['sunny', 'rain'] });
      expect(status.properties.tags).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
      // Nothing of JSON Schema that OpenAPI rejects is left.
      const text = JSON.stringify(schemas);
      expect(text).not.toContain('"$id"');
      expect(text).not.toContain('"$schema"');
      expect(text).not.toContain('"const"');
      expect(text).not.toContain('patternProperties');
    });

    it('describes the list kind: items of the kind and ListMeta', () => {
      const l = schemas[`${FORECAST}List`];
      expect(l.required).toEqual(['items']);
      expect(l.properties.items).toEqual({ type: 'array', items: { $ref: `${prefix}${FORECAST}` } });
      const lmeta = name === 'v2' ? l.properties.metadata.$ref : l.properties.metadata.allOf[0].$ref;
      expect(lmeta).toBe(`${prefix}${META}.ListMeta`);
      expect(Object.keys(schemas[`${META}.ListMeta`].properties as object)).toEqual([
        'resourceVersion',
        'continue',
        'remainingItemCount',
      ]);
    });

    it('has get and list paths, each operation tagged with its group-version-kind (an object)', () => {
      const base = `/apis/${GROUP}/${VERSION}`;
      expect(Object.keys(doc.paths as object).sort()).toEqual(
        [
          `${base}/forecasts`,
          `${base}/forecasts/{name}`,
          `${base}/namespaces/{namespace}/stations`,
          `${base}/namespaces/{namespace}/stations/{name}`,
          `${base}/stations`,
        ].sort(),
      );
      const schemaOf = (o: Doc): unknown =>
        name === 'v2' ? o.responses['200'].schema : o.responses['200'].content['application/json'].schema;
      const get = doc.paths[`${base}/namespaces/{namespace}/stations/{name}`].get as Doc;
      expect(get['x-kubernetes-group-version-kind']).toEqual({ group: GROUP, version: VERSION, kind: 'Station' });
      expect(get['x-kubernetes-action']).toBe('get');
      expect(schemaOf(get)).toEqual({ $ref: `${prefix}${STATION}` });
      expect((get.parameters as Doc[]).map((p): unknown[] => [p.name, p.in, p.required])).toEqual([
        ['name', 'path', true],
        ['namespace', 'path', true],
      ]);
      const list = doc.paths[`${base}/forecasts`].get as Doc;
      expect(list['x-kubernetes-group-version-kind']).toEqual({ group: GROUP, version: VERSION, kind: 'Forecast' });
      expect(list['x-kubernetes-action']).toBe('list');
      expect(schemaOf(list)).toEqual({ $ref: `${prefix}${FORECAST}List` });
      // Operation ids are unique (clients generated from the spec need that).
      const ids = Object.values(doc.paths as Doc).map((p: Doc) => p.get.operationId as string);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });

  it('marks a nullable field nullable in v3 only (Swagger 2.0 has no nullable)', () => {
    expect(v3.components.schemas[FORECAST].properties.status.properties.note).toEqual({
      type: 'string',
      nullable: true,
    });
    expect(v2.definitions[FORECAST].properties.status.properties.note).toEqual({ type: 'string' });
    expect(JSON.stringify([v2, v3])).not.toContain('"null"');
  });

  it('changes the ETag when a schema changes, and only then', () => {
    expect(buildOpenApiDocuments([gv]).v2.etag).toBe(docs.v2.etag);
    const other = { ...gv, resources: [resourceInfo(GROUP, VERSION, stations)] };
    expect(buildOpenApiDocuments([other]).v2.etag).not.toBe(docs.v2.etag);
  });
});
