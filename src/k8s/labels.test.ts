import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KubeError } from './errors.ts';
import { parseLabelSelector, type Labels } from './labels.ts';

/** Runs `f` and returns the KubeError it throws (failing the test if it throws anything else or nothing). */
function kubeError(f: () => unknown): KubeError {
  try {
    f();
  } catch (e) {
    if (e instanceof KubeError) return e;
    throw e;
  }
  throw new Error('expected a KubeError');
}

describe('parseLabelSelector: matching', () => {
  const cases: [selector: string, labels: Labels, want: boolean][] = [
    ['', undefined, true],
    ['', { a: 'b' }, true],
    ['   ', {}, true],
    ['a=b', { a: 'b' }, true],
    ['a=b', { a: 'c' }, false],
    ['a=b', {}, false],
    ['a=b', undefined, false],
    ['a==b', { a: 'b' }, true],
    ['a!=b', { a: 'c' }, true],
    ['a!=b', { a: 'b' }, false],
    ['a!=b', {}, true], // absent key matches !=
    ['a!=b', undefined, true],
    ['a=', { a: '' }, true],
    ['a=', {}, false],
    ['a!=', { a: '' }, false],
    ['a in (x,y)', { a: 'y' }, true],
    ['a in (x,y)', { a: 'z' }, false],
    ['a in (x,y)', {}, false],
    ['a in ()', { a: '' }, true],
    ['a in (x,)', { a: '' }, true],
    ['a notin (x,y)', { a: 'z' }, true],
    ['a notin (x,y)', { a: 'x' }, false],
    ['a notin (x,y)', {}, true], // absent key matches notin
    ['a', { a: '' }, true],
    ['a', { b: '' }, false],
    ['!a', { b: '' }, true],
    ['!a', { a: 'x' }, false],
    ['!a', undefined, true],
    ['a>5', { a: '6' }, true],
    ['a>5', { a: '5' }, false],
    ['a>5', { a: 'six' }, false], // not an integer: no match
    ['a>5', {}, false], // key must exist
    ['a<5', { a: '-3' }, true],
    ['a<5', { a: '+4' }, true], // Go ParseInt accepts a sign
    ['a<5', { a: '05' }, false],
    ['a>9007199254740993', { a: '9007199254740994' }, true], // beyond 2^53: exact, not float
    ['a>9007199254740993', { a: '9007199254740993' }, false],
    ['a<1', { a: '99999999999999999999' }, false], // out of int64 range: not an integer
    ['a=b,c=d', { a: 'b', c: 'd' }, true],
    ['a=b,c=d', { a: 'b', c: 'x' }, false],
    ['a=b,c=d,e', { a: 'b', c: 'd', e: '' }, true],
    ['a=b,c=d,e', { a: 'b', c: 'd' }, false],
    ['x in (foo,,baz),y,z notin ()', { x: 'foo', y: '1', z: 'q' }, true],
    ['constructor', {}, false], // inherited Object.prototype members are not labels
    ['!toString', {}, true],
    ['constructor!=x', {}, true],
    ['example.com/app=web', { 'example.com/app': 'web' }, true],
    ['in in (in)', { in: 'in' }, true], // keywords are values in value position
    ['notin notin (in,notin)', { notin: 'x' }, true],
  ];
  it.each(cases)('%j matches %j → %s', (s, labels, want) => {
    expect(parseLabelSelector(s).matches(labels)).toBe(want);
  });

  it('a set of more than eight values matches by hashing as well as by scan', () => {
    const vals = Array.from({ length: 20 }, (_, i) => `v${i}`);
    const sel = parseLabelSelector(`a in (${vals.join(',')})`);
    expect(sel.matches({ a: 'v19' })).toBe(true);
    expect(sel.matches({ a: 'v20' })).toBe(false);
    expect(parseLabelSelector(`a notin (${vals.join(',')})`).matches({ a: 'v3' })).toBe(false);
  });
});

describe('parseLabelSelector: structure', () => {
  const cases: [selector: string, canonical: string][] = [
    ['a=b', 'a=b'],
    [' a = b ', 'a=b'],
    ['a\t==\tb', 'a==b'],
    ['b,a', 'a,b'],
    ['b!=1, a in ( z , y , y ), !c', 'a in (y,z),b!=1,!c'],
    ['x in (foo,,baz)', 'x in (,baz,foo)'],
    ['a notin ()', 'a notin ()'],
    ['a in (,)', 'a in ()'],
    ['a in (b,,)', 'a in (,b)'], // upstream rejects this one by a quirk; we accept it (see labels.ts)
    ['a in (,,,b)', 'a in (,b)'],
    ['a>10,a<20', 'a<20,a>10'],
    ['a<20,a>10', 'a<20,a>10'],
    ['a=', 'a='],
    ['in in (in)', 'in in (in)'],
  ];
  it.each(cases)('%j → %j', (s, canonical) => {
    expect(parseLabelSelector(s).toString()).toBe(canonical);
    expect(parseLabelSelector(canonical).toString()).toBe(canonical);
  });

  it('exposes sorted requirements with sorted, unique values', () => {
    const sel = parseLabelSelector('z notin (b,a,b), !y, x>3, w, v==1, u in (q)');
    expect(sel.empty).toBe(false);
    expect(sel.requirements).toEqual([
      { key: 'u', operator: 'in', values: ['q'] },
      { key: 'v', operator: '==', values: ['1'] },
      { key: 'w', operator: 'exists', values: [] },
      { key: 'x', operator: 'gt', values: ['3'] },
      { key: 'y', operator: '!', values: [] },
      { key: 'z', operator: 'notin', values: ['a', 'b'] },
    ]);
    expect(parseLabelSelector('').empty).toBe(true);
    expect(parseLabelSelector('').requirements).toEqual([]);
  });

  it('can be spread (plain object, own members)', () => {
    const sel = { ...parseLabelSelector('a=b') };
    expect(sel.matches({ a: 'b' })).toBe(true);
    expect(sel.toString()).toBe('a=b');
  });
});

