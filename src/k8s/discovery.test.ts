import { describe, expect, it } from 'vitest';
import { buildDiscoveryDocuments, negotiateDiscovery, V2_CONTENT_TYPE } from './discovery.ts';
import type { GroupVersionInfo } from './types.ts';

const gvs: GroupVersionInfo[] = [
  {
    group: 'weather.example.com',
    version: 'v1alpha1',
    resources: [
      {
        group: 'weather.example.com',
        version: 'v1alpha1',
        kind: 'Forecast',
        plural: 'forecasts',
        singular: 'forecast',
        shortNames: ['fc'],
        categories: ['external'],
        namespaced: false,
        verbs: ['get', 'list', 'watch'],
        subresources: [{ name: 'status', verbs: ['get'] }],
        columns: [],
        schema: {},
        fields: [],
        description: '',
      },
    ],
  },
];

describe('discovery documents', () => {
  const d = buildDiscoveryDocuments(gvs);
  it('legacy group list, group and resource list', () => {
    expect(JSON.parse(d.groupList.body.toString())).toEqual({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [
        {
          name: 'weather.example.com',
          versions: [{ groupVersion: 'weather.example.com/v1alpha1', version: 'v1alpha1' }],
          preferredVersion: { groupVersion: 'weather.example.com/v1alpha1', version: 'v1alpha1' },
        },
      ],
    });
    expect(JSON.parse(d.groups.get('weather.example.com')!.body.toString()).kind).toBe('APIGroup');
    const rl = JSON.parse(d.resourceLists.get('weather.example.com/v1alpha1')!.body.toString()) as {
      resources: { name: string }[];
    };
    expect(rl.resources.map((r) => r.name)).toEqual(['forecasts', 'forecasts/status']);
    expect(rl.resources[0]).toEqual({
      name: 'forecasts',
      singularName: 'forecast',
      namespaced: false,
      kind: 'Forecast',
      verbs: ['get', 'list', 'watch'],
      shortNames: ['fc'],
      categories: ['external'],
    });
  });
  it('aggregated v2 with responseKind, scope and a content type that says so', () => {
    const v2 = JSON.parse(d.v2.body.toString()) as {
      apiVersion: string;
      items: { versions: { resources: Record<string, unknown>[] }[] }[];
    };
    expect(d.v2.contentType).toBe(V2_CONTENT_TYPE);
    expect(v2.apiVersion).toBe('apidiscovery.k8s.io/v2');
    expect(v2.items[0]?.versions[0]?.resources[0]).toMatchObject({
      resource: 'forecasts',
      scope: 'Cluster',
      singularResource: 'forecast',
      responseKind: { group: 'weather.example.com', version: 'v1alpha1', kind: 'Forecast' },
    });
    expect(JSON.parse(d.v2beta1.body.toString()).apiVersion).toBe('apidiscovery.k8s.io/v2beta1');
    expect(d.v2.etag).toMatch(/^"[0-9a-f]{128}"$/);
  });
});

describe('negotiateDiscovery', () => {
  it.each([
    [undefined, 'legacy'],
    ['application/json', 'legacy'],
    ['*/*', 'legacy'],
    [
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
      'v2',
    ],
    ['application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json', 'v2beta1'],
    ['application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList', 'v2'],
    ['application/vnd.kubernetes.protobuf', null],
    ['application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList', null],
  ])('%j → %j', (accept, want) => {
    expect(negotiateDiscovery(accept)).toBe(want);
  });
});

describe('several versions of a group', () => {
  const base = gvs[0] as GroupVersionInfo;
  const at = (version: string): GroupVersionInfo => ({
    ...base,
    version,
    resources: base.resources.map((r) => ({ ...r, version })),
  });
  // Declared in another order than Kubernetes priority.
  const d = buildDiscoveryDocuments([at('v1alpha1'), at('v1beta1'), at('v1')]);
  it('legacy discovery prefers GA over beta over alpha', () => {
    const group = JSON.parse(d.groups.get('weather.example.com')?.body.toString() ?? '{}') as {
      versions: { version: string }[];
      preferredVersion: { version: string };
    };
    expect(group.versions.map((v) => v.version)).toEqual(['v1', 'v1beta1', 'v1alpha1']);
    expect(group.preferredVersion.version).toBe('v1');
  });
  it('aggregated discovery lists every version in priority order with its own responseKind', () => {
    const list = JSON.parse(d.v2.body.toString()) as {
      items: { versions: { version: string; resources: { responseKind: { version: string } }[] }[] }[];
    };
    const versions = list.items[0]?.versions ?? [];
    expect(versions.map((v) => v.version)).toEqual(['v1', 'v1beta1', 'v1alpha1']);
    for (const v of versions) expect(v.resources[0]?.responseKind.version).toBe(v.version);
  });
});
