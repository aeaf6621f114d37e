import { createHash } from 'node:crypto';
import type { GroupVersionInfo, ResourceInfo } from './types.ts';

/**
 * OpenAPI v2 and v3 documents generated from the resources' schemas, so `kubectl explain` works and the
 * aggregator can merge kubegate's spec (docs/kubernetes-wire.md, "OpenAPI"). kubectl explain (v3) needs, per group-version document,
 * a `components.schemas` entry whose `x-kubernetes-group-version-kind` (an array) holds the GVK, and a path
 * whose operation carries `x-kubernetes-group-version-kind` as an object.
 */

export interface OpenApiDoc {
  body: Buffer;
  /** Quoted SHA-512 hex. */
  etag: string;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** `weather.kubegate.dev` + `v1alpha1` + `Forecast` → `dev.kubegate.weather.v1alpha1.Forecast`. */
export function definitionName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

type Schema = Record<string, unknown>;

/**
 * Turns a TypeBox (draft-07 flavoured) schema into an OpenAPI 3.0 / Kubernetes structural one: drops `$id`
 * and `$schema`, `const` → `enum`, a union of literals → one `enum`, `type: [x, 'null']` and a union with
 * `Type.Null()` → `nullable` (v3; v2 has no null),
 * `patternProperties` (Type.Record) → `additionalProperties`.
 */
export function toOpenApiSchema(input: unknown, v2 = false): Schema {
  if (!input || typeof input !== 'object') return {};
  const s = input as Schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$id' || k === '$schema') continue;
    if (k === 'const') {
      out.enum = [v];
      continue;
    }
    // JSON Schema's numeric exclusive bounds are OpenAPI's boolean flag beside minimum/maximum.
    if ((k === 'exclusiveMinimum' || k === 'exclusiveMaximum') && typeof v === 'number') {
      out[k === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = v;
      out[k] = true;
      continue;
    }
    if (k === 'type' && Array.isArray(v)) {
      const types = v.filter((t) => t !== 'null');
      out.type = types[0];
      if (types.length !== v.length && !v2) out.nullable = true;
      continue;
    }
    if (k === 'properties' && v && typeof v === 'object') {
      out.properties = Object.fromEntries(Object.entries(v as Schema).map(([p, sub]) => [p, toOpenApiSchema(sub, v2)]));
      continue;
    }
    if (k === 'items') {
      out.items = toOpenApiSchema(v, v2);
      continue;
    }
    if (k === 'patternProperties' && v && typeof v === 'object') {
      const first = Object.values(v as Schema)[0];
      out.additionalProperties = toOpenApiSchema(first, v2);
      continue;
    }
    if (k === 'additionalProperties' && typeof v === 'object') {
      out.additionalProperties = toOpenApiSchema(v, v2);
      continue;
    }
    if ((k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) {
      // `type: 'null'` exists in neither OpenAPI 3.0 nor Swagger 2.0: a null member makes the rest nullable.
      const lits = (v as Schema[]).filter((x) => x.type !== 'null');
      if (lits.length < v.length && !v2) out.nullable = true;
      if (lits.length === 0) continue;
      if (lits.length === 1) {
        Object.assign(out, toOpenApiSchema(lits[0], v2));
        continue;
      }
      if (lits.length > 0 && lits.every((x) => 'const' in x)) {
        out.type =
          typeof lits[0]?.const === 'number' ? 'number' : typeof lits[0]?.const === 'boolean' ? 'boolean' : 'string';
        out.enum = lits.map((x) => x.const);
        continue;
      }
      out[k] = lits.map((x) => toOpenApiSchema(x, v2));
      continue;
    }
    out[k] = v;
  }
  return out;
}

function objectMeta(): Schema {
  const str = (description: string) => ({ type: 'string', description });
  return {
    description: 'ObjectMeta is metadata that all persisted resources must have.',
    type: 'object',
    properties: {
      name: str('Name must be unique within a namespace.'),
      namespace: str('Namespace defines the space within which each name must be unique.'),
      uid: str(
        'UID is the unique in time and space value for this object. kubegate derives it from group, kind, namespace and name.',
      ),
      resourceVersion: str(
        'An opaque value that represents the internal version of this object; it changes when the content changes.',
      ),
      creationTimestamp: {
        type: 'string',
        format: 'date-time',
        description: 'When the upstream created the object, or when kubegate first saw it.',
      },
      labels: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Map of string keys and values, from upstream tags, usable in label selectors.',
      },
      annotations: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Unstructured key value map, e.g. the upstream URL of the object.',
      },
    },
  };
}

