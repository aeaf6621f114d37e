import type { TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '../sdk/formats.ts';
import type { FieldError } from '../sdk/types.ts';

/**
 * A value checked against a resource schema (TypeBox JSON Schema), reported as Kubernetes field errors under
 * `root` (`spec.amount: Required value`, `spec.reason: Unsupported value: "x": supported values: ...`), in the
 * words the apiserver uses for CRD schema errors. At most `max` errors.
 */

const MAX_ERRORS = 20;

/** `spec` + `/items/0/sku` → `spec.items[0].sku`. */
export function fieldPath(root: string, pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), root);
}

type Schema = Record<string, unknown>;

/** The literal values of a union of literals (an enum), when the schema is one. */
function literals(schema: Schema): string[] | undefined {
  const anyOf = schema.anyOf;
  if (!Array.isArray(anyOf)) return Array.isArray(schema.enum) ? schema.enum.map(String) : undefined;
  const out: string[] = [];
  for (const s of anyOf as Schema[]) {
    if (!('const' in s)) return undefined;
    out.push(String(s.const));
  }
  return out;
}

function typeName(schema: Schema): string {
  return typeof schema.type === 'string' ? schema.type : 'the declared type';
}

function toFieldError(e: ValueError, root: string): FieldError {
  const field = fieldPath(root, e.path);
  const s = e.schema as Schema;
  const v: unknown = e.value;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return { field, type: 'Required' };
    case ValueErrorType.ObjectAdditionalProperties:
      return { field, type: 'Forbidden', detail: 'unknown field' };
    case ValueErrorType.Union:
    case ValueErrorType.Literal: {
      const allowed = literals(s) ?? ('const' in s ? [String(s.const)] : undefined);
      if (allowed) return { field, type: 'NotSupported', value: v, supported: allowed };
      return { field, type: 'Invalid', value: v, detail: 'does not match any of the allowed shapes' };
    }
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return { field, type: 'Invalid', value: v, detail: `must be greater than or equal to ${String(s.minimum)}` };
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return { field, type: 'Invalid', value: v, detail: `must be greater than ${String(s.exclusiveMinimum)}` };
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return { field, type: 'Invalid', value: v, detail: `must be less than or equal to ${String(s.maximum)}` };
    case ValueErrorType.NumberExclusiveMaximum:
    case ValueErrorType.IntegerExclusiveMaximum:
      return { field, type: 'Invalid', value: v, detail: `must be less than ${String(s.exclusiveMaximum)}` };
    case ValueErrorType.StringMaxLength:
      return { field, type: 'TooLong', detail: `may not be more than ${String(s.maxLength)} bytes` };
    case ValueErrorType.StringMinLength:
      return { field, type: 'Invalid', value: v, detail: `must be at least ${String(s.minLength)} characters long` };
    case ValueErrorType.StringPattern:
      return { field, type: 'Invalid', value: v, detail: `must match the pattern ${String(s.pattern)}` };
    case ValueErrorType.StringFormat:
      return { field, type: 'Invalid', value: v, detail: `must be a valid ${String(s.format)}` };
    case ValueErrorType.ArrayMaxItems:
      return {
        field,
        type: 'TooMany',
        value: Array.isArray(v) ? v.length : v,
        detail: `must have at most ${String(s.maxItems)} items`,
      };
    case ValueErrorType.ArrayMinItems:
      return { field, type: 'Invalid', value: v, detail: `must have at least ${String(s.minItems)} items` };
    default:
      return { field, type: 'Invalid', value: v, detail: `must be of type ${typeName(s)}` };
  }
}

/**
 * The field errors of `value` against `schema`, under `root` (e.g. `spec`). A missing required property is
 * one Required error (not also a type error at the same path).
 *
 * @example
 * schemaFieldErrors(Type.Object({ amount: Type.Integer({ minimum: 1 }) }), { amount: 0 }, 'spec');
 * // [{ field: 'spec.amount', type: 'Invalid', value: 0, detail: 'must be greater than or equal to 1' }]
 */
export function schemaFieldErrors(schema: TSchema, value: unknown, root: string): FieldError[] {
  if (value === undefined) return [{ field: root, type: 'Required' }];
  if (Value.Check(schema, value)) return [];
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(schema, value)) {
    const fe = toFieldError(e, root);
    if (seen.has(fe.field)) continue;
    seen.add(fe.field);
    out.push(fe);
    if (out.length >= MAX_ERRORS) break;
  }
  return out;
}

/**
 * Fields of `value` its schema does not declare (objects declared with `additionalProperties: false`), as
 * dotted paths under `root`; `remove` deletes them from `value` (fieldValidation Ignore and Warn).
 */
export function unknownFields(schema: TSchema, value: unknown, root: string, remove = false): string[] {
  const out: string[] = [];
  const walk = (s: Schema | undefined, v: unknown, path: string) => {
    if (!s || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      const items = s.items as Schema | undefined;
      v.forEach((x, i) => walk(items, x, `${path}[${i}]`));
      return;
    }
    const props = s.properties as Record<string, Schema> | undefined;
    if (!props) return;
    const obj = v as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      const p = props[k];
      const at = path ? `${path}.${k}` : k;
      if (p) walk(p, obj[k], at);
      else if (s.additionalProperties === false) {
        out.push(at);
        if (remove) Reflect.deleteProperty(obj, k);
      }
    }
  };
  walk(schema, value, root);
  return out;
}
