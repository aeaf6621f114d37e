import { parse } from 'yaml';

/** A JSON Schema object of an OpenAPI document (the parts the scaffold reads). */
interface Schema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  format?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
}

interface Doc {
  paths?: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> }>
  >;
  components?: { schemas?: Record<string, Schema> };
}

/** What the scaffold generates from an OpenAPI document: one mirror resource over its first list operation. */
export interface OpenApiPlan {
  /** The list operation's path, e.g. `/v1/parts`. */
  path: string;
  /** Its 200 response code as openapi-typescript keys it (`200` or `'200'`). */
  responseKey: string;
  /** Property of the body holding the items; undefined when the body is the array. */
  itemsProperty: string | undefined;
  idField: string;
  kind: string;
  plural: string;
  /** Status fields: upstream property, status key (camelCase), TypeBox expression. */
  fields: { from: string; to: string; typebox: string; type: 'string' | 'integer' | 'number' | 'boolean' | 'array' }[];
  /** TypeScript expression of one sample item for index `i` (the fake upstream). */
  sampleItem: string;
  /** TypeScript expression of the body around `items`. */
  sampleBody: string;
  /** The broken item of the generated test: a sample with a null where the schema wants a string. */
  brokenItem: string;
}

export class OpenApiError extends Error {
  override name = 'OpenApiError';
}

/**
 * Finds the first GET without path parameters whose 200 JSON body is an array of objects, or an object with
 * such an array, and plans a mirror resource over it.
 *
 * @example
 * planFromOpenApi(readFileSync('openapi.yaml', 'utf8')).path; // '/v1/parts'
 */
export function planFromOpenApi(text: string): OpenApiPlan {
  const doc = parse(text) as Doc | null;
  if (!doc || typeof doc !== 'object' || !doc.paths) throw new OpenApiError('not an OpenAPI document (no paths)');
  const deref = (s: Schema | undefined): Schema | undefined => {
    for (let i = 0; s?.$ref && i < 32; i++) {
      const m = /^#\/components\/schemas\/(.+)$/.exec(s.$ref);
      s = m?.[1] ? doc.components?.schemas?.[m[1]] : undefined;
    }
    return s;
  };
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (path.includes('{')) continue;
    const responses = ops.get?.responses ?? {};
    const responseKey = Object.keys(responses).find((k) => k === '200');
    if (!responseKey) continue;
    const body = deref(responses[responseKey]?.content?.['application/json']?.schema);
    if (!body) continue;
    let itemsProperty: string | undefined;
    let array: Schema | undefined = isType(body, 'array') ? body : undefined;
    if (!array && body.properties) {
      for (const [k, v] of Object.entries(body.properties)) {
        const p = deref(v);
        if (p && isType(p, 'array') && isType(deref(p.items) ?? {}, 'object')) {
          itemsProperty = k;
          array = p;
          break;
        }
      }
    }
    const item = deref(array?.items);
    if (!item?.properties) continue;
    const props = item.properties;
    const required = new Set(item.required ?? []);
    const idField =
      ['id', 'name', 'key', 'uid', 'slug'].find((k) => k in props && required.has(k)) ??
      Object.keys(props).find((k) => required.has(k) && isType(deref(props[k]) ?? {}, 'string'));
    if (!idField) throw new OpenApiError(`GET ${path}: the items have no required id (a string or number field)`);
    const segment = path.split('/').filter(Boolean).pop() ?? 'items';
    const plural = segment.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
    const singular = plural.endsWith('ies') ? `${plural.slice(0, -3)}y` : plural.replace(/s$/, '');
    const kind = singular
      .split('-')
      .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
      .join('');
    const fields: OpenApiPlan['fields'] = [];
    for (const [k, v] of Object.entries(props)) {
      if (k === idField) continue;
      const s = deref(v);
      const t = s && primitive(s, deref);
      if (!s || !t) continue;
      let tb = typeboxOf(t, s, deref);
      if (s.nullable || (Array.isArray(s.type) && s.type.includes('null'))) tb = `Type.Union([${tb}, Type.Null()])`;
      if (!required.has(k)) tb = `Type.Optional(${tb})`;
      fields.push({ from: k, to: camel(k), typebox: tb, type: t });
    }
    const sampleItem = sample(item, deref, 'i', idField, singular, 0);
    const brokenField = fields.find(
      (f) => f.type === 'string' && required.has(f.from) && !deref(props[f.from])?.nullable,
    );
    const prop = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k));
    const brokenItem = `{ ...sample(99), ${prop(idField)}: 'broken'${
      brokenField ? `, ${prop(brokenField.from)}: null` : ''
    } } as unknown as Item`;
    const sampleBody = itemsProperty
      ? `{ ...${sample(body, deref, '0', undefined, singular, 0, itemsProperty)}, ${prop(itemsProperty)}: items }`
      : 'items';
    return { path, responseKey, itemsProperty, idField, kind, plural, fields, sampleItem, sampleBody, brokenItem };
  }
  throw new OpenApiError(
    'no GET without path parameters answers 200 with a JSON array of objects (or an object holding one)',
  );
}