function listMeta(): Schema {
  return {
    description: 'ListMeta describes metadata that synthetic resources must have, including lists.',
    type: 'object',
    properties: {
      resourceVersion: { type: 'string', description: 'The version of the list, to start a watch from.' },
      continue: { type: 'string', description: 'Opaque token to fetch the next page.' },
      remainingItemCount: {
        type: 'integer',
        format: 'int64',
        description: 'Items left after this page (unfiltered lists only).',
      },
    },
  };
}

function schemasFor(r: ResourceInfo, ref: (n: string) => string, v2: boolean): Record<string, Schema> {
  const name = definitionName(r.group, r.version, r.kind);
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const meta = v2
    ? { $ref: ref(`${META}.ObjectMeta`), description: 'Standard object metadata.' }
    : { allOf: [{ $ref: ref(`${META}.ObjectMeta`) }], description: 'Standard object metadata.' };
  const lmeta = v2 ? { $ref: ref(`${META}.ListMeta`) } : { allOf: [{ $ref: ref(`${META}.ListMeta`) }] };
  const props: Schema = {
    apiVersion: {
      type: 'string',
      description: 'APIVersion defines the versioned schema of this representation of an object.',
    },
    kind: {
      type: 'string',
      description: 'Kind is a string value representing the REST resource this object represents.',
    },
    metadata: meta,
  };
  if (r.schema.spec)
    props.spec = { description: 'What the upstream says about the object.', ...toOpenApiSchema(r.schema.spec, v2) };
  if (r.schema.status)
    props.status = {
      description: 'The observed state reported by the upstream.',
      ...toOpenApiSchema(r.schema.status, v2),
    };
  // apidiscovery has no deprecation field: a deprecated version says so here (kubectl explain) and in a Warning.
  const description = r.deprecated ? `Deprecated: ${r.deprecated}. ${r.description}` : r.description;
  return {
    [name]: { description, type: 'object', properties: props, 'x-kubernetes-group-version-kind': [gvk] },
    [`${name}List`]: {
      description: `${r.kind}List is a list of ${r.kind}.`,
      type: 'object',
      required: ['items'],
      properties: {
        apiVersion: props.apiVersion,
        kind: props.kind,
        items: { type: 'array', items: { $ref: ref(name) } },
        metadata: lmeta,
      },
      'x-kubernetes-group-version-kind': [{ ...gvk, kind: `${r.kind}List` }],
    },
  };
}

