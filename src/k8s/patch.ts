import { badRequest, KubeError } from './errors.ts';

/**
 * Patches applied to a served object: JSON merge patch (RFC 7386) and JSON patch (RFC 6902). Both return a
 * new value and never change their input. A malformed patch is a 400; a JSON patch `test` that fails, or an
 * operation on a path that does not exist, is a 422 as on the apiserver.
 */

/** How a PATCH body is applied. */
export type PatchType = 'merge' | 'json';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * RFC 7386: objects merge key by key, `null` removes a key, anything else replaces.
 *
 * @example
 * mergePatch({ a: 1, b: { c: 2 } }, { b: { c: null, d: 3 } }); // { a: 1, b: { d: 3 } }
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) Reflect.deleteProperty(out, k);
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unescapeToken(t: string): string {
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(p: unknown, where: string): string[] {
  if (typeof p !== 'string' || (p !== '' && !p.startsWith('/')))
    throw badRequest(`${where}: path must be a JSON pointer such as "/spec/amount"`);
  return p === '' ? [] : p.slice(1).split('/').map(unescapeToken);
}

const unprocessable = (message: string) => new KubeError(422, 'Invalid', message);

function parentOf(doc: unknown, tokens: string[], path: string): { parent: unknown; key: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw unprocessable(`the JSON patch path ${JSON.stringify(path)} does not exist`);
  }
  return { parent: cur, key: tokens[tokens.length - 1] ?? '' };
}

function getAt(doc: unknown, tokens: string[], path: string): unknown {
  if (tokens.length === 0) return doc;
  const { parent, key } = parentOf(doc, tokens, path);
  const v: unknown = Array.isArray(parent)
    ? (parent as unknown[])[Number(key)]
    : isObject(parent)
      ? parent[key]
      : undefined;
  if (v === undefined) throw unprocessable(`the JSON patch path ${JSON.stringify(path)} does not exist`);
  return v;
}

function arrayIndex(arr: unknown[], key: string, path: string, forAdd: boolean): number {
  if (forAdd && key === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(key))
    throw unprocessable(`the JSON patch path ${JSON.stringify(path)} is not a list index`);
  const i = Number(key);
  if (i > arr.length || (!forAdd && i === arr.length))
    throw unprocessable(`the JSON patch path ${JSON.stringify(path)} is out of range`);
  return i;
}

function removeAt(doc: unknown, tokens: string[], path: string): unknown {
  if (tokens.length === 0) throw unprocessable('a JSON patch cannot remove the whole object');
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, path, false);
    return parent.splice(i, 1)[0];
  }
  if (!isObject(parent) || !(key in parent))
    throw unprocessable(`the JSON patch path ${JSON.stringify(path)} does not exist`);
  const v = parent[key];
  Reflect.deleteProperty(parent, key);
  return v;
}

function addAt(doc: unknown, tokens: string[], value: unknown, path: string, replace: boolean): unknown {
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, path, !replace);
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else if (isObject(parent)) {
    if (replace && !(key in parent)) throw unprocessable(`the JSON patch path ${JSON.stringify(path)} does not exist`);
    parent[key] = value;
  } else throw unprocessable(`the JSON patch path ${JSON.stringify(path)} does not exist`);
  return doc;
}

/** At most this many operations in one JSON patch (the apiserver bounds them too). */
const MAX_OPS = 10_000;

/**
 * RFC 6902: `add`, `remove`, `replace`, `move`, `copy` and `test`, applied in order to a copy of `target`.
 *
 * @example
 * jsonPatch({ spec: { amount: 5 } }, [{ op: 'replace', path: '/spec/amount', value: 6 }]); // { spec: { amount: 6 } }
 */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('a JSON patch must be a list of operations');
  if (ops.length > MAX_OPS) throw badRequest(`a JSON patch may have at most ${MAX_OPS} operations`);
  let doc = structuredClone(target);
  ops.forEach((raw, i) => {
    const where = `JSON patch operation ${i}`;
    if (!isObject(raw)) throw badRequest(`${where} is not an object`);
    const path = raw.path;
    const tokens = parsePointer(path, where);
    const p = path as string;
    switch (raw.op) {
      case 'add':
      case 'replace':
        if (!('value' in raw)) throw badRequest(`${where}: "value" is required`);
        doc = addAt(doc, tokens, structuredClone(raw.value), p, raw.op === 'replace');
        break;
      case 'remove':
        removeAt(doc, tokens, p);
        break;
      case 'move':
      case 'copy': {
        const from = parsePointer(raw.from, where);
        const v =
          raw.op === 'move'
            ? removeAt(doc, from, String(raw.from))
            : structuredClone(getAt(doc, from, String(raw.from)));
        doc = addAt(doc, tokens, v, p, false);
        break;
      }
      case 'test':
        if (JSON.stringify(getAt(doc, tokens, p)) !== JSON.stringify(raw.value))
          throw unprocessable(`the JSON patch test of ${JSON.stringify(p)} failed`);
        break;
      default:
        throw badRequest(`${where}: unknown op ${JSON.stringify(raw.op)} (add, remove, replace, move, copy or test)`);
    }
  });
  return doc;
}
