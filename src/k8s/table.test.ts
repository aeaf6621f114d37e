import { describe, expect, it } from 'vitest';
import {
  compileJsonPath,
  humanDuration,
  partialObjectMetadataJson,
  renderRow,
  tableCells,
  tableColumnDefinitions,
  tableRowTemplate,
} from './table.ts';
import type { KubeObject, ResourceInfo } from './types.ts';

const info: ResourceInfo = {
  group: 'g.example.com',
  version: 'v1',
  kind: 'Thing',
  plural: 'things',
  singular: 'thing',
  shortNames: [],
  categories: [],
  namespaced: false,
  verbs: ['get'],
  subresources: [],
  schema: {},
  fields: [],
  description: '',
  columns: [
    { name: 'Temp', type: 'number', jsonPath: '.status.temp' },
    { name: 'Count', type: 'integer', jsonPath: '.status.count' },
    { name: 'Tags', type: 'string', jsonPath: '.spec.tags' },
    { name: 'Country', type: 'string', jsonPath: ".metadata.labels['example.com/country']", priority: 1 },
    { name: 'Seen', type: 'date', jsonPath: '.status.seen' },
  ],
};
const obj: KubeObject = {
  apiVersion: 'g.example.com/v1',
  kind: 'Thing',
  metadata: {
    name: 'a',
    uid: 'u',
    resourceVersion: '7',
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { 'example.com/country': 'FR' },
  },
  spec: { tags: ['x', 'y'] },
  status: { temp: 21.5, count: '3', seen: '2026-02-01T00:00:00Z' },
};

describe('compileJsonPath', () => {
  it.each([
    ['.status.temp', 21.5],
    ['{.status.temp}', 21.5],
    ['.spec.tags[1]', 'y'],
    [".metadata.labels['example.com/country']", 'FR'],
    ['.metadata.labels["example.com/country"]', 'FR'],
    ['.status.nope.deeper', undefined],
  ])('%s', (path, want) => {
    expect(compileJsonPath(path)(obj)).toEqual(want);
  });
  it.each(['status.temp', '.a[?(@.x)]', '.', '.a..b'])('rejects %s naming it', (path) => {
    expect(() => compileJsonPath(path)).toThrow(path);
  });
});

describe('Table rows', () => {
  it('has Name first and Age last, printer column priorities kept', () => {
    const cols = tableColumnDefinitions(info) as { name: string; priority: number; format: string }[];
    expect(cols.map((c) => c.name)).toEqual(['Name', 'Temp', 'Count', 'Tags', 'Country', 'Seen', 'Age']);
    expect(cols[0]?.format).toBe('name');
    expect(cols.find((c) => c.name === 'Country')?.priority).toBe(1);
  });
  it('renders cells like the CRD convertor', () => {
    const compiled = info.columns.map((c) => compileJsonPath(c.jsonPath));
    expect(tableCells(info, compiled, obj)).toEqual([
      'a',
      21.5,
      3,
      'x,y',
      'FR',
      '2026-02-01T00:00:00Z',
      '2026-01-01T00:00:00Z',
    ]);
    const empty = { ...obj, status: {}, spec: {} };
    expect(tableCells(info, compiled, empty).slice(1, 4)).toEqual([null, null, null]);
  });
  it('PartialObjectMetadata carries the metadata', () => {
    expect(JSON.parse(partialObjectMetadataJson(obj))).toEqual({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: obj.metadata,
    });
  });
});

describe('ages', () => {
  it.each([
    [0, '0s'],
    [-1500, '0s'],
    [-5000, '<invalid>'],
    [59_000, '59s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [150_000, '2m30s'],
    [600_000, '10m'],
    [179 * 60_000, '179m'],
    [3 * 3600_000, '3h'],
    [3 * 3600_000 + 60_000, '3h1m'],
    [47 * 3600_000, '47h'],
    [49 * 3600_000, '2d1h'],
    [10 * 86_400_000, '10d'],
    [800 * 86_400_000, '2y70d'],
    [3000 * 86_400_000, '8y'],
  ])('%d ms → %s', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });
  it('rows render dates as ages at response time', () => {
    const compiled = info.columns.map((c) => compileJsonPath(c.jsonPath));
    const t = tableRowTemplate(info, compiled, obj);
    const now = Date.parse('2026-02-01T00:05:00Z');
    expect(JSON.parse(renderRow(t, now))).toEqual(['a', 21.5, 3, 'x,y', 'FR', '5m', '31d']);
  });
});
