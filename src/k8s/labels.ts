/**
 * Kubernetes label selectors (`?labelSelector=`), parsed once per request and compiled to a predicate that
 * runs per object. Grammar, matching and messages follow k8s.io/apimachinery/pkg/labels/selector.go, so a
 * kubectl user sees the error text they would get from the real apiserver (plus the position).
 */
import { badRequest } from './errors.ts';

/** The operators of k8s.io/apimachinery/pkg/selection, spelled as upstream spells them. */
export type LabelOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

/** One comma-separated term. `values` are sorted and unique; empty for `exists` and `!`. */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

/** Labels as they sit on `metadata.labels`. */
export type Labels = Readonly<Record<string, string>> | undefined;

/** A parsed label selector. A plain object (not a class) so callers may spread it. */
export interface LabelSelector {
  /** True when the selector selects everything (empty or blank input). */
  readonly empty: boolean;
  /** Terms sorted by key, as upstream sorts them; for pushing selection down to an upstream API. */
  readonly requirements: readonly LabelRequirement[];
  /** True when every requirement holds for `labels` (absent labels = no labels). */
  matches(labels: Labels): boolean;
  /** Canonical form, e.g. `app=web,tier in (a,b)`; parses back to an equal selector. */
  toString(): string;
}

type Tok = 'id' | 'in' | 'notin' | 'end' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<';
interface Token {
  t: Tok;
  lit: string;
  pos: number;
}

const isWhitespace = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 10;
// = ! ( ) , > <
const isSpecial = (c: number): boolean =>
  c === 61 || c === 33 || c === 40 || c === 41 || c === 44 || c === 62 || c === 60;

/** Upstream's lexer: identifiers run until whitespace or a special symbol; `!=` and `==` are one token. */
function lex(s: string): Token[] {
  const out: Token[] = [];
  const n = s.length;
  let i = 0;
  for (;;) {
    while (i < n && isWhitespace(s.charCodeAt(i))) i++;
    if (i >= n) {
      out.push({ t: 'end', lit: '', pos: n });
      return out;
    }
    const start = i;
    if (isSpecial(s.charCodeAt(i))) {
      const c = s.charAt(i);
      const t = (c === '!' || c === '=') && s.charAt(i + 1) === '=' ? `${c}=` : c;
      i += t.length;
      out.push({ t: t as Tok, lit: t, pos: start });
    } else {
      while (i < n && !isSpecial(s.charCodeAt(i)) && !isWhitespace(s.charCodeAt(i))) i++;
      const lit = s.slice(start, i);
      out.push({ t: lit === 'in' || lit === 'notin' ? lit : 'id', lit, pos: start });
    }
  }
}

// Messages of k8s.io/apimachinery/pkg/util/validation (IsQualifiedName, IsValidLabelValue).
const NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const DNS1123_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

