import { createHash } from 'node:crypto';
import type { GroupVersionInfo, ResourceInfo } from './types.ts';
import { parseAccept } from './negotiate.ts';
import { compareVersionPriority } from './versions.ts';

/** A precomputed discovery or OpenAPI document. */
export interface Doc {
  body: Buffer;
  etag: string;
  contentType: string;
}

export const JSON_CONTENT_TYPE = 'application/json';
export const V2_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const V2BETA1_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/** Quoted SHA-512 of a body, as the apiserver's discovery ETags. */
export function etagOf(body: Buffer): string {
  return `"${createHash('sha512').update(body).digest('hex')}"`;
}

function doc(value: unknown, contentType = JSON_CONTENT_TYPE): Doc {
  const body = Buffer.from(JSON.stringify(value));
  return { body, etag: etagOf(body), contentType };
}

/** Group → its versions in Kubernetes priority order (versions.ts): the first is the preferred version. */
const byGroup = (gvs: readonly GroupVersionInfo[]) => {
  const m = new Map<string, GroupVersionInfo[]>();
  for (const gv of gvs) m.set(gv.group, [...(m.get(gv.group) ?? []), gv]);
  for (const vs of m.values()) vs.sort((a, b) => compareVersionPriority(a.version, b.version));
  return m;
};

function legacyGroupObject(group: string, versions: GroupVersionInfo[]) {
  const vs = versions.map((v) => ({ groupVersion: `${group}/${v.version}`, version: v.version }));
  return { name: group, versions: vs, preferredVersion: vs[0] };
}

/** `/apis` as an APIGroupList. */
export function legacyGroupList(gvs: readonly GroupVersionInfo[]) {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...byGroup(gvs)].map(([g, vs]) => legacyGroupObject(g, vs)),
  };
}

/** `/apis/<group>` as an APIGroup. */
export function legacyGroup(gvs: readonly GroupVersionInfo[], group: string) {
  const vs = byGroup(gvs).get(group);
  return vs ? { kind: 'APIGroup', apiVersion: 'v1', ...legacyGroupObject(group, vs) } : undefined;
}

function legacyResource(r: ResourceInfo) {
  return {
    name: r.plural,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: r.verbs,
    ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length > 0 ? { categories: r.categories } : {}),
  };
}

/** `/apis/<group>/<version>` as an APIResourceList (never empty: adapters must declare resources). */
export function legacyResourceList(gv: GroupVersionInfo) {
  const resources: object[] = [];
  for (const r of gv.resources) {
    resources.push(legacyResource(r));
    for (const s of r.subresources)
      resources.push({
        name: `${r.plural}/${s.name}`,
        singularName: '',
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: s.verbs,
      });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${gv.group}/${gv.version}`, resources };
}

/** Aggregated discovery (`apidiscovery.k8s.io` v2 or v2beta1: only apiVersion differs). */
export function aggregatedDiscovery(gvs: readonly GroupVersionInfo[], version: 'v2' | 'v2beta1') {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: [...byGroup(gvs)].map(([group, vs]) => ({
      metadata: { name: group },
      versions: vs.map((gv) => ({
        version: gv.version,
        freshness: 'Current',
        resources: gv.resources.map((r) => ({
          resource: r.plural,
          // Always filled: an empty responseKind breaks clients (kubernetes/kubernetes#118361).
          responseKind: { group: r.group, version: r.version, kind: r.kind },
          scope: r.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: r.singular,
          verbs: r.verbs,
          ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
          ...(r.categories.length > 0 ? { categories: r.categories } : {}),
          ...(r.subresources.length > 0
            ? {
                subresources: r.subresources.map((s) => ({
                  subresource: s.name,
                  responseKind: { group: r.group, version: r.version, kind: r.kind },
                  verbs: s.verbs,
                })),
              }
            : {}),
        })),
      })),
    })),
  };
}

export interface DiscoveryDocuments {
  groupList: Doc;
  v2: Doc;
  v2beta1: Doc;
  groups: Map<string, Doc>;
  /** By `group/version`. */
  resourceLists: Map<string, Doc>;
}

/** Every discovery document, serialized once at start: discovery never waits on anything. */
export function buildDiscoveryDocuments(gvs: readonly GroupVersionInfo[]): DiscoveryDocuments {
  const groups = new Map<string, Doc>();
  for (const g of byGroup(gvs).keys()) groups.set(g, doc(legacyGroup(gvs, g)));
  return {
    groupList: doc(legacyGroupList(gvs)),
    v2: doc(aggregatedDiscovery(gvs, 'v2'), V2_CONTENT_TYPE),
    v2beta1: doc(aggregatedDiscovery(gvs, 'v2beta1'), V2BETA1_CONTENT_TYPE),
    groups,
    resourceLists: new Map(gvs.map((gv) => [`${gv.group}/${gv.version}`, doc(legacyResourceList(gv))])),
  };
}

/**
 * Which `/apis` document an Accept header asks for: the first acceptable entry by q then order wins
 * (docs/kubernetes-wire.md, "Discovery"): aggregated v2 / v2beta1 when asked for by `g=apidiscovery.k8s.io`, the legacy APIGroupList for
 * plain JSON or wildcards, null (406) when nothing fits.
 */
export function negotiateDiscovery(accept: string | undefined): 'v2' | 'v2beta1' | 'legacy' | null {
  if (!accept) return 'legacy';
  let best: { kind: 'v2' | 'v2beta1' | 'legacy'; q: number } | undefined;
  for (const r of parseAccept(accept)) {
    if (r.q <= 0) continue;
    let kind: 'v2' | 'v2beta1' | 'legacy' | undefined;
    const jsonish =
      (r.type === 'application' && (r.subtype === 'json' || r.subtype === '*')) ||
      (r.type === '*' && r.subtype === '*');
    if (!jsonish) continue;
    if (r.params.get('g') === 'apidiscovery.k8s.io' && r.params.get('as') === 'APIGroupDiscoveryList') {
      const v = r.params.get('v');
      if (v === 'v2' || v === 'v2beta1') kind = v;
    } else if (!r.params.has('as')) {
      kind = 'legacy';
    }
    if (kind && (!best || r.q > best.q)) best = { kind, q: r.q };
  }
  return best?.kind ?? null;
}
