import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ObjectInput } from '../sdk/types.ts';
import { RV_PLACEHOLDER, objectKey } from './entry.ts';
import { contentHash, objectUid, sanitizeLabels, sanitizeName } from './identity.ts';
import { SkipError } from './skips.ts';

/** Seconds-precision RFC 3339, as Kubernetes serializes metav1.Time. */
export function rfc3339(d: Date | string | number): string {
  const t = d instanceof Date ? d : new Date(d);
  if (Number.isNaN(t.getTime())) throw new Error(`invalid timestamp ${String(d)}`);
  return t.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface BuiltObject {
  key: string;
  hash: string;
  /** JSON with an empty resourceVersion placeholder (see entry.ts). */
  body: string;
}

/**
 * Turns what an adapter returned into the served object: sanitized name and labels, framework-owned uid,
 * creationTimestamp (upstream's, else `firstSeen`), and an empty resourceVersion the store fills in.
 * Throws an Error describing what is wrong with the item (the caller skips and reports it).
 */
export function buildObject(
  input: ObjectInput,
  t: {
    group: string;
    version: string;
    kind: string;
    namespaced: boolean;
    schema?: { spec?: TSchema; status?: TSchema };
  },
  firstSeen: (key: string) => string,
): BuiltObject {
  if (typeof input.name !== 'string' || input.name === '') throw new SkipError('name', 'item has no name');
  const name = sanitizeName(input.name);
  let namespace: string | undefined;
  if (t.namespaced) {
    if (!input.namespace) throw new SkipError('namespace', 'item of a namespaced resource has no namespace', name);
    namespace = sanitizeName(input.namespace);
  }
  const key = objectKey(namespace, name);
  // What the adapter's schema promises (and `kubectl explain` documents) is what clients get: an item that
  // does not match is skipped and reported rather than served.
  for (const part of ['spec', 'status'] as const) {
    const schema = t.schema?.[part];
    if (schema && input[part] !== undefined && !Value.Check(schema, input[part])) {
      const e = Value.Errors(schema, input[part]).First();
      const path = e ? jsonPath(part, e.path) : part;
      const why = e ? `${lowerFirst(e.message)}, got ${typeOf(e.value)}` : 'does not match the schema';
      throw new SkipError('schema', `${path}: ${why}`, key);
    }
  }
  const labels = sanitizeLabels(input.labels);
  const metadata = {
    name,
    ...(namespace ? { namespace } : {}),
    uid: objectUid(t.group, t.kind, namespace, name),
    resourceVersion: '',
    creationTimestamp: input.creationTimestamp ? rfc3339(input.creationTimestamp) : firstSeen(key),
    ...(labels ? { labels } : {}),
    ...(input.annotations && Object.keys(input.annotations).length > 0 ? { annotations: input.annotations } : {}),
  };
  const obj = {
    apiVersion: `${t.group}/${t.version}`,
    kind: t.kind,
    metadata,
    ...(input.spec !== undefined ? { spec: input.spec } : {}),
    ...(input.status !== undefined ? { status: input.status } : {}),
  };
  const body = JSON.stringify(obj);
  if (!body.includes(RV_PLACEHOLDER)) throw new SkipError('mapping', 'item did not serialize', name);
  return { key, hash: contentHash(obj), body };
}

/** `status` + `/daily/0/condition` → `status.daily[0].condition` (how `kubectl explain` and jsonpath name it). */
function jsonPath(root: string, pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : `${acc}.${p}`), root);
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** The JSON type of a value (never the value: upstream text stays out of logs and Warnings). */
function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
