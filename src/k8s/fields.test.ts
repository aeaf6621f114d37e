import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KubeError } from './errors.ts';
import { escapeFieldValue, parseFieldSelector, type FieldGetter } from './fields.ts';

const SUPPORTED = ['spec.country', 'status.phase'];

function kubeError(f: () => unknown): KubeError {
  try {
    f();
  } catch (e) {
    if (e instanceof KubeError) return e;
    throw e;
  }
  throw new Error('expected a KubeError');
}

const obj =
  (fields: Record<string, string>): FieldGetter =>
  (f) =>
    fields[f];

describe('parseFieldSelector: matching', () => {
  const cases: [selector: string, fields: Record<string, string>, want: boolean][] = [
    ['', {}, true],
    ['metadata.name=paris', { 'metadata.name': 'paris' }, true],
    ['metadata.name=paris', { 'metadata.name': 'lyon' }, false],
    ['metadata.name==paris', { 'metadata.name': 'paris' }, true],
    ['metadata.name!=paris', { 'metadata.name': 'lyon' }, true],
    ['metadata.name!=paris', { 'metadata.name': 'paris' }, false],
    ['metadata.namespace=', {}, true], // absent compares as ""
    ['metadata.namespace!=', {}, false],
    ['metadata.namespace!=', { 'metadata.namespace': 'default' }, true],
    ['spec.country=FR,status.phase!=Failed', { 'spec.country': 'FR', 'status.phase': 'Ok' }, true],
    ['spec.country=FR,status.phase!=Failed', { 'spec.country': 'FR', 'status.phase': 'Failed' }, false],
    ['spec.country=FR,,', { 'spec.country': 'FR' }, true], // empty terms are skipped
    ['spec.country=a\\,b', { 'spec.country': 'a,b' }, true],
    ['spec.country=a\\=b', { 'spec.country': 'a=b' }, true],
    ['spec.country=a\\\\b', { 'spec.country': 'a\\b' }, true],
    ['spec.country=a\\!b', { 'spec.country': 'a!b' }, true],
    ['spec.country=a!b', { 'spec.country': 'a!b' }, true],
    ['spec.country=!b', { 'spec.country': '!b' }, true],
    ['spec.country= FR', { 'spec.country': ' FR' }, true], // no trimming, as upstream
    ['metadata.name=a,metadata.name=b', { 'metadata.name': 'a' }, false],
  ];
  it.each(cases)('%j on %j → %s', (s, fields, want) => {
    expect(parseFieldSelector(s, SUPPORTED).matches(obj(fields))).toBe(want);
  });

  it('accepts the supported fields as a Set as well as an array', () => {
    expect(parseFieldSelector('spec.country=FR', new Set(SUPPORTED)).empty).toBe(false);
  });
});

describe('parseFieldSelector: structure', () => {
  it('exposes requirements in canonical (sorted) order with unescaped values', () => {
    const sel = parseFieldSelector('status.phase!=a\\,b,metadata.name==x', SUPPORTED);
    expect(sel.requirements).toEqual([
      { field: 'metadata.name', operator: '==', value: 'x' },
      { field: 'status.phase', operator: '!=', value: 'a,b' },
    ]);
    expect(sel.toString()).toBe('metadata.name=x,status.phase!=a\\,b');
    expect(sel.empty).toBe(false);
    expect(parseFieldSelector('', []).empty).toBe(true);
    expect(parseFieldSelector(',', []).empty).toBe(true);
  });

  const exact: [selector: string, name: string | undefined][] = [
    ['metadata.name=paris', 'paris'],
    ['metadata.name==paris', 'paris'],
    ['metadata.name!=paris', undefined],
    ['metadata.namespace=default,metadata.name=a\\,b', 'a,b'],
    ['metadata.namespace=default', undefined],
    ['', undefined],
    ['metadata.name=', ''],
  ];
  it('toString is idempotent when == and = sort differently raw', () => {
    const sel = parseFieldSelector('metadata.name==b,metadata.name=a', []);
    expect(sel.toString()).toBe('metadata.name=a,metadata.name=b');
    expect(parseFieldSelector(sel.toString(), []).toString()).toBe(sel.toString());
  });

  it.each(exact)('exactName of %j is %j', (s, name) => {
    expect(parseFieldSelector(s, []).exactName()).toBe(name);
  });

  it('can be spread (plain object, own members)', () => {
    const sel = { ...parseFieldSelector('metadata.name=x', []) };
    expect(sel.exactName()).toBe('x');
    expect(sel.matches(obj({ 'metadata.name': 'x' }))).toBe(true);
  });
});

