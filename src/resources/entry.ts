import type { KubeObject } from '../k8s/types.ts';
import type { RowTemplate } from '../k8s/table.ts';

/**
 * One object version as served: parsed once, encoded once. Lists and watch frames splice `json`;
 * Table cells are rendered lazily, once per version.
 */
export interface ObjectEntry {
  readonly key: string;
  readonly rv: number;
  readonly hash: string;
  readonly obj: KubeObject;
  /** The object's JSON bytes, with metadata.resourceVersion. */
  readonly json: Buffer;
  /** Cached Table row parts (filled by the Table encoder). */
  cells?: RowTemplate;
  meta?: string;
}

/** Placeholder the poller writes so a replica can set the resourceVersion without re-serializing. */
export const RV_PLACEHOLDER = '"resourceVersion":""';

/** Builds the served entry from a stored body (object JSON with an empty resourceVersion). */
export function makeEntry(key: string, rv: number, hash: string, body: string): ObjectEntry {
  // The first occurrence is metadata.resourceVersion: apiVersion, kind and metadata.name/namespace/uid come
  // first and JSON string escaping means no value can contain the placeholder's unescaped quotes.
  const text = body.replace(RV_PLACEHOLDER, `"resourceVersion":"${rv}"`);
  return { key, rv, hash, obj: JSON.parse(text) as KubeObject, json: Buffer.from(text) };
}

/** The entry of a DELETED event a watcher sees: last state, stamped with the deletion's resourceVersion. */
export function withResourceVersion(e: ObjectEntry, rv: number): ObjectEntry {
  if (e.rv === rv) return e;
  const obj = { ...e.obj, metadata: { ...e.obj.metadata, resourceVersion: String(rv) } };
  return { key: e.key, rv, hash: e.hash, obj, json: Buffer.from(JSON.stringify(obj)) };
}

/** Collection key of an object: `name` for cluster-scoped, `namespace/name` for namespaced. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}
