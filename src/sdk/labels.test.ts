import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isLabelKey, isLabelValue, labelsFromTags, toLabelKey, toLabelValue } from './labels.ts';
import { parseLabelSelector } from '../k8s/labels.ts';

// Strings with the characters upstream tags really carry: ASCII punctuation, spaces, slashes and non-ASCII.
const tagText = fc.string({ unit: fc.constantFrom(...'aZ09-_./: =!é€#@'.split('')), maxLength: 300 });
const anyText = fc.oneof(tagText, fc.string({ unit: 'grapheme', maxLength: 100 }));

describe('label helpers', () => {
  it.each([
    ['prod', 'prod'],
    ['Prod (EU)', 'Prod-EU'],
    ['env:prod', 'env-prod'],
    ['  spaced out  ', 'spaced-out'],
    ['', ''],
    ['!!!', undefined],
    ['x'.repeat(70), 'x'.repeat(63)],
    [`${'a'.repeat(62)}.b`, 'a'.repeat(62)],
  ])('toLabelValue(%j) = %j', (input, want) => {
    expect(toLabelValue(input)).toBe(want);
  });

  it.each([
    ['env', {}, 'env'],
    ['Cost Center', {}, 'Cost-Center'],
    ['aws:cloudformation:stack-name', {}, 'aws-cloudformation-stack-name'],
    ['Example.COM/team', {}, 'example.com/team'],
    ['not a prefix/team', {}, 'not-a-prefix-team'],
    ['team', { prefix: 'tags.example.com' }, 'tags.example.com/team'],
    ['a/b', { prefix: 'tags.example.com' }, 'tags.example.com/a-b'],
    ['###', {}, undefined],
  ])('toLabelKey(%j, %j) = %j', (input, o, want) => {
    expect(toLabelKey(input, o)).toBe(want);
  });

  it('rejects an invalid prefix naming it', () => {
    expect(() => toLabelKey('x', { prefix: 'Not Valid' })).toThrow(/prefix "Not Valid" must be a lower-case DNS/);
  });

  it('property: the output is always a valid label value, and valid values are kept as they are', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const v = toLabelValue(s);
        if (v === undefined) return !/[A-Za-z0-9]/.test(s);
        expect(isLabelValue(v)).toBe(true);
        if (isLabelValue(s)) expect(v).toBe(s);
        // A selector on it parses: what the mapping returns can be selected on.
        expect(parseLabelSelector(`k=${v}`).matches({ k: v })).toBe(true);
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  it('property: the output is always a valid label key, with the given prefix', () => {
    fc.assert(
      fc.property(anyText, fc.option(fc.constantFrom('tags.example.com', 'a', 'x-y.z'), { nil: undefined }), (s, p) => {
        const k = toLabelKey(s, p === undefined ? {} : { prefix: p });
        if (k === undefined) return true;
        expect(isLabelKey(k)).toBe(true);
        if (p !== undefined) expect(k.startsWith(`${p}/`)).toBe(true);
        expect(parseLabelSelector(k).matches({ [k]: '' })).toBe(true);
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  it('labelsFromTags maps string tags, maps and key/value pairs, and reports what it cannot map', () => {
    expect(labelsFromTags(['env:prod', 'Cost Center=R&D', 'gpu'], { prefix: 'tags.example.com' })).toEqual({
      labels: { 'tags.example.com/Cost-Center': 'R-D', 'tags.example.com/env': 'prod', 'tags.example.com/gpu': '' },
      unmapped: [],
    });
    expect(
      labelsFromTags([
        { Key: 'team', Value: 'payments' },
        { Key: 'Team', Value: 'x' },
      ]),
    ).toEqual({ labels: { Team: 'x', team: 'payments' }, unmapped: [] });
    const r = labelsFromTags({ 'cost center': 'a', 'cost-center': 'b', '???': 'c', owner: null, note: '!!' });
    expect(r.labels).toEqual({ 'cost-center': 'a' });
    expect(r.unmapped).toEqual([
      { tag: '???', reason: 'no letter or digit in the key' },
      { tag: 'cost-center', reason: 'maps to label key "cost-center" like the tag "cost center"' },
      { tag: 'note', reason: 'no letter or digit in the value' },
      { tag: 'owner', reason: 'the tag has no value (null)' },
    ]);
  });

  it('property: every tag is either a label or reported', () => {
    fc.assert(
      fc.property(fc.dictionary(anyText, fc.oneof(anyText, fc.constant(null)), { maxKeys: 20 }), (tags) => {
        const r = labelsFromTags(tags);
        expect(Object.keys(r.labels).length + r.unmapped.length).toBe(Object.keys(tags).length);
        for (const [k, v] of Object.entries(r.labels)) {
          expect(isLabelKey(k)).toBe(true);
          expect(isLabelValue(v)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
