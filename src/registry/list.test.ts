import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeContinueToken } from '../k8s/continue.ts';
import { KubeError } from '../k8s/errors.ts';
import { parseListOptions } from '../k8s/params.ts';
import { CollectionView } from '../resources/view.ts';
import type { ObjectEntry } from '../resources/entry.ts';
import { FUTURE_RV_WAIT_MS, selectList, type FieldGetter } from './list.ts';

const FIELDS = new Set(['metadata.name', 'metadata.namespace']);
const field: FieldGetter = (e, f) => (f === 'metadata.name' ? e.key.split('/').pop() : undefined);

function body(namespace: string, name: string, labels: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: 'g/v1',
    kind: 'Thing',
    metadata: { name, namespace, labels, resourceVersion: '' },
  });
}

/** A view with `team-a/x0..x4` and `team-b/y0..y4` at resourceVersions 101..110; `color` alternates. */
function view(): CollectionView {
  const v = new CollectionView({ maxEvents: 100, maxEventAgeMs: 60_000, maxSnapshots: 4 });
  v.reset({ rv: 100, objects: [], synced: true });
  let rv = 100;
  for (const [ns, prefix] of [
    ['team-a', 'x'],
    ['team-b', 'y'],
  ] as const) {
    for (let i = 0; i < 5; i++) {
      const name = `${prefix}${i}`;
      const labels = { color: i % 2 === 0 ? 'red' : 'blue' };
      v.apply([{ type: 'ADDED', key: `${ns}/${name}`, hash: `h${rv}`, body: body(ns, name, labels), rv: ++rv }]);
    }
  }
  return v;
}

const opts = (q: Record<string, string>) => parseListOptions(q, FIELDS);
const names = (es: readonly ObjectEntry[]) => es.map((e) => e.key);

async function statusOf(p: Promise<unknown>): Promise<{ code: number; reason: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KubeError) return { code: err.code, reason: err.reason, message: err.message };
    throw err;
  }
  throw new Error('expected a Status error');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('selectList', () => {
  it('reads the current state in key order, namespace ranges included', async () => {
    const v = view();
    const all = await selectList(v, field, undefined, opts({}));
    expect(all.rv).toBe(110);
    expect(names(all.entries)).toEqual([
      ...['x0', 'x1', 'x2', 'x3', 'x4'].map((n) => `team-a/${n}`),
      ...['y0', 'y1', 'y2', 'y3', 'y4'].map((n) => `team-b/${n}`),
    ]);
    const b = await selectList(v, field, 'team-b', opts({}));
    expect(names(b.entries)).toEqual(['y0', 'y1', 'y2', 'y3', 'y4'].map((n) => `team-b/${n}`));
  });

  it('pages with limit and continue through one snapshot, with remainingItemCount only when unfiltered', async () => {
    const v = view();
    const first = await selectList(v, field, undefined, opts({ limit: '4' }));
    expect(names(first.entries)).toEqual(['team-a/x0', 'team-a/x1', 'team-a/x2', 'team-a/x3']);
    expect(first.remainingItemCount).toBe(6);
    expect(first.continue).toBeDefined();
    // A change after the first page is not seen by the next pages: they read the first page's snapshot.
    v.apply([{ type: 'ADDED', key: 'team-a/x5', hash: 'h', body: body('team-a', 'x5', {}), rv: 111 }]);
    const second = await selectList(v, field, undefined, opts({ limit: '4', continue: first.continue ?? '' }));
    expect(second.rv).toBe(110);
    expect(names(second.entries)).toEqual(['team-a/x4', 'team-b/y0', 'team-b/y1', 'team-b/y2']);
    expect(second.remainingItemCount).toBe(2);
    const last = await selectList(v, field, undefined, opts({ limit: '4', continue: second.continue ?? '' }));
    expect(names(last.entries)).toEqual(['team-b/y3', 'team-b/y4']);
    expect(last.continue).toBeUndefined();

    const red = await selectList(v, field, undefined, opts({ limit: '2', labelSelector: 'color=red' }));
    expect(names(red.entries)).toEqual(['team-a/x0', 'team-a/x2']);
    expect(red.continue).toBeDefined();
    expect(red.remainingItemCount).toBeUndefined();
  });

  it('hands out no continue token when nothing after the page matches', async () => {
    const v = view();
    const sel = await selectList(v, field, 'team-a', opts({ limit: '3', labelSelector: 'color=red' }));
    expect(names(sel.entries)).toEqual(['team-a/x0', 'team-a/x2', 'team-a/x4']);
    expect(sel.continue).toBeUndefined();
  });

  it('answers 410 Expired for a continue token whose snapshot is no longer kept', async () => {
    const v = view();
    const first = await selectList(v, field, undefined, opts({ limit: '2' }));
    // Newer snapshots push the old one out (four are kept).
    for (let rv = 111; rv <= 116; rv++) {
      v.apply([{ type: 'ADDED', key: `team-c/z${rv}`, hash: 'h', body: body('team-c', `z${rv}`, {}), rv }]);
      await selectList(v, field, undefined, opts({}));
    }
    expect(decodeContinueToken(first.continue ?? '').rv).toBe(110);
    const s = await statusOf(selectList(v, field, undefined, opts({ limit: '2', continue: first.continue ?? '' })));
    expect(s).toMatchObject({ code: 410, reason: 'Expired' });
    expect(s.message).toMatch(/^The provided continue parameter is too old/);
  });

  it('resourceVersionMatch=Exact reads that snapshot, and 410 once it is gone', async () => {
    const v = view();
    await selectList(v, field, undefined, opts({}));
    v.apply([{ type: 'DELETED', key: 'team-a/x0', hash: 'h', body: body('team-a', 'x0', {}), rv: 111 }]);
    const exact = await selectList(
      v,
      field,
      undefined,
      opts({ resourceVersion: '110', resourceVersionMatch: 'Exact' }),
    );
    expect(exact.rv).toBe(110);
    expect(names(exact.entries)).toContain('team-a/x0');
    const now = await selectList(v, field, undefined, opts({ resourceVersion: '110' }));
    expect(now.rv).toBe(111);
    expect(names(now.entries)).not.toContain('team-a/x0');
    const s = await statusOf(
      selectList(v, field, undefined, opts({ resourceVersion: '42', resourceVersionMatch: 'Exact' })),
    );
    expect(s).toMatchObject({ code: 410, reason: 'Expired', message: 'too old resource version: 42 (100)' });
  });

  it('waits for a resourceVersion from the future, then answers 504 ResourceVersionTooLarge', async () => {
    vi.useFakeTimers();
    const v = view();
    const late = selectList(v, field, undefined, opts({ resourceVersion: '111' }));
    v.apply([{ type: 'ADDED', key: 'team-a/x9', hash: 'h', body: body('team-a', 'x9', {}), rv: 111 }]);
    expect((await late).rv).toBe(111);

    const never = statusOf(selectList(v, field, undefined, opts({ resourceVersion: '500' })));
    await vi.advanceTimersByTimeAsync(FUTURE_RV_WAIT_MS);
    const s = await never;
    expect(s).toMatchObject({ code: 504, reason: 'Timeout', message: 'Too large resource version: 500, current: 111' });
  });
});