describe('parseFieldSelector: errors', () => {
  const cases: [selector: string, message: string][] = [
    ['spec.city=Paris', 'field label not supported: spec.city'],
    ['metadata.uid=1', 'field label not supported: metadata.uid'],
    ['=x', 'field label not supported: '],
    ['metadata.name =x', 'field label not supported: metadata.name '],
    ['metadata.name', "invalid selector: 'metadata.name'; can't understand 'metadata.name'"],
    ['metadata.name=a,foo', "invalid selector: 'metadata.name=a,foo'; can't understand 'foo'"],
    ['metadata.name!x', "can't understand 'metadata.name!x'"],
    ['metadata.name=a=b', "invalid field selector: unescaped character in value: '=' in 'metadata.name=a=b'"],
    ['metadata.name=a\\x', 'invalid field selector: invalid escape sequence: \\x'],
    [
      'metadata.name=a\\',
      'invalid field selector: invalid escape sequence: \\ (a value may not end with a lone backslash)',
    ],
  ];
  it.each(cases)('%j → 400 %j', (s, message) => {
    const err = kubeError(() => parseFieldSelector(s, SUPPORTED));
    expect(err.code).toBe(400);
    expect(err.reason).toBe('BadRequest');
    expect(err.message).toContain(message);
  });

  it('names an unsupported field with the exact apiserver text', () => {
    expect(kubeError(() => parseFieldSelector('spec.city=Paris', SUPPORTED)).message).toBe(
      'field label not supported: spec.city',
    );
  });

  it('reports syntax errors before unsupported fields (upstream parses, then converts)', () => {
    expect(kubeError(() => parseFieldSelector('a=1,zz', [])).message).toContain("can't understand 'zz'");
  });
});

describe('parseFieldSelector: properties', () => {
  it('any value survives escapeFieldValue → parse', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.constantFrom('=', '==', '!='), (v, op) => {
        const sel = parseFieldSelector(`metadata.name${op}${escapeFieldValue(v)}`, []);
        expect(sel.requirements).toEqual([{ field: 'metadata.name', operator: op, value: v }]);
        expect(sel.exactName()).toBe(op === '!=' ? undefined : v);
        expect(sel.matches(() => v)).toBe(op !== '!=');
        const again = parseFieldSelector(sel.toString(), []);
        expect(again.toString()).toBe(sel.toString());
        expect(again.requirements[0]?.value).toBe(v);
      }),
      { numRuns: 2000 },
    );
  });

  it('several terms: AND of each term', () => {
    const term = fc.record({
      field: fc.constantFrom('metadata.name', 'metadata.namespace', 'spec.country'),
      op: fc.constantFrom('=', '==', '!='),
      value: fc.string({ unit: fc.constantFrom('a', 'b', '=', ',', '\\', '!'), maxLength: 4 }),
    });
    fc.assert(
      fc.property(
        fc.array(term, { maxLength: 4 }),
        fc.dictionary(fc.constantFrom('metadata.name', 'spec.country'), fc.string({ maxLength: 3 })),
        (terms, fields) => {
          const sel = parseFieldSelector(
            terms.map((t) => `${t.field}${t.op}${escapeFieldValue(t.value)}`).join(','),
            SUPPORTED,
          );
          const want = terms.every((t) => ((fields[t.field] ?? '') === t.value) === (t.op !== '!='));
          expect(sel.matches(obj(fields))).toBe(want);
          expect(sel.requirements).toHaveLength(terms.length);
          expect(parseFieldSelector(sel.toString(), SUPPORTED).toString()).toBe(sel.toString());
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('arbitrary input either parses or throws a 400 KubeError', () => {
    const unit = fc.constantFrom('metadata.name', 'spec.country', 'a', '=', '!', ',', '\\', ' ', 'x');
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit, maxLength: 20 }), fc.string({ maxLength: 30 })), (s) => {
        try {
          const sel = parseFieldSelector(s, SUPPORTED);
          expect(parseFieldSelector(sel.toString(), SUPPORTED).toString()).toBe(sel.toString());
        } catch (e) {
          expect(e).toBeInstanceOf(KubeError);
          expect((e as KubeError).code).toBe(400);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