function keyErrors(key: string): string[] {
  const parts = key.split('/');
  if (parts.length > 2) {
    return [`a qualified name ${NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  const errs: string[] = [];
  const name = parts.length === 2 ? (parts[1] as string) : key;
  if (parts.length === 2) {
    const prefix = parts[0] as string;
    if (prefix === '') errs.push('prefix part must be non-empty');
    else if (prefix.length > 253) errs.push('prefix part must be no more than 253 characters');
    else if (!DNS1123_SUBDOMAIN_RE.test(prefix)) errs.push(`prefix part ${DNS1123_MSG}`);
  }
  if (name === '') errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (!NAME_RE.test(name)) errs.push(`name part ${NAME_MSG}`);
  return errs;
}

function valueErrors(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (v !== '' && !NAME_RE.test(v)) errs.push(VALUE_MSG);
  return errs;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, int64 range. Number when exact. */
function parseInt64(s: string): number | bigint | undefined {
  const n = s.length;
  const c0 = s.charCodeAt(0);
  const from = c0 === 43 || c0 === 45 ? 1 : 0; // + -
  if (from === n) return undefined;
  for (let i = from; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  if (n - from <= 15) return Number(s);
  const b = BigInt(s);
  return b >= INT64_MIN && b <= INT64_MAX ? b : undefined;
}

const fail = (msg: string, tok: Token, requirement: boolean): never => {
  throw badRequest(`${requirement ? 'unable to parse requirement: ' : ''}${msg} (at position ${tok.pos})`);
};

/** In the parser's "values" context the keywords `in`/`notin` are ordinary identifiers. */
const asValue = (t: Tok): Tok => (t === 'in' || t === 'notin' ? 'id' : t);

const BINARY_OPS: Partial<Record<Tok, LabelOperator>> = {
  in: 'in',
  notin: 'notin',
  '=': '=',
  '==': '==',
  '!=': '!=',
  '>': 'gt',
  '<': 'lt',
};

function parse(s: string): LabelRequirement[] {
  const toks = lex(s);
  let p = 0;
  const next = (): Token => toks[Math.min(p++, toks.length - 1)] as Token;
  const peek = (): Token => toks[Math.min(p, toks.length - 1)] as Token;
  const reqFail = (msg: string, tok: Token): never => fail(msg, tok, true);

  // `(` entries `)`, entries separated by ',', an empty entry standing for the empty value: `()`, `(a,)`,
  // `(,a)`, `(a,,b)`. Upstream accepts all of these too but, by a quirk of its loop, rejects `(a,,)`
  // while accepting `(a,,,)`; here every empty entry is the empty value (a strict superset).
  function parseValues(): string[] {
    const open = next();
    if (open.t !== '(') reqFail(`found '${open.lit}', expected: '('`, open);
    const vals: string[] = [];
    for (;;) {
      const entry = peek();
      const isId = asValue(entry.t) === 'id';
      if (isId) next();
      vals.push(isId ? entry.lit : '');
      const sep = next();
      if (sep.t === ')') return vals;
      if (sep.t !== ',')
        reqFail(`found '${sep.lit}', expected: ${isId ? "',' or ')'" : "',', ')' or identifier"}`, sep);
    }
  }

  function parseExactValue(): string[] {
    const t = peek();
    if (t.t === 'end' || t.t === ',') return [''];
    next();
    if (asValue(t.t) !== 'id') reqFail(`found '${t.lit}', expected: identifier`, t);
    return [t.lit];
  }

  function parseRequirement(): LabelRequirement {
    let tok = next();
    const not = tok.t === '!';
    if (not) tok = next();
    if (asValue(tok.t) !== 'id') reqFail(`found '${tok.lit}', expected: identifier`, tok);
    const key = tok.lit;
    const kerrs = keyErrors(key);
    if (kerrs.length > 0) reqFail(`key: Invalid value: ${JSON.stringify(key)}: ${kerrs.join('; ')}`, tok);
    // `!k` is complete by itself: whatever follows must be ',' or the end (checked by the caller).
    if (not) return { key, operator: '!', values: [] };
    const la = peek().t;
    if (la === 'end' || la === ',') return { key, operator: 'exists', values: [] };
    const opTok = next();
    const operator = BINARY_OPS[opTok.t];
    if (operator === undefined) {
      return reqFail(`found '${opTok.lit}', expected: '=', '!=', '==', 'in', 'notin', '>', '<'`, opTok);
    }
    const valStart = peek();
    const raw = operator === 'in' || operator === 'notin' ? parseValues() : parseExactValue();
    const values = [...new Set(raw)].sort();
    if (operator === 'gt' || operator === 'lt') {
      const v = values[0] as string;
      if (parseInt64(v) === undefined) {
        reqFail(
          `values[0]: Invalid value: ${JSON.stringify(v)}: for 'Gt', 'Lt' operators, the value must be an integer`,
          valStart,
        );
      }
    }
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as string;
      const verrs = valueErrors(v);
      if (verrs.length > 0) {
        reqFail(`values[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: ${verrs.join('; ')}`, valStart);
      }
    }
    return { key, operator, values };
  }

  const reqs: LabelRequirement[] = [];
  for (;;) {
    const tok = peek();
    const t = asValue(tok.t);
    if (t === 'end') return reqs;
    if (t !== 'id' && t !== '!') fail(`found '${tok.lit}', expected: !, identifier, or 'end of string'`, tok, false);
    reqs.push(parseRequirement());
    const sep = next();
    if (sep.t === 'end') return reqs;
    if (sep.t !== ',') fail(`found '${sep.lit}', expected: ',' or 'end of string'`, sep, false);
    const after = peek();
    const a = asValue(after.t);
    if (a !== 'id' && a !== '!') fail(`found '${after.lit}', expected: identifier after ','`, after, false);
  }
}

type Predicate = (labels: Labels) => boolean;

// Lookups use `typeof v === 'string'`: inherited Object.prototype members (a label key may well be
// `constructor`) are never strings, so this is both fast and correct without Object.hasOwn.
function compile(r: LabelRequirement): Predicate {
  const { key, values } = r;
  const one = values[0] as string;
  const set = new Set(values);
  // Small sets: a linear scan beats hashing.
  const isMember: (v: string) => boolean =
    values.length === 1 ? (v) => v === one : values.length <= 8 ? (v) => values.includes(v) : (v) => set.has(v);
  switch (r.operator) {
    case '=':
    case '==':
      return (l) => l !== undefined && l[key] === one;
    case 'in':
      return (l) => {
        const v = l?.[key];
        return typeof v === 'string' && isMember(v);
      };
    case '!=':
      return (l) => l === undefined || l[key] !== one;
    case 'notin':
      return (l) => {
        const v = l?.[key];
        return typeof v !== 'string' || !isMember(v);
      };
    case 'exists':
      return (l) => typeof l?.[key] === 'string';
    case '!':
      return (l) => typeof l?.[key] !== 'string';
    case 'gt':
    case 'lt': {
      const bound = parseInt64(one) as number | bigint;
      const gt = r.operator === 'gt';
      return (l) => {
        const v = l?.[key];
        if (typeof v !== 'string') return false;
        const n = parseInt64(v);
        return n !== undefined && (gt ? n > bound : n < bound);
      };
    }
  }
}

function requirementString(r: LabelRequirement): string {
  switch (r.operator) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator} (${r.values.join(',')})`;
    case 'gt':
      return `${r.key}>${r.values[0] ?? ''}`;
    case 'lt':
      return `${r.key}<${r.values[0] ?? ''}`;
    default:
      return `${r.key}${r.operator}${r.values[0] ?? ''}`;
  }
}

/** Combines requirement predicates with AND, unrolled for the common one- and two-term selectors. */
export function allOf<T>(preds: readonly ((x: T) => boolean)[]): (x: T) => boolean {
  const [a, b] = preds;
  if (a === undefined) return () => true;
  if (b === undefined) return a;
  if (preds.length === 2) return (x) => a(x) && b(x);
  return (x) => {
    for (const p of preds) if (!p(x)) return false;
    return true;
  };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Parses a label selector with the grammar and semantics of the Kubernetes apiserver.
 * Throws a 400 BadRequest {@link KubeError} naming the offending token and its position.
 *
 * @example
 * const sel = parseLabelSelector('app=web, tier notin (cache), !legacy');
 * sel.matches({ app: 'web', tier: 'front' }); // true
 * sel.toString(); // '!legacy,app=web,tier notin (cache)'
 */
export function parseLabelSelector(s: string): LabelSelector {
  // Sorted by key as upstream (ByKey), then by text so equivalent inputs print the same (`a<9,a>1`, `a>1,a<9`).
  const terms = parse(s).map((r) => ({ r, text: requirementString(r) }));
  terms.sort((x, y) => cmp(x.r.key, y.r.key) || cmp(x.text, y.text));
  const requirements = terms.map((t) => t.r);
  const text = terms.map((t) => t.text).join(',');
  return {
    empty: requirements.length === 0,
    requirements,
    matches: allOf(requirements.map(compile)),
    toString: () => text,
  };
}
