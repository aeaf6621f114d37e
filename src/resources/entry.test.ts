import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  compileJsonPath,
  humanDuration,
  partialObjectMetadataJson,
  renderRow,
  tableRowTemplate,
} from '../k8s/table.ts';
import type { KubeObject, ResourceInfo } from '../k8s/types.ts';
import { buildObject } from './object.ts';
import { createProjection, makeEntry, withResourceVersion } from './entry.ts';
import { resourceInfo } from './runtime.ts';
import { defineResource } from '../sdk/define.ts';

const info: ResourceInfo = resourceInfo(
  'shop.example.com',
  'v1',
  defineResource<unknown>({
    kind: 'Order',
    plural: 'orders',
    scope: 'Namespaced',
    mode: 'mirror',
    schema: {},
    columns: [
      { name: 'State', type: 'string', jsonPath: '.status.state' },
      { name: 'Total', type: 'number', jsonPath: '.status.total' },
      { name: 'Paid', type: 'date', jsonPath: '.status.paidAt' },
    ],
    fields: ['status.state', 'spec.customer'],
    list: () => Promise.resolve([]),
  }),
);
const t = { group: info.group, version: info.version, kind: info.kind, namespaced: true };
const proj = createProjection(info);

const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const input = fc.record({
  name: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
  namespace: fc.constantFrom('team-a', 'team-b', 'ü-team'),
  labels: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z0-9]{0,8}$/), { maxKeys: 3 }),
  annotations: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), text, { maxKeys: 2 }),
  creationTimestamp: fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }),
  spec: fc.record({ customer: text, note: text }),
  status: fc.record({
    state: text,
    total: fc.double({ noNaN: true, noDefaultInfinity: true }),
    // A date column: text, or a time with milliseconds (entries keep times in seconds).
    paidAt: fc.oneof(
      text,
      fc
        .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString()),
    ),
  }),
});

describe('ObjectEntry', () => {
  it('serves the same bytes, metadata, fields and cells as the parsed object would give', () => {
    const compiled = info.columns.map((c) => compileJsonPath(c.jsonPath));
    fc.assert(
      fc.property(input, fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (i, rv) => {
        const built = buildObject(i, t, () => '2024-01-01T00:00:00Z');
        const e = makeEntry(built.key, rv, built.hash, built.body, proj);
        const obj = JSON.parse(built.body) as KubeObject;
        obj.metadata.resourceVersion = String(rv);
        expect(JSON.parse(e.json.toString())).toEqual(obj);
        expect(e.json.toString()).toBe(JSON.stringify(obj));
        expect(e.obj).toEqual(obj);
        expect(e.metadataJson()).toBe(partialObjectMetadataJson(obj));
        expect(e.labels ?? {}).toEqual(obj.metadata.labels ?? {});
        expect(e.namespace).toBe(obj.metadata.namespace);
        expect(e.field('status.state')).toBe(i.status.state);
        expect(e.field('spec.customer')).toBe(i.spec.customer);
        expect(e.field('metadata.name')).toBe(obj.metadata.name);
        expect(e.creationTimestamp).toBe(obj.metadata.creationTimestamp);
        const now = Date.now();
        expect(e.cellsJson(now, humanDuration)).toBe(renderRow(tableRowTemplate(info, compiled, obj), now));
        const out = Buffer.alloc(e.byteLength(String(rv)) + 2);
        expect(e.writeJson(out, 1, String(rv))).toBe(out.length - 1);
        expect(out.subarray(1, -1).toString()).toBe(JSON.stringify(obj));
      }),
      { numRuns: 200 },
    );
  });

  it('a DELETED stamp shares the content and carries the new resourceVersion', () => {
    const built = buildObject(
      { name: 'o-1', namespace: 'team-a', labels: { app: 'shop' }, status: { state: 'paid' } },
      t,
      () => '2024-01-01T00:00:00Z',
    );
    const e = makeEntry(built.key, 5, built.hash, built.body, proj);
    const d = withResourceVersion(e, 9);
    expect(d.obj.metadata.resourceVersion).toBe('9');
    expect(d.labels).toBe(e.labels);
    expect(d.field('status.state')).toBe('paid');
    expect(e.obj.metadata.resourceVersion).toBe('5');
  });

  it('renders the name cell of rows that share their other cells, namespaced or cluster-scoped', () => {
    const compiled = info.columns.map((c) => compileJsonPath(c.jsonPath));
    const now = Date.now();
    const status = { state: 'paid', total: 3, paidAt: '2025-06-01T10:00:00.250Z' };
    for (const [input, scope] of [
      [{ name: 'a', namespace: 'n', status }, t],
      [{ name: 'b', namespace: 'n', status }, t],
      [
        { name: 'c', status },
        { ...t, namespaced: false },
      ],
    ] as const) {
      const built = buildObject(input, scope, () => '2024-01-01T00:00:00Z');
      const obj = JSON.parse(built.body) as KubeObject;
      const row = makeEntry(built.key, 1, built.hash, built.body, proj).cellsJson(now, humanDuration);
      expect(row).toBe(renderRow(tableRowTemplate(info, compiled, obj), now));
      expect(row).toContain(`["${input.name}",`);
    }
  });

  it('entries of one resource share equal label sets', () => {
    const a = buildObject({ name: 'a', namespace: 'n', labels: { app: 'shop' } }, t, () => '2024-01-01T00:00:00Z');
    const b = buildObject({ name: 'b', namespace: 'n', labels: { app: 'shop' } }, t, () => '2024-01-01T00:00:00Z');
    expect(makeEntry(a.key, 1, a.hash, a.body, proj).labels).toBe(makeEntry(b.key, 2, b.hash, b.body, proj).labels);
  });
});
