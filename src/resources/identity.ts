import { createHash, hash } from 'node:crypto';
import { labelsFromTags } from '../sdk/labels.ts';

/**
 * Object identity and sanitizing, deterministic across replicas and restarts (docs/architecture.md, "Objects and versions").
 */

// RFC 4122 namespace for kubegate object uids (a fixed random UUID; changing it changes every uid).
const UID_NAMESPACE = Buffer.from('6f1c2a4e9b3d4c8a8e2f5a7b9c0d1e2f', 'hex');

/** UUIDv5 of `group/kind/namespace/name`: the same object has the same uid on every replica, forever. */
export function objectUid(group: string, kind: string, namespace: string | undefined, name: string): string {
  // One-shot hashing: no native Hash object per object and poll (they outlive the poll until a GC).
  const h = hash('sha1', Buffer.concat([UID_NAMESPACE, Buffer.from(`${group}/${kind}/${namespace ?? ''}/${name}`)]));
  const byte = (i: number) => parseInt(h.slice(2 * i, 2 * i + 2), 16);
  const hex2 = (b: number) => b.toString(16).padStart(2, '0');
  const x = `${h.slice(0, 12)}${hex2((byte(6) & 0x0f) | 0x50)}${h.slice(14, 16)}${hex2((byte(8) & 0x3f) | 0x80)}${h.slice(18, 32)}`;
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

/**
 * Labels of a served object from what the adapter returned: keys and values mapped readably, without hashes,
 * by the SDK's label helpers (strings, numbers and booleans kept; null and undefined dropped; keys sorted; of
 * two keys mapping to one label, the first in sorted order wins; keys or values with nothing left dropped).
 * Adapters that must know what was dropped map their tags with `labelsFromTags` themselves.
 */
export function sanitizeLabels(
  input: Record<string, string | number | boolean | null | undefined> | undefined,
): Record<string, string> | undefined {
  if (!input) return undefined;
  const { labels } = labelsFromTags(input);
  return Object.keys(labels).length > 0 ? labels : undefined;
}

/** Makes an upstream id a DNS subdomain name (lower-cased; other characters become `-`; hash suffix if changed). */
export function sanitizeName(id: string): string {
  if (DNS_SUBDOMAIN.test(id)) return id;
  // Each dot-separated part must be a DNS label: alphanumeric at both ends.
  let s = id
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .split('.')
    .map((part) => part.replace(/^-+|-+$/g, ''))
    .filter(Boolean)
    .join('.');
  const suffix = shortHash(id);
  s = s.slice(0, 200).replace(/[^a-z0-9]+$/, '');
  return s ? `${s}-${suffix}` : suffix;
}

/** JSON with object keys sorted: a stable content hash input regardless of upstream key order. */
export function stableStringify(v: unknown): string {
  // JSON.stringify(undefined or a function) is undefined at run time, whatever its type says.
  if (v === null || typeof v !== 'object') {
    // undefined, functions and symbols stringify to undefined at run time, whatever the type says.
    return typeof v === 'undefined' || typeof v === 'function' || typeof v === 'symbol' ? 'null' : JSON.stringify(v);
  }
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : stableStringify(x))).join(',')}]`;
  const o = v as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(o).sort()) {
    const x = o[k];
    if (x === undefined || typeof x === 'function') continue;
    parts.push(`${JSON.stringify(k)}:${stableStringify(x)}`);
  }
  return `{${parts.join(',')}}`;
}

/** Content hash of an object (what decides whether a poll produced a MODIFIED event). */
export function contentHash(v: unknown): string {
  return hash('sha1', stableStringify(v), 'base64url');
}
