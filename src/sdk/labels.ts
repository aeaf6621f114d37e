/**
 * Label rules (as Kubernetes validates them) and helpers that map upstream tags to valid labels without
 * hashes, so a person can guess the label from the tag and select on it.
 *
 * - A label value is empty, or at most 63 characters of `A-Z a-z 0-9 - _ .` beginning and ending with a
 *   letter or digit.
 * - A label key is `[prefix/]name`: the name follows the value rules but may not be empty; the optional prefix
 *   is a lower-case DNS subdomain (at most 253 characters of `a-z 0-9 - .`).
 */

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * True when `v` is a valid label value.
 *
 * @example
 * isLabelValue('prod'); // true
 * isLabelValue('env:prod'); // false
 */
export function isLabelValue(v: string): boolean {
  return v === '' || NAME.test(v);
}

/**
 * True when `k` is a valid label key (`name` or `prefix/name`).
 *
 * @example
 * isLabelKey('tags.example.com/team'); // true
 * isLabelKey('Cost Center'); // false
 */
export function isLabelKey(k: string): boolean {
  const slash = k.lastIndexOf('/');
  if (slash < 0) return NAME.test(k);
  return DNS_SUBDOMAIN.test(k.slice(0, slash)) && NAME.test(k.slice(slash + 1));
}

/** The readable mapping shared by names of keys and values: runs of other characters become one `-`. */
function clean(s: string): string {
  const x = s.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return x.slice(0, 63).replace(/[^A-Za-z0-9]+$/, '');
}

/**
 * Maps any string to a valid label value, readably and predictably: each run of characters other than
 * `A-Z a-z 0-9 - _ .` becomes one `-`, leading and trailing non-alphanumerics are removed, and the result is
 * cut to 63 characters. Valid values are returned unchanged. Returns undefined when nothing is left of a
 * non-empty input (e.g. `"!!!"`). Different inputs can map to the same value (`a b` and `a-b`).
 *
 * @example
 * toLabelValue('eu-west-1'); // 'eu-west-1'
 * toLabelValue('Prod (EU)'); // 'Prod-EU'
 * toLabelValue(42); // '42'
 */
export function toLabelValue(v: string | number | boolean): string | undefined {
  const s = String(v);
  if (isLabelValue(s)) return s;
  const x = clean(s);
  return x === '' ? undefined : x;
}

/**
 * Maps any string to a valid label key. A key with a `/` keeps its prefix when that prefix (lower-cased) is a
 * DNS subdomain; otherwise the `/` is treated like any other character. The name is mapped as in
 * {@link toLabelValue}. With `prefix`, the result is `prefix/name` (the prefix must itself be valid). Returns
 * undefined when no name is left.
 *
 * @example
 * toLabelKey('env'); // 'env'
 * toLabelKey('Cost Center'); // 'Cost-Center'
 * toLabelKey('aws:cloudformation:stack-name'); // 'aws-cloudformation-stack-name'
 * toLabelKey('team', { prefix: 'tags.example.com' }); // 'tags.example.com/team'
 */
export function toLabelKey(k: string, o: { prefix?: string } = {}): string | undefined {
  if (o.prefix !== undefined && !DNS_SUBDOMAIN.test(o.prefix))
    throw new TypeError(`label key prefix "${o.prefix}" must be a lower-case DNS subdomain, e.g. "tags.example.com"`);
  const slash = k.lastIndexOf('/');
  let prefix = o.prefix;
  let name = k;
  if (slash >= 0 && o.prefix === undefined && DNS_SUBDOMAIN.test(k.slice(0, slash).toLowerCase())) {
    prefix = k.slice(0, slash).toLowerCase();
    name = k.slice(slash + 1);
  }
  const n = NAME.test(name) ? name : clean(name);
  if (n === '') return undefined;
  return prefix === undefined ? n : `${prefix}/${n}`;
}

/** A tag {@link labelsFromTags} could not turn into a label, and why. */
export interface UnmappedTag {
  /** The tag as given (`key`, or `key:value` for string tags). */
  tag: string;
  reason: string;
}

/** Tags as APIs send them: a map, `key:value` / `key=value` / `flag` strings, or `{ key, value }` pairs. */
export type Tags =
  | Record<string, string | number | boolean | null | undefined>
  | readonly string[]
  | readonly ({ key: string; value?: string | null } | { Key: string; Value?: string | null })[];

function pairs(tags: Tags): [string, string | number | boolean | null | undefined][] {
  if (!Array.isArray(tags)) return Object.entries(tags as Record<string, string | number | boolean | null>);
  return (tags as readonly unknown[]).map((t) => {
    if (typeof t === 'string') {
      const i = t.search(/[:=]/);
      return i < 0 ? [t, ''] : [t.slice(0, i), t.slice(i + 1)];
    }
    const o = t as { key?: string; value?: string | null; Key?: string; Value?: string | null };
    return [o.key ?? o.Key ?? '', o.value ?? o.Value ?? ''];
  });
}

/**
 * Maps upstream tags to labels with {@link toLabelKey} and {@link toLabelValue}, and reports every tag it could
 * not map (no key left, no value left, null value, or a key another tag already maps to: the first tag in
 * sorted order wins). A string tag without `:` or `=` becomes a label with an empty value, selectable with
 * `-l flag`.
 *
 * @example
 * labelsFromTags(['env:prod', 'Cost Center=R&D', 'gpu'], { prefix: 'tags.example.com' });
 * // { labels: { 'tags.example.com/Cost-Center': 'R-D', 'tags.example.com/env': 'prod', 'tags.example.com/gpu': '' },
 * //   unmapped: [] }
 */
export function labelsFromTags(
  tags: Tags,
  o: { prefix?: string } = {},
): { labels: Record<string, string>; unmapped: UnmappedTag[] } {
  const labels: Record<string, string> = {};
  const from = new Map<string, string>();
  const unmapped: UnmappedTag[] = [];
  const all = pairs(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of all) {
    const tag = Array.isArray(tags) && typeof tags[0] === 'string' && v !== '' ? `${k}:${String(v)}` : k;
    if (v === null || v === undefined) {
      unmapped.push({ tag, reason: 'the tag has no value (null)' });
      continue;
    }
    const key = toLabelKey(k, o);
    if (key === undefined) {
      unmapped.push({ tag, reason: 'no letter or digit in the key' });
      continue;
    }
    const value = toLabelValue(v);
    if (value === undefined) {
      unmapped.push({ tag, reason: 'no letter or digit in the value' });
      continue;
    }
    const first = from.get(key);
    if (first !== undefined) {
      unmapped.push({ tag, reason: `maps to label key "${key}" like the tag "${first}"` });
      continue;
    }
    from.set(key, k);
    labels[key] = value;
  }
  return { labels, unmapped };
}
