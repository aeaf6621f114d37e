import { Transform, pipeline, type Readable } from 'node:stream';
import type { TSchema } from '@sinclair/typebox';

/** What a masked secret is replaced with. */
export const MASK = '[masked]';

/** Values shorter than this are not masked: replacing "a" or "1" everywhere would garble every message. */
const MIN_SECRET_LENGTH = 6;

/** Secret values per owner (an adapter entry), the current ones and the ones they replaced. */
const owners = new Map<string, { current: string[]; previous: string[] }>();
let pattern: RegExp | undefined;
/** The same secrets as their UTF-8 bytes read as latin1, for masking byte streams; and the longest one. */
let bytePattern: RegExp | undefined;
let longestBytes = 0;

function rebuild(): void {
  const all = new Set<string>();
  for (const o of owners.values())
    for (const v of [...o.current, ...o.previous]) {
      if (v.length < MIN_SECRET_LENGTH) continue;
      all.add(v);
      // The same value as it appears in a URL or a form body.
      const enc = encodeURIComponent(v);
      if (enc !== v) all.add(enc);
    }
  // Longest first, so a secret containing another is masked whole.
  const sorted = [...all].sort((a, b) => b.length - a.length);
  const union = (xs: string[]) =>
    xs.length > 0 ? new RegExp(xs.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : undefined;
  pattern = union(sorted);
  const bytes = sorted.map((x) => Buffer.from(x, 'utf8').toString('latin1'));
  bytePattern = union(bytes);
  longestBytes = Math.max(0, ...bytes.map((b) => b.length));
}

/**
 * Declares the secret values of `owner` (an adapter's config values marked secret). Replacing them keeps the
 * previous ones masked too: after a key rotation, answers to calls made with the old key may still be in flight.
 *
 * @example
 * setSecrets('payments', ['sk_live_abc123456789']);
 * maskSecrets('bad key sk_live_abc123456789'); // 'bad key [masked]'
 */
export function setSecrets(owner: string, values: readonly string[]): void {
  const prev = owners.get(owner);
  const current = [...new Set(values.filter((v) => v.length > 0))];
  const previous = prev ? prev.current.filter((v) => !current.includes(v)) : [];
  if (current.length === 0 && previous.length === 0) owners.delete(owner);
  else owners.set(owner, { current, previous });
  rebuild();
}

/** `text` with every declared secret value replaced by {@link MASK}. */
export function maskSecrets(text: string): string {
  if (!pattern) return text;
  pattern.lastIndex = 0;
  return pattern.test(text) ? text.replace(pattern, MASK) : text;
}

/** True when the schema node is marked secret (the SDK's `Secret(...)`, or `secret: true` in its options). */
export function isSecretSchema(s: unknown): boolean {
  return typeof s === 'object' && s !== null && (s as { secret?: unknown }).secret === true;
}

/**
 * The string values of `value` that its schema marks secret (walking objects, arrays, unions and records).
 *
 * @example
 * secretValues(Type.Object({ apiKey: Secret(Type.String()) }), { apiKey: 'sk_test_1' }); // ['sk_test_1']
 */
export function secretValues(schema: TSchema, value: unknown): string[] {
  const out: string[] = [];
  const walk = (s: unknown, v: unknown, depth: number): void => {
    if (depth > 32 || typeof s !== 'object' || s === null || v === undefined || v === null) return;
    const node = s as Record<string, unknown>;
    if (isSecretSchema(node)) {
      collectStrings(v, out, 0);
      return;
    }
    for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
      const branches = node[k];
      if (Array.isArray(branches)) for (const b of branches) walk(b, v, depth + 1);
    }
    if (Array.isArray(v)) {
      const items = node.items;
      if (Array.isArray(items)) items.forEach((it, i) => walk(it, v[i], depth + 1));
      else for (const x of v) walk(items, x, depth + 1);
      return;
    }
    if (typeof v !== 'object') return;
    const obj = v as Record<string, unknown>;
    const props = (node.properties ?? {}) as Record<string, unknown>;
    const patterns = (node.patternProperties ?? {}) as Record<string, unknown>;
    for (const [k, x] of Object.entries(obj)) {
      if (k in props) walk(props[k], x, depth + 1);
      else {
        for (const [p, ps] of Object.entries(patterns)) if (new RegExp(p).test(k)) walk(ps, x, depth + 1);
        if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, x, depth + 1);
      }
    }
  };
  walk(schema, value, 0);
  return [...new Set(out)];
}

function collectStrings(v: unknown, out: string[], depth: number): void {
  if (depth > 32) return;
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) collectStrings(x, out, depth + 1);
  else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) collectStrings(x, out, depth + 1);
}

/**
 * `body` with every declared secret masked as it streams (an upstream answer passed on to a client), or
 * `body` itself when no secret is declared. A secret split across chunks is caught: the last bytes that could
 * begin one are held back until the next chunk. Memory stays at one chunk plus the longest secret.
 */
export function maskStream(body: Readable): Readable {
  const re = bytePattern;
  if (!re) return body;
  const keep = longestBytes - 1;
  let carry = '';
  const mask = (text: string) => {
    re.lastIndex = 0;
    return text.replace(re, MASK);
  };
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const text = mask(carry + chunk.toString('latin1'));
      const cut = Math.max(0, text.length - keep);
      carry = text.slice(cut);
      done(null, cut > 0 ? Buffer.from(text.slice(0, cut), 'latin1') : undefined);
    },
    flush(done) {
      done(null, carry ? Buffer.from(mask(carry), 'latin1') : undefined);
    },
  });
  // An error on either side ends both (the HTTP response sees it on `out`).
  pipeline(body, out, () => undefined);
  return out;
}
