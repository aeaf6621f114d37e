/**
 * Served versions of a mirrored resource (docs/architecture.md, "Versions"). One collection is stored, in the
 * storage (hub) version; every other version is a conversion layer over it: an object's entry in that version
 * is built from the hub entry the first time it is read after a change and kept as long as the hub entry is
 * (a WeakMap), so resourceVersions, continue tokens and watch positions are the same in every version and the
 * hub version is served without any conversion step.
 */
import { KubeError } from '../k8s/errors.ts';
import type { KubeObject, ResourceInfo } from '../k8s/types.ts';
import { defaultDeprecationWarning } from '../k8s/versions.ts';
import { warningHeader } from '../k8s/warning.ts';
import { createProjection, makeEntry, type ObjectEntry } from '../resources/entry.ts';
import type { TSchema } from '@sinclair/typebox';
import type { ResourceDefinition, VersionedObject } from '../sdk/types.ts';
import type { ListSource } from './list.ts';

/** One served version of a resource: how the wire describes it and how its entries are made. */
export interface ServedVersion {
  info: ResourceInfo;
  /** True for the storage (hub) version. */
  hub: boolean;
  /** Hub entry → this version's entry; undefined for the hub. */
  convert?: (e: ObjectEntry) => ObjectEntry;
  /** The `Warning` header value every request on a deprecated version gets. */
  deprecation?: string;
  /** For writes in this version (not the hub): its spec schema, and its objects converted to the hub and back. */
  writes?: {
    spec: TSchema | undefined;
    toHub: (o: VersionedObject) => VersionedObject;
    fromHub: (o: VersionedObject) => VersionedObject;
  };
}

/**
 * The versions a resource is served in: its own `versions` when it declares them, else the adapter's version
 * alone. `hub` is the resource described in the storage version (resourceInfo of the adapter's version).
 */
export function servedVersions(hub: ResourceInfo, r: ResourceDefinition): ServedVersion[] {
  const versions = r.versions;
  if (!versions) return [{ info: hub, hub: true }];
  const all = versions.map((v) => ({ name: v.name, served: v.served !== false, deprecated: v.deprecated === true }));
  const out: ServedVersion[] = [];
  for (const v of versions) {
    if (v.served === false) continue;
    const text = v.deprecated
      ? (v.deprecationWarning ?? defaultDeprecationWarning(hub.group, hub.kind, v.name, all))
      : undefined;
    const deprecation = text === undefined ? undefined : warningHeader(text);
    if (v.storage) {
      const info = text === undefined ? hub : { ...hub, deprecated: text };
      out.push({ info, hub: true, ...(deprecation ? { deprecation } : {}) });
      continue;
    }
    const schema = v.schema ?? r.schema;
    const info: ResourceInfo = {
      ...hub,
      version: v.name,
      columns: (v.columns ?? r.columns ?? []).map((c) => ({ ...c })),
      schema: {
        ...(schema.spec ? { spec: JSON.parse(JSON.stringify(schema.spec)) as object } : {}),
        ...(schema.status ? { status: JSON.parse(JSON.stringify(schema.status)) as object } : {}),
      },
      fields: v.fields ?? r.fields ?? [],
      description: v.description ?? hub.description,
      ...(text !== undefined ? { deprecated: text } : {}),
    };
    const fromHub = v.fromHub ?? ((o: VersionedObject) => o);
    out.push({
      info,
      hub: false,
      convert: createConverter(info, fromHub),
      ...(deprecation ? { deprecation } : {}),
      writes: { spec: schema.spec, toHub: v.toHub ?? ((o) => o), fromHub },
    });
  }
  return out;
}

/**
 * A hub object as an object of `info`'s version. The conversion sees a fresh copy of the object; identity
 * metadata (name, namespace, uid, resourceVersion, creationTimestamp) is the hub's whatever it returns, labels
 * and annotations are what it returns. A conversion that throws is a 500 naming the object and version (the
 * adapter's bug, not the client's). Keys in the order of the hub object (object.ts).
 */
export function convertObject(
  obj: KubeObject,
  info: ResourceInfo,
  fromHub: (o: VersionedObject) => VersionedObject,
): KubeObject {
  const { metadata } = obj;
  let out: VersionedObject;
  try {
    out = fromHub({
      metadata: {
        name: metadata.name,
        ...(metadata.namespace !== undefined ? { namespace: metadata.namespace } : {}),
        ...(metadata.labels ? { labels: metadata.labels } : {}),
        ...(metadata.annotations ? { annotations: metadata.annotations } : {}),
      },
      ...(obj.spec !== undefined ? { spec: obj.spec } : {}),
      ...(obj.status !== undefined ? { status: obj.status } : {}),
    });
  } catch {
    throw new KubeError(
      500,
      'InternalError',
      `converting ${info.plural}.${info.group} "${metadata.name}" to ${info.version} failed`,
    );
  }
  const labels = out.metadata.labels;
  const annotations = out.metadata.annotations;
  return {
    apiVersion: `${info.group}/${info.version}`,
    kind: obj.kind,
    metadata: {
      name: metadata.name,
      ...(metadata.namespace !== undefined ? { namespace: metadata.namespace } : {}),
      uid: metadata.uid,
      resourceVersion: metadata.resourceVersion,
      creationTimestamp: metadata.creationTimestamp,
      ...(labels && Object.keys(labels).length > 0 ? { labels } : {}),
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    ...(out.spec !== undefined ? { spec: out.spec } : {}),
    ...(out.status !== undefined ? { status: out.status } : {}),
  };
}

/** Hub entry → entry of `info`'s version (see {@link convertObject}), made once per hub entry. */
export function createConverter(
  info: ResourceInfo,
  fromHub: (o: VersionedObject) => VersionedObject,
): (e: ObjectEntry) => ObjectEntry {
  const projection = createProjection(info);
  const made = new WeakMap<ObjectEntry, ObjectEntry>();
  return (hub) => {
    const hit = made.get(hub);
    if (hit) return hit;
    const obj = JSON.parse(hub.text()) as KubeObject;
    // The resourceVersion placeholder, as the hub's stored JSON has it (entry.ts splices the version in).
    const body = JSON.stringify(
      convertObject({ ...obj, metadata: { ...obj.metadata, resourceVersion: '' } }, info, fromHub),
    );
    const entry = makeEntry(hub.key, hub.rv, hub.hash, body, projection);
    made.set(hub, entry);
    return entry;
  };
}

/**
 * A list source (list.ts) over the hub view whose entries are in another version: the same snapshots,
 * resourceVersions and waits, each snapshot array converted once while the view keeps it.
 */
export function convertedSource(view: ListSource, convert: (e: ObjectEntry) => ObjectEntry): ListSource {
  const arrays = new WeakMap<readonly ObjectEntry[], ObjectEntry[]>();
  const map = (entries: ObjectEntry[]): ObjectEntry[] => {
    let out = arrays.get(entries);
    if (!out) arrays.set(entries, (out = entries.map(convert)));
    return out;
  };
  return {
    get rv() {
      return view.rv;
    },
    get logStartRv() {
      return view.logStartRv;
    },
    sorted: () => map(view.sorted()),
    snapshotAt: (rv) => {
      const s = view.snapshotAt(rv);
      return s && map(s);
    },
    waitFor: (rv, ms) => view.waitFor(rv, ms),
  };
}