describe('parseLabelSelector: errors', () => {
  const long = 'a'.repeat(64);
  const cases: [selector: string, message: string][] = [
    ['(', "found '(', expected: !, identifier, or 'end of string' (at position 0)"],
    [',a', "found ',', expected: !, identifier, or 'end of string' (at position 0)"],
    ['a=b,', "found '', expected: identifier after ',' (at position 4)"],
    ['a=b,,c', "found ',', expected: identifier after ',' (at position 4)"],
    ['a=b c', "found 'c', expected: ',' or 'end of string' (at position 4)"],
    ['a in (b)(', "found '(', expected: ',' or 'end of string' (at position 8)"],
    ['!a=b', "found '=', expected: ',' or 'end of string' (at position 2)"],
    ['!', "unable to parse requirement: found '', expected: identifier (at position 1)"],
    ['!!a', "unable to parse requirement: found '!', expected: identifier (at position 1)"],
    [
      'a b',
      "unable to parse requirement: found 'b', expected: '=', '!=', '==', 'in', 'notin', '>', '<' (at position 2)",
    ],
    ['a in', "unable to parse requirement: found '', expected: '(' (at position 4)"],
    ['a notin b', "unable to parse requirement: found 'b', expected: '(' (at position 8)"],
    ['a in (b c)', "unable to parse requirement: found 'c', expected: ',' or ')' (at position 8)"],
    ['a in (b', "unable to parse requirement: found '', expected: ',' or ')' (at position 7)"],
    ['a in (b,', "unable to parse requirement: found '', expected: ',', ')' or identifier (at position 8)"],
    ['a in (b,(', "unable to parse requirement: found '(', expected: ',', ')' or identifier (at position 8)"],
    ['a in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier (at position 6)"],
    ['a==(', "unable to parse requirement: found '(', expected: identifier (at position 3)"],
    ['a=!b', "unable to parse requirement: found '!', expected: identifier (at position 2)"],
    ['a<=5', "unable to parse requirement: found '=', expected: identifier (at position 2)"],
    [
      'a>x',
      `unable to parse requirement: values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer (at position 2)`,
    ],
    [
      'a>',
      `unable to parse requirement: values[0]: Invalid value: "": for 'Gt', 'Lt' operators, the value must be an integer (at position 2)`,
    ],
    ['-a', 'unable to parse requirement: key: Invalid value: "-a": name part must consist of alphanumeric'],
    ['/a', 'unable to parse requirement: key: Invalid value: "/a": prefix part must be non-empty (at position 0)'],
    ['a/', 'unable to parse requirement: key: Invalid value: "a/": name part must be non-empty'],
    ['Ex.com/a', 'key: Invalid value: "Ex.com/a": prefix part a lowercase RFC 1123 subdomain'],
    ['a/b/c', 'key: Invalid value: "a/b/c": a qualified name must consist of'],
    [long, `key: Invalid value: "${long}": name part must be no more than 63 characters`],
    [`a=${long}`, `values[0][a]: Invalid value: "${long}": must be no more than 63 characters`],
    ['a=-b', 'values[0][a]: Invalid value: "-b": a valid label must be an empty string or consist of'],
    ['a>-5', 'values[0][a]: Invalid value: "-5": a valid label must be an empty string'],
    ['a in (x,b_)', 'values[0][a]: Invalid value: "b_": a valid label'],
    ['a=é', 'values[0][a]: Invalid value: "é"'],
  ];
  it.each(cases)('%j → 400 %j', (s, message) => {
    const err = kubeError(() => parseLabelSelector(s));
    expect(err.code).toBe(400);
    expect(err.reason).toBe('BadRequest');
    expect(err.message).toContain(message);
  });
});

// ---- property tests ----

const keyArb = fc.constantFrom('a', 'b', 'app', 'example.com/tier', 'in', 'notin', 'x.y-z_1');
const valueArb = fc.constantFrom('', 'x', 'y', 'web', '1', '5', '10', '007', 'in');
const labelsArb: fc.Arbitrary<Labels> = fc.option(
  fc.dictionary(keyArb, fc.constantFrom('', 'x', 'web', '1', '5', '6', '10', '-3', 'in'), { maxKeys: 5 }),
  { nil: undefined },
);

type Req =
  | { op: '=' | '==' | '!='; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | '!'; key: string }
  | { op: '>' | '<'; key: string; n: number };

const reqArb: fc.Arbitrary<Req> = fc.oneof(
  fc.record({ op: fc.constantFrom('=' as const, '==' as const, '!=' as const), key: keyArb, value: valueArb }),
  fc.record({
    op: fc.constantFrom('in' as const, 'notin' as const),
    key: keyArb,
    values: fc.array(valueArb, { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ op: fc.constantFrom('exists' as const, '!' as const), key: keyArb }),
  fc.record({ op: fc.constantFrom('>' as const, '<' as const), key: keyArb, n: fc.integer({ min: 0, max: 12 }) }),
);
const ws = fc.constantFrom('', '', ' ', '  ', '\t');

function render(r: Req, w: () => string): string {
  switch (r.op) {
    case 'exists':
      return `${w()}${r.key}${w()}`;
    case '!':
      return `${w()}!${w()}${r.key}${w()}`;
    case 'in':
    case 'notin':
      // The keyword needs whitespace on both sides to stay a separate token.
      return `${w()}${r.key} ${r.op} ${w()}(${r.values.map((v) => `${w()}${v}${w()}`).join(',')})${w()}`;
    case '>':
    case '<':
      return `${w()}${r.key}${w()}${r.op}${w()}${r.n}${w()}`;
    default:
      return `${w()}${r.key}${w()}${r.op}${w()}${r.value}${w()}`;
  }
}

/** The semantics of selector.go's Requirement.Matches, written independently of the implementation. */
function reference(r: Req, l: Labels): boolean {
  const has = l !== undefined && Object.hasOwn(l, r.key);
  const v = has ? (l as Record<string, string>)[r.key] : undefined;
  switch (r.op) {
    case '=':
    case '==':
      return has && v === r.value;
    case '!=':
      return !has || v !== r.value;
    case 'in':
      return has && r.values.includes(v as string);
    case 'notin':
      return !has || !r.values.includes(v as string);
    case 'exists':
      return has;
    case '!':
      return !has;
    case '>':
    case '<': {
      if (!has || !/^[+-]?[0-9]+$/.test(v as string)) return false;
      const n = Number(v);
      return r.op === '>' ? n > r.n : n < r.n;
    }
  }
}

describe('parseLabelSelector: properties', () => {
  it('any well-formed selector parses and matches like the reference semantics', () => {
    fc.assert(
      fc.property(
        fc.array(reqArb, { maxLength: 5 }),
        fc.array(ws, { minLength: 64, maxLength: 64 }),
        fc.array(labelsArb, { minLength: 1, maxLength: 8 }),
        (reqs, spaces, labelSets) => {
          let i = 0;
          const w = (): string => spaces[i++ % spaces.length] as string;
          const sel = parseLabelSelector(reqs.map((r) => render(r, w)).join(','));
          expect(sel.empty).toBe(reqs.length === 0);
          for (const l of labelSets) expect(sel.matches(l)).toBe(reqs.every((r) => reference(r, l)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('toString is canonical: it parses back to the same string and the same matches', () => {
    fc.assert(
      fc.property(fc.array(reqArb, { maxLength: 5 }), fc.array(labelsArb, { maxLength: 8 }), (reqs, labelSets) => {
        const sel = parseLabelSelector(reqs.map((r) => render(r, () => ' ')).join(','));
        const again = parseLabelSelector(sel.toString());
        expect(again.toString()).toBe(sel.toString());
        expect(again.requirements).toEqual(sel.requirements);
        for (const l of labelSets) expect(again.matches(l)).toBe(sel.matches(l));
      }),
      { numRuns: 1000 },
    );
  });

  const grammarChar = fc.constantFrom(
    'a',
    'b',
    '1',
    '-',
    '.',
    '/',
    '_',
    '=',
    '!',
    '(',
    ')',
    ',',
    '<',
    '>',
    ' ',
    '\t',
    'in',
    'notin',
    'é',
    '\u0000',
  );
  it('arbitrary input either parses or throws a 400 KubeError (never anything else)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: grammarChar, maxLength: 40 }),
          fc.string({ maxLength: 40 }),
          fc.string({ unit: 'binary', maxLength: 40 }),
        ),
        (s) => {
          try {
            const sel = parseLabelSelector(s);
            expect(parseLabelSelector(sel.toString()).toString()).toBe(sel.toString());
          } catch (e) {
            expect(e).toBeInstanceOf(KubeError);
            expect((e as KubeError).code).toBe(400);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('stays linear on large adversarial input', () => {
    const inputs = [
      'a'.repeat(200_000),
      `${'a'.repeat(100_000)}!`,
      `${'a.'.repeat(50_000)}/b`,
      `${'a-'.repeat(120)}a/b`,
      `k in (${'x,'.repeat(50_000)}x)`,
      'a=b,'.repeat(50_000) + 'c',
      '('.repeat(100_000),
    ];
    const t0 = performance.now();
    for (const s of inputs) {
      try {
        parseLabelSelector(s);
      } catch (e) {
        expect(e).toBeInstanceOf(KubeError);
      }
    }
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