function isType(s: Schema, t: string): boolean {
  return s.type === t || (Array.isArray(s.type) && s.type.includes(t)) || (t === 'object' && !!s.properties);
}

type Primitive = OpenApiPlan['fields'][number]['type'];

function primitive(s: Schema, deref: (s: Schema | undefined) => Schema | undefined): Primitive | undefined {
  for (const t of ['string', 'integer', 'number', 'boolean'] as const) if (isType(s, t)) return t;
  if (isType(s, 'array')) {
    const it = deref(s.items);
    if (it && ['string', 'integer', 'number', 'boolean'].some((t) => isType(it, t))) return 'array';
  }
  return undefined;
}

function typeboxOf(t: Primitive, s: Schema, deref: (s: Schema | undefined) => Schema | undefined): string {
  const base = (x: Schema) =>
    isType(x, 'string')
      ? x.format === 'date-time'
        ? `Type.String({ format: 'date-time' })`
        : 'Type.String()'
      : isType(x, 'integer')
        ? 'Type.Integer()'
        : isType(x, 'number')
          ? 'Type.Number()'
          : 'Type.Boolean()';
  if (t === 'array') return `Type.Array(${base(deref(s.items) ?? {})})`;
  return base(s);
}

/** `unit_price` → `unitPrice`: Kubernetes field names are camelCase. */
function camel(k: string): string {
  return k.replace(/[-_ ]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/^[A-Z]/, (c) => c.toLowerCase());
}

/** TypeScript source of a value matching `s` (required properties only), numbered by the expression `i`. */
function sample(
  s: Schema,
  deref: (s: Schema | undefined) => Schema | undefined,
  i: string,
  idField: string | undefined,
  singular: string,
  depth: number,
  omit?: string,
): string {
  if (depth > 6) return 'null';
  if (s.enum && s.enum.length > 0) return JSON.stringify(s.enum[0]);
  const alt = s.oneOf?.[0] ?? s.anyOf?.[0] ?? s.allOf?.[0];
  if (alt) return sample(deref(alt) ?? {}, deref, i, idField, singular, depth + 1);
  if (isType(s, 'object') || s.properties) {
    const req = new Set(s.required ?? []);
    const parts: string[] = [];
    for (const [k, v] of Object.entries(s.properties ?? {})) {
      if (k === omit || !req.has(k)) continue;
      const value =
        k === idField && isType(deref(v) ?? {}, 'string')
          ? `\`${singular}-\${${i}}\``
          : sample(deref(v) ?? {}, deref, i, undefined, k.replace(/[^a-z0-9]+/gi, '-').toLowerCase(), depth + 1);
      parts.push(`${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${value}`);
    }
    return `{ ${parts.join(', ')} }`;
  }
  if (isType(s, 'array')) return '[]';
  if (/^\d+$/.test(i)) {
    // A constant (the envelope around a list): plain literals.
    if (isType(s, 'string')) return s.format === 'date-time' ? `'2026-01-01T00:00:00Z'` : `'${singular}'`;
    if (isType(s, 'integer') || isType(s, 'number')) return i;
    if (isType(s, 'boolean')) return 'false';
  }
  if (isType(s, 'string'))
    return s.format === 'date-time'
      ? `new Date(Date.UTC(2026, 0, 1 + ${i})).toISOString()`
      : `\`${singular}-\${${i}}\``;
  if (isType(s, 'integer')) return i;
  if (isType(s, 'number')) return `${i} * 1.5`;
  if (isType(s, 'boolean')) return `${i} % 2 === 0`;
  return 'null';
}
