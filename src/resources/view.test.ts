import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../store/types.ts';
import { CollectionView } from './view.ts';

const body = (name: string, v: number) =>
  JSON.stringify({
    apiVersion: 'g/v1',
    kind: 'Thing',
    metadata: { name, uid: name, resourceVersion: '', creationTimestamp: '2024-01-01T00:00:00Z' },
    status: { v },
  });

describe('CollectionView snapshots', () => {
  it('a listed version stays as it was while later changes add, modify and delete objects', () => {
    const view = new CollectionView({ maxEvents: 100_000, maxEventAgeMs: 60_000, maxSnapshots: 8 });
    let rv = 0;
    const ev = (type: StoredEvent['type'], name: string, v: number): StoredEvent => ({
      type,
      key: name,
      hash: `${name}:${v}`,
      body: body(name, v),
      rv: ++rv,
    });
    const names = Array.from({ length: 3000 }, (_, i) => `o-${String((i * 7919) % 3000).padStart(5, '0')}`);
    view.apply(names.map((n) => ev('ADDED', n, 0)));
    const model = new Map(names.map((n) => [n, 0]));
    const kept: { rv: number; expect: [string, number][] }[] = [];
    const snapshotOfModel = () => [...model].sort(([a], [b]) => (a < b ? -1 : 1));
    for (let round = 1; round <= 6; round++) {
      // A list at this version, then changes spread over the key space, some one by one, some in a batch.
      expect(view.sorted().map((e) => [e.key, (e.obj.status as { v: number }).v])).toEqual(snapshotOfModel());
      kept.push({ rv: view.rv, expect: snapshotOfModel() });
      const batch: StoredEvent[] = [];
      for (let i = round; i < names.length; i += 97) {
        const n = names[i] as string;
        if (i % 3 === 0) {
          batch.push(ev('DELETED', n, model.get(n) ?? 0));
          model.delete(n);
        } else if (model.has(n)) {
          batch.push(ev('MODIFIED', n, round));
          model.set(n, round);
        }
      }
      // New keys sort before the others, into one chunk of the index: it has to split.
      for (let i = 0; i < 120; i++) {
        const n = `new-${round}-${i}`;
        batch.push(ev('ADDED', n, round));
        model.set(n, round);
      }
      for (const e of batch.slice(0, 10)) view.apply([e]);
      view.apply(batch.slice(10));
    }
    for (const k of kept) {
      const snap = view.snapshotAt(k.rv);
      expect(snap?.map((e) => [e.key, (e.obj.status as { v: number }).v])).toEqual(k.expect);
    }
    expect(view.sorted().map((e) => e.key)).toEqual(snapshotOfModel().map(([k]) => k));
    expect(view.size).toBe(model.size);
  });

  it('forgets the oldest listed versions beyond maxSnapshots', () => {
    const view = new CollectionView({ maxEvents: 100, maxEventAgeMs: 60_000, maxSnapshots: 2 });
    const versions: number[] = [];
    for (let i = 1; i <= 4; i++) {
      view.apply([{ type: 'ADDED', key: `o-${i}`, hash: String(i), body: body(`o-${i}`, i), rv: i }]);
      view.sorted();
      versions.push(view.rv);
    }
    expect(view.snapshotAt(versions[0] as number)).toBeUndefined();
    expect(view.snapshotAt(versions[2] as number)?.map((e) => e.key)).toEqual(['o-1', 'o-2', 'o-3']);
  });
});
