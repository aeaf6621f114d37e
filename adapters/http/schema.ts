import { Type, formats, type TSchema } from 'kubegate/sdk';

/** Path inside the config and message of a problem; the caller turns it into a line naming the field. */
export type Fail = (path: (string | number)[], message: string) => never;

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);
/** Keywords kept as they are (they all have the same meaning in TypeBox and in OpenAPI v3). */
const KEPT = [
  'description',
  'default',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
];
const KNOWN = new Set([
  ...KEPT,
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'format',
  'nullable',
]);

/**
 * A JSON Schema written in YAML (the OpenAPI v3 subset CRDs use: object, array, string, integer, number,
 * boolean; properties, required, additionalProperties, items, enum, format, nullable, description, default,
 * bounds and pattern) as a TypeBox schema, which serves OpenAPI, `kubectl explain` and the check of mapped
 * objects. Anything else is refused with the path of the keyword, so a typo does not silently loosen the check.
 *
 * @example
 * toTypeBox({ type: 'object', properties: { stars: { type: 'integer' } } }, ['schema', 'status'], fail);
 */
export function toTypeBox(s: unknown, path: (string | number)[], fail: Fail, depth = 0): TSchema {
  if (depth > 32) fail(path, 'the schema is nested more than 32 levels deep');
  if (s === null || typeof s !== 'object' || Array.isArray(s))
    fail(path, 'a schema must be a mapping, e.g. {type: string}');
  const o = s as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!KNOWN.has(k)) fail([...path, k], `unsupported schema keyword (use ${[...KNOWN].join(', ')})`);
  const opts: Record<string, unknown> = {};
  for (const k of KEPT) if (o[k] !== undefined) opts[k] = o[k];
  if (typeof o.pattern === 'string') {
    try {
      new RegExp(o.pattern, 'u');
    } catch {
      fail([...path, 'pattern'], 'not a valid regular expression');
    }
  }
  if (o.format !== undefined) {
    if (typeof o.format !== 'string' || !(o.format in formats))
      fail([...path, 'format'], `unknown format (use ${Object.keys(formats).join(', ')})`);
    opts.format = o.format;
  }
  const type = o.type;
  if (typeof type !== 'string' || !TYPES.has(type))
    fail([...path, 'type'], `type must be one of ${[...TYPES].join(', ')}`);
  let out: TSchema;
  if (o.enum !== undefined) {
    if (!Array.isArray(o.enum) || o.enum.length === 0) fail([...path, 'enum'], 'enum must be a non-empty list');
    const literals = (o.enum as unknown[]).map((v, i) => {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
        fail([...path, 'enum', i], 'enum values must be strings, numbers or booleans');
      return Type.Literal(v);
    });
    out = Type.Union(literals, opts);
  } else if (type === 'object') {
    const props: unknown = o.properties ?? {};
    if (typeof props !== 'object' || props === null || Array.isArray(props))
      fail([...path, 'properties'], 'properties must be a mapping of field names to schemas');
    const required = o.required ?? [];
    if (!Array.isArray(required) || required.some((r) => typeof r !== 'string'))
      fail([...path, 'required'], 'required must be a list of field names');
    const req = new Set(required as string[]);
    for (const r of req) if (!(r in props)) fail([...path, 'required'], `"${r}" is required but not in properties`);
    const fields: Record<string, TSchema> = {};
    for (const [k, v] of Object.entries(props as Record<string, unknown>)) {
      const t = toTypeBox(v, [...path, 'properties', k], fail, depth + 1);
      fields[k] = req.has(k) ? t : Type.Optional(t);
    }
    const ap = o.additionalProperties;
    if (ap !== undefined && typeof ap !== 'boolean') {
      if (Object.keys(fields).length > 0)
        fail([...path, 'additionalProperties'], 'a schema here is supported only without properties (a map)');
      out = Type.Record(Type.String(), toTypeBox(ap, [...path, 'additionalProperties'], fail, depth + 1), opts);
    } else {
      // Without additionalProperties, unknown fields pass the check (JSON Schema's default).
      out = Type.Object(fields, ap === undefined ? opts : { ...opts, additionalProperties: ap });
    }
  } else if (type === 'array') {
    if (o.items === undefined) fail([...path, 'items'], 'an array schema needs items');
    out = Type.Array(toTypeBox(o.items, [...path, 'items'], fail, depth + 1), opts);
  } else if (type === 'string') out = Type.String(opts);
  else if (type === 'integer') out = Type.Integer(opts);
  else if (type === 'number') out = Type.Number(opts);
  else out = Type.Boolean(opts);
  if (o.nullable === true)
    out = Type.Union([out, Type.Null()], typeof o.description === 'string' ? { description: o.description } : {});
  return out;
}

/** spec or status: a schema whose type is object, as Kubernetes requires of a resource's top-level fields. */
export function topLevelSchema(s: unknown, path: (string | number)[], fail: Fail): TSchema {
  const t = (s as { type?: unknown } | null)?.type;
  if (s === null || typeof s !== 'object' || Array.isArray(s) || t !== 'object')
    fail(
      path,
      `the schema must be an object schema (type: object), got ${typeof t === 'string' ? `type: ${t}` : typeof s}`,
    );
  return toTypeBox(s, path, fail);
}
