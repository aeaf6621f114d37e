/**
 * Kubernetes field selectors (`?fieldSelector=`): `f=v`, `f==v`, `f!=v`, comma = AND, backslash escaping.
 * Splitting, operator search and escaping follow k8s.io/apimachinery/pkg/fields/selector.go; the
 * unsupported-field text is the apiserver's, which kubectl users know.
 */
import { allOf } from './labels.ts';
import { badRequest } from './errors.ts';

export type FieldOperator = '=' | '==' | '!=';

/** One term, value unescaped. */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldOperator;
  readonly value: string;
}

/** Reads a field of the object being tested; `undefined` (absent) compares as `""`, as upstream. */
export type FieldGetter = (field: string) => string | undefined;

/** A parsed field selector. A plain object (not a class) so callers may spread it. */
export interface FieldSelector {
  /** True when the selector selects everything. */
  readonly empty: boolean;
  /** Terms in canonical (sorted) order, for pushing selection down to an upstream API. */
  readonly requirements: readonly FieldRequirement[];
  matches(get: FieldGetter): boolean;
  /** The name required by a `metadata.name=x` (or `==`) term: single-object watches, SAR `name`. */
  exactName(): string | undefined;
  /** Canonical form, values escaped: `metadata.name=a\,b,spec.x!=y`. */
  toString(): string;
}

/** Fields every resource supports, as the apiserver does for all kinds. */
export const ALWAYS_SUPPORTED_FIELDS: ReadonlySet<string> = new Set(['metadata.name', 'metadata.namespace']);

/** Splits on commas not preceded by an escaping backslash (upstream splitTerms). */
function splitTerms(s: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inSlash) inSlash = false;
    else if (c === 92)
      inSlash = true; // '\'
    else if (c === 44) {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

/** The first operator from the left wins; at one position `!=` and `==` are tried before `=` (upstream splitTerm). */
function splitTerm(term: string): [string, FieldOperator, string] | undefined {
  for (let i = 0; i < term.length; i++) {
    const c = term.charCodeAt(i);
    if (c === 33 && term.charCodeAt(i + 1) === 61) return [term.slice(0, i), '!=', term.slice(i + 2)];
    if (c === 61) {
      if (term.charCodeAt(i + 1) === 61) return [term.slice(0, i), '==', term.slice(i + 2)];
      return [term.slice(0, i), '=', term.slice(i + 1)];
    }
  }
  return undefined;
}

/**
 * Unescapes a term's value. Recognised escapes: `\\`, `\,`, `\=` (upstream) and `\!` (not upstream;
 * accepted because escaping `!` is a natural guess and harmless); any other escape, a trailing `\`, or a
 * bare `,`/`=` is an error.
 */
function unescapeValue(v: string, term: string): string {
  if (!/[\\,=]/.test(v)) return v;
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charAt(i);
    if (c === '\\') {
      const n = v.charAt(i + 1);
      if (n === '\\' || n === ',' || n === '=' || n === '!') {
        out += n;
        i++;
        continue;
      }
      throw badRequest(
        n === ''
          ? `invalid field selector: invalid escape sequence: \\ (a value may not end with a lone backslash) in '${term}'`
          : `invalid field selector: invalid escape sequence: \\${n} in '${term}' (only ',', '=', '!' and '\\' may follow a backslash)`,
      );
    }
    if (c === ',' || c === '=') {
      throw badRequest(
        `invalid field selector: unescaped character in value: '${c}' in '${term}' (write it as \\${c})`,
      );
    }
    out += c;
  }
  return out;
}

/**
 * Escapes a value for a field selector term (upstream EscapeValue): `\` → `\\`, `,` → `\,`, `=` → `\=`.
 *
 * @example
 * `metadata.name=${escapeFieldValue('a,b')}` // 'metadata.name=a\\,b'
 */
export function escapeFieldValue(v: string): string {
  return v.replace(/[\\,=]/g, (c) => `\\${c}`);
}

const requirementString = (r: FieldRequirement): string =>
  `${r.field}${r.operator === '!=' ? '!=' : '='}${escapeFieldValue(r.value)}`;

function compile(r: FieldRequirement): (get: FieldGetter) => boolean {
  const { field, value } = r;
  return r.operator === '!=' ? (get) => (get(field) ?? '') !== value : (get) => (get(field) ?? '') === value;
}

/**
 * Parses a field selector and checks every field against `supported` (plus `metadata.name` and
 * `metadata.namespace`, always supported). Throws 400 BadRequest: `field label not supported: <f>` for an
 * unknown field, `invalid selector: ...` for a term without an operator, or an escaping error.
 *
 * @example
 * const sel = parseFieldSelector('metadata.name=paris,spec.country!=FR', ['spec.country']);
 * sel.matches((f) => ({ 'metadata.name': 'paris', 'spec.country': 'DE' })[f]); // true
 * sel.exactName(); // 'paris'
 */
export function parseFieldSelector(s: string, supported: ReadonlySet<string> | readonly string[]): FieldSelector {
  const parts = splitTerms(s).sort();
  const requirements: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (!split) {
      throw badRequest(
        `invalid selector: '${s}'; can't understand '${part}' (expected field=value, field==value or field!=value)`,
      );
    }
    const [field, operator, raw] = split;
    requirements.push({ field, operator, value: unescapeValue(raw, part) });
  }
  // Upstream checks fields (Transform) only after the whole selector parsed.
  const sup: ReadonlySet<string> = Array.isArray(supported)
    ? new Set<string>(supported)
    : (supported as ReadonlySet<string>);
  for (const r of requirements) {
    if (!ALWAYS_SUPPORTED_FIELDS.has(r.field) && !sup.has(r.field))
      throw badRequest(`field label not supported: ${r.field}`);
  }
  // Order by canonical text (upstream orders by raw text) so that toString() is idempotent: `a==x` and `a=x` differ raw.
  const canonical = requirements.map((r) => ({ r, text: requirementString(r) }));
  canonical.sort((x, y) => (x.text < y.text ? -1 : x.text > y.text ? 1 : 0));
  requirements.splice(0, requirements.length, ...canonical.map((c) => c.r));
  const name = requirements.find((r) => r.field === 'metadata.name' && r.operator !== '!=')?.value;
  const text = canonical.map((c) => c.text).join(',');
  return {
    empty: requirements.length === 0,
    requirements,
    matches: allOf(requirements.map(compile)),
    exactName: () => name,
    toString: () => text,
  };
}
