import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KubeError } from './errors.ts';
import { jsonPatch, mergePatch } from './patch.ts';

describe('mergePatch (RFC 7386)', () => {
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j patched with %j is %j (the RFC examples)', (target, patch, want) => {
    expect(mergePatch(target, patch)).toEqual(want);
  });

  it('never changes its input, and an empty patch changes nothing', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (t, p) => {
        const before = JSON.stringify([t, p]);
        mergePatch(t, p);
        expect(JSON.stringify([t, p])).toBe(before);
        if (t !== null && typeof t === 'object' && !Array.isArray(t)) expect(mergePatch(t, {})).toEqual(t);
      }),
    );
  });
});

describe('jsonPatch (RFC 6902)', () => {
  const doc = { metadata: { labels: { a: '1' } }, spec: { items: [1, 2] } };
  it.each([
    [
      [{ op: 'add', path: '/metadata/labels/b', value: '2' }],
      { metadata: { labels: { a: '1', b: '2' } }, spec: { items: [1, 2] } },
    ],
    [[{ op: 'remove', path: '/metadata/labels/a' }], { metadata: { labels: {} }, spec: { items: [1, 2] } }],
    [
      [{ op: 'replace', path: '/spec/items/0', value: 9 }],
      { metadata: { labels: { a: '1' } }, spec: { items: [9, 2] } },
    ],
    [
      [{ op: 'add', path: '/spec/items/-', value: 3 }],
      { metadata: { labels: { a: '1' } }, spec: { items: [1, 2, 3] } },
    ],
    [
      [{ op: 'move', from: '/spec/items', path: '/spec/list' }],
      { metadata: { labels: { a: '1' } }, spec: { list: [1, 2] } },
    ],
    [
      [{ op: 'copy', from: '/metadata/labels/a', path: '/metadata/labels/a~1b' }],
      { metadata: { labels: { a: '1', 'a/b': '1' } }, spec: { items: [1, 2] } },
    ],
    [[{ op: 'test', path: '/spec/items/1', value: 2 }], doc],
  ])('%j', (ops, want) => {
    expect(jsonPatch(doc, ops)).toEqual(want);
  });

  it.each([
    ['not a list', { op: 'add' }, 400],
    ['unknown op', [{ op: 'frob', path: '/a' }], 400],
    ['a relative path', [{ op: 'add', path: 'a', value: 1 }], 400],
    ['add without value', [{ op: 'add', path: '/a' }], 400],
    ['a missing parent', [{ op: 'add', path: '/x/y', value: 1 }], 422],
    ['replacing what is not there', [{ op: 'replace', path: '/spec/nope', value: 1 }], 422],
    ['an index out of range', [{ op: 'add', path: '/spec/items/5', value: 1 }], 422],
    ['a failed test', [{ op: 'test', path: '/spec/items/0', value: 7 }], 422],
  ])('%s is refused', (_what, ops, code) => {
    expect(() => jsonPatch(doc, ops)).toThrow(expect.objectContaining({ code }) as Error);
  });

  it('arbitrary patches apply or throw a 400/422 Status, never anything else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (t, ops) => {
        try {
          jsonPatch(t, ops);
        } catch (err) {
          expect(err).toBeInstanceOf(KubeError);
          expect([400, 422]).toContain((err as KubeError).code);
        }
      }),
    );
  });
});