function op(
  r: ResourceInfo,
  action: 'list' | 'get',
  ref: (n: string) => string,
  v2: boolean,
  params: Schema[],
): Schema {
  const name = definitionName(r.group, r.version, r.kind) + (action === 'list' ? 'List' : '');
  const schema = { $ref: ref(name) };
  return {
    tags: [`${r.group.split('.')[0] ?? r.group}_${r.version}`],
    description: action === 'list' ? `list or watch objects of kind ${r.kind}` : `read the specified ${r.kind}`,
    operationId: `${action}${r.version[0]?.toUpperCase() ?? ''}${r.version.slice(1)}${r.kind}`,
    parameters: params,
    responses: v2
      ? { '200': { description: 'OK', schema } }
      : { '200': { description: 'OK', content: { 'application/json': { schema } } } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
    ...(r.deprecated ? { deprecated: true } : {}),
  };
}

type WriteAction = 'post' | 'delete' | 'put' | 'patch';

const WRITE_DESCRIPTION: Record<WriteAction, (kind: string) => string> = {
  post: (k) => `create a ${k}`,
  delete: (k) => `delete a ${k}`,
  put: (k) => `replace the specified ${k}`,
  patch: (k) => `partially update the specified ${k}`,
};

const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

/**
 * A write operation with the query parameters kubectl looks for (it sends `fieldValidation` only to a server
 * whose PATCH operation declares it, and validates on the client otherwise).
 */
function writeOp(
  r: ResourceInfo,
  action: WriteAction,
  ref: (n: string) => string,
  v2: boolean,
  params: Schema[],
): Schema {
  const schema = { $ref: ref(definitionName(r.group, r.version, r.kind)) };
  const query = (name: string, description: string): Schema =>
    v2
      ? { name, in: 'query', type: 'string', uniqueItems: true, description }
      : { name, in: 'query', schema: { type: 'string', uniqueItems: true }, description };
  const q = [
    query('dryRun', 'When present, the write is checked (admission, validation) and not done. The only value is All.'),
    ...(action === 'delete'
      ? []
      : [
          query('fieldManager', 'Accepted and not used: kubegate keeps no managed fields.'),
          query('fieldValidation', 'Unknown fields: Strict refuses them, Warn (default) and Ignore drop them.'),
        ]),
  ];
  const verb = action === 'post' ? 'create' : action === 'put' ? 'update' : action;
  const code = action === 'post' ? '201' : '200';
  const bodyTypes = action === 'patch' ? PATCH_TYPES : ['application/json', 'application/yaml'];
  const withBody = action !== 'delete';
  const body: Schema = v2
    ? { name: 'body', in: 'body', required: true, schema: action === 'patch' ? { type: 'object' } : schema }
    : {};
  return {
    tags: [`${r.group.split('.')[0] ?? r.group}_${r.version}`],
    description: WRITE_DESCRIPTION[action](r.kind),
    operationId: `${verb}${r.version[0]?.toUpperCase() ?? ''}${r.version.slice(1)}${r.kind}`,
    ...(v2 ? { consumes: bodyTypes } : {}),
    parameters: [...params, ...(v2 && withBody ? [body] : []), ...q],
    ...(!v2 && withBody
      ? {
          requestBody: {
            required: true,
            content: Object.fromEntries(
              bodyTypes.map((t) => [t, { schema: action === 'patch' ? { type: 'object' } : schema }]),
            ),
          },
        }
      : {}),
    responses: v2
      ? { [code]: { description: 'OK', schema } }
      : { [code]: { description: 'OK', content: { 'application/json': { schema } } } },
    'x-kubernetes-action': verb,
    'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
  };
}

/** The write operations of a resource's collection path and object path, as its verbs declare them. */
function writeOps(r: ResourceInfo, ref: (n: string) => string, v2: boolean, params: Schema[], nameP: Schema) {
  const has = (v: string) => r.verbs.includes(v);
  return {
    collection: has('create') ? { post: writeOp(r, 'post', ref, v2, params) } : {},
    object: {
      ...(has('delete') ? { delete: writeOp(r, 'delete', ref, v2, [nameP, ...params]) } : {}),
      ...(has('update') ? { put: writeOp(r, 'put', ref, v2, [nameP, ...params]) } : {}),
      ...(has('patch') ? { patch: writeOp(r, 'patch', ref, v2, [nameP, ...params]) } : {}),
      // kubectl looks for the fieldValidation parameter on the PATCH operation before it sends a create, and
      // without one it validates on the client from the protobuf OpenAPI v2 kubegate does not serve: a
      // resource that can be created but not patched declares the operation, saying it answers 405.
      ...(!has('patch') && has('create')
        ? {
            patch: {
              ...writeOp(r, 'patch', ref, v2, [nameP, ...params]),
              description: `not supported: ${r.kind} objects cannot be patched (405 MethodNotAllowed)`,
            },
          }
        : {}),
    },
  };
}

function paths(gv: GroupVersionInfo, ref: (n: string) => string, v2: boolean): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const param = (name: string, description: string): Schema =>
    v2
      ? { name, in: 'path', required: true, type: 'string', description }
      : { name, in: 'path', required: true, schema: { type: 'string' }, description };
  const nameP = param('name', 'name of the object');
  const nsP = param('namespace', 'object name and auth scope, such as for teams and projects');
  for (const r of gv.resources) {
    const base = `/apis/${gv.group}/${gv.version}`;
    if (r.namespaced) {
      const w = writeOps(r, ref, v2, [nsP], nameP);
      out[`${base}/namespaces/{namespace}/${r.plural}`] = { get: op(r, 'list', ref, v2, [nsP]), ...w.collection };
      out[`${base}/namespaces/{namespace}/${r.plural}/{name}`] = {
        get: op(r, 'get', ref, v2, [nameP, nsP]),
        ...w.object,
      };
      out[`${base}/${r.plural}`] = {
        get: { ...op(r, 'list', ref, v2, []), operationId: `list${r.kind}ForAllNamespaces` },
      };
    } else {
      const w = writeOps(r, ref, v2, [], nameP);
      out[`${base}/${r.plural}`] = { get: op(r, 'list', ref, v2, []), ...w.collection };
      out[`${base}/${r.plural}/{name}`] = { get: op(r, 'get', ref, v2, [nameP]), ...w.object };
    }
  }
  return out;
}

