import type { FieldError } from '../sdk/types.ts';
import { KubeError } from './errors.ts';

/**
 * Field errors on the Kubernetes wire: the cause reasons (`FieldValueInvalid`...), the text of each error
 * and the 422 Invalid Status, worded as the apiserver's field.Error and NewInvalid word them, because kubectl
 * and users read them (`Refund.payments.kubegate.dev "r1" is invalid: spec.amount: Invalid value: -5: must be
 * greater than 0`).
 */

const TYPES: Record<FieldError['type'], { reason: string; text: string; showsValue: boolean }> = {
  Required: { reason: 'FieldValueRequired', text: 'Required value', showsValue: false },
  Invalid: { reason: 'FieldValueInvalid', text: 'Invalid value', showsValue: true },
  NotSupported: { reason: 'FieldValueNotSupported', text: 'Unsupported value', showsValue: true },
  Forbidden: { reason: 'FieldValueForbidden', text: 'Forbidden', showsValue: false },
  Duplicate: { reason: 'FieldValueDuplicate', text: 'Duplicate value', showsValue: true },
  TooLong: { reason: 'FieldValueTooLong', text: 'Too long', showsValue: false },
  TooMany: { reason: 'FieldValueTooMany', text: 'Too many', showsValue: true },
  NotFound: { reason: 'FieldValueNotFound', text: 'Not found', showsValue: true },
};

const MAX_VALUE = 200;

/** A value as the apiserver prints it: strings quoted, numbers and booleans bare, null as null, objects as JSON. */
function printValue(v: unknown): string {
  let s: string;
  if (v === null || v === undefined) s = 'null';
  else if (typeof v === 'string') s = JSON.stringify(v);
  else if (typeof v === 'number' || typeof v === 'boolean') s = String(v);
  else if (typeof v === 'function' || typeof v === 'symbol') s = 'null';
  else s = JSON.stringify(v);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE)}...` : s;
}

/** The error without its field: `Invalid value: -5: must be greater than 0` (a cause's message). */
export function fieldErrorBody(e: FieldError): string {
  const t = TYPES[e.type];
  let s = t.text;
  if (t.showsValue && 'value' in e) s += `: ${printValue(e.value)}`;
  let detail = e.detail ?? '';
  if (e.type === 'NotSupported' && e.supported && e.supported.length > 0 && !detail)
    detail = `supported values: ${e.supported.map((x) => JSON.stringify(x)).join(', ')}`;
  if (detail) s += `: ${detail}`;
  return s;
}

/** `spec.amount: Invalid value: -5: must be greater than 0`. */
export function fieldErrorText(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

/** The Status cause of a field error. */
export function fieldCause(e: FieldError): { reason: string; message: string; field: string } {
  return { reason: TYPES[e.type].reason, message: fieldErrorBody(e), field: e.field };
}

/**
 * 422 Invalid for `errs` on the object `name` of `kind` in `group`: the message joins the distinct error texts
 * (one as it is, several in brackets, comma-separated), details name the group, kind and object, one cause each.
 *
 * @example
 * invalidObject('Refund', 'payments.kubegate.dev', 'r1', [{ field: 'spec.amount', type: 'Required' }]).message;
 * // 'Refund.payments.kubegate.dev "r1" is invalid: spec.amount: Required value'
 */
export function invalidObject(kind: string, group: string, name: string, errs: FieldError[]): KubeError {
  const texts = [...new Set(errs.map(fieldErrorText))];
  const qualified = group ? `${kind}.${group}` : kind;
  const what = `${qualified} ${JSON.stringify(name)} is invalid`;
  const message =
    texts.length === 0 ? what : texts.length === 1 ? `${what}: ${texts[0]}` : `${what}: [${texts.join(', ')}]`;
  return new KubeError(422, 'Invalid', message, { name, group, kind, causes: errs.map(fieldCause) });
}