function serialize(value: unknown): OpenApiDoc {
  const body = Buffer.from(JSON.stringify(value));
  return { body, etag: `"${createHash('sha512').update(body).digest('hex')}"` };
}

export interface OpenApiDocuments {
  v2: OpenApiDoc;
  v3Root: OpenApiDoc;
  /** By `apis/<group>/<version>`. */
  v3: Map<string, OpenApiDoc>;
}

/** All OpenAPI documents, built once at start. */
export function buildOpenApiDocuments(gvs: readonly GroupVersionInfo[]): OpenApiDocuments {
  const ref2 = (n: string) => `#/definitions/${n}`;
  const ref3 = (n: string) => `#/components/schemas/${n}`;
  const common = (v2: boolean): Record<string, Schema> => ({
    [`${META}.ObjectMeta`]: objectMeta(),
    [`${META}.ListMeta`]: listMeta(),
    ...(v2 ? {} : {}),
  });
  const defs2: Record<string, Schema> = common(true);
  const paths2: Record<string, Schema> = {};
  const v3 = new Map<string, OpenApiDoc>();
  for (const gv of gvs) {
    Object.assign(paths2, paths(gv, ref2, true));
    const schemas3: Record<string, Schema> = common(false);
    for (const r of gv.resources) {
      Object.assign(defs2, schemasFor(r, ref2, true));
      Object.assign(schemas3, schemasFor(r, ref3, false));
    }
    v3.set(
      `apis/${gv.group}/${gv.version}`,
      serialize({
        openapi: '3.0.0',
        info: { title: 'kubegate', version: gv.version },
        paths: paths(gv, ref3, false),
        components: { schemas: schemas3 },
      }),
    );
  }
  const v2 = serialize({
    swagger: '2.0',
    info: { title: 'kubegate', version: 'v0.1.0' },
    paths: paths2,
    definitions: defs2,
  });
  const root = {
    paths: Object.fromEntries(
      [...v3].map(([k, d]) => [k, { serverRelativeURL: `/openapi/v3/${k}?hash=${d.etag.slice(1, -1).toUpperCase()}` }]),
    ),
  };
  return { v2, v3Root: serialize(root), v3 };
}
