/**
 * Query parameters of list, get and watch requests (docs/kubernetes-wire.md, "Lists" and "Watch"), parsed and validated in the
 * order the apiserver does it: decoding errors (400), then ValidateListOptions (422), then the storage
 * checks on resourceVersion and continue (400). Texts are upstream's where upstream has one.
 */
import { decodeContinueToken, type ContinuePosition } from './continue.ts';
import { badRequest, invalid } from './errors.ts';
import { parseFieldSelector, type FieldSelector } from './fields.ts';
import { parseLabelSelector, type LabelSelector } from './labels.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';
export type ResourceVersionMatch = 'NotOlderThan' | 'Exact';

/** A parsed query string: fastify gives a string per parameter, an array when it is repeated. */
export type Query = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Options of a list or watch. Mutable: a handler may narrow `fieldSelector` for a legacy single-object watch. */
export interface ListOptions {
  labelSelector: LabelSelector;
  fieldSelector: FieldSelector;
  /** Page size; absent when unset or 0 (no limit, as upstream). */
  limit?: number;
  /** Decoded `continue` of a list; never set on a watch (the apiserver ignores it there). */
  continue?: ContinuePosition;
  /** Absent for ""/unset (most recent); 0 for "0" (any). */
  resourceVersion?: number;
  resourceVersionMatch?: ResourceVersionMatch;
  watch: boolean;
  allowWatchBookmarks: boolean;
  /** Absent when unset; on a watch always paired with resourceVersionMatch=NotOlderThan. */
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
  /** Table `includeObject`; unset or "" means Metadata. */
  includeObject: IncludeObject;
}

/**
 * Parses a boolean like Go's strconv.ParseBool; anything else is 400 naming the parameter.
 *
 * @example
 * parseBool('watch', 'True'); // true
 */
export function parseBool(name: string, value: string): boolean {
  switch (value) {
    case '1':
    case 't':
    case 'T':
    case 'TRUE':
    case 'true':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'FALSE':
    case 'false':
    case 'False':
      return false;
  }
  throw badRequest(`invalid value for ${name}: ${JSON.stringify(value)}: must be a boolean (true or false)`);
}

const DECIMAL = /^[0-9]+$/;

/**
 * Parses a non-negative decimal integer (no sign, no exponent, at most 2^53-1); else 400 naming the parameter.
 *
 * @example
 * parseNonNegativeInt('limit', '500'); // 500
 */
export function parseNonNegativeInt(name: string, value: string): number {
  const n = DECIMAL.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) {
    const why = /^\s*-\s*[0-9]/.test(value) ? 'must not be negative' : 'must be a non-negative decimal integer';
    throw badRequest(`invalid value for ${name}: ${JSON.stringify(value)}: ${why}`);
  }
  return n;
}

/**
 * Parses `resourceVersion`: ""/unset → undefined, "0" → 0, decimal → number; anything else is 400.
 *
 * @example
 * parseResourceVersion('12345'); // 12345
 */
export function parseResourceVersion(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = DECIMAL.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw badRequest(
      `invalid resource version ${JSON.stringify(value)}: must be "", "0" or a resourceVersion this server returned (a decimal integer)`,
    );
  }
  return n;
}

/** Repeated parameters: the first wins, as Go's url.Values.Get and the apiserver's parameter codec do. */
function first(query: Query, name: string): string | undefined {
  const v = query[name];
  return typeof v === 'string' || v === undefined ? v : v[0];
}

type FieldError = { field: string; text: string };
const forbidden = (field: string, detail: string): FieldError => ({ field, text: `${field}: Forbidden: ${detail}` });
const notSupported = (field: string, value: string, supported: string[]): FieldError => ({
  field,
  text: `${field}: Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});

/** ValidateListOptions / validateWatchOptions of k8s.io/apimachinery/pkg/apis/meta/internalversion/validation. */
function validate(watch: boolean, rv: string, match: string, cont: string, sie: boolean | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const M = 'resourceVersionMatch';
  if (watch) {
    if (sie !== undefined && match !== 'NotOlderThan') {
      errs.push(forbidden(M, 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
    }
    if (match !== '') {
      if (sie === undefined)
        errs.push(forbidden(M, 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
      if (match !== 'NotOlderThan') errs.push(notSupported(M, match, ['NotOlderThan']));
      if (cont !== '') errs.push(forbidden(M, 'resourceVersionMatch is forbidden when continue is provided'));
    }
    return errs;
  }
  if (match !== '') {
    if (rv === '') errs.push(forbidden(M, 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (cont !== '') errs.push(forbidden(M, 'resourceVersionMatch is forbidden when continue is provided'));
    if (match === 'Exact') {
      if (rv === '0') errs.push(forbidden(M, 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
    } else if (match !== 'NotOlderThan') {
      errs.push(notSupported(M, match, ['Exact', 'NotOlderThan', '']));
    }
  }
  if (sie !== undefined) errs.push(forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  return errs;
}

/**
 * Parses and validates the query of a list or watch request.
 * Repeated parameters: the first value wins. Empty `limit`/`timeoutSeconds` count as unset.
 * Throws 400 BadRequest for malformed values or selectors, 422 Invalid (upstream text
 * `ListOptions.meta.k8s.io "" is invalid: ...`) for forbidden combinations.
 *
 * @example
 * parseListOptions({ watch: 'true', resourceVersion: '57', allowWatchBookmarks: 'true' }, new Set());
 * // { watch: true, resourceVersion: 57, allowWatchBookmarks: true, includeObject: 'Metadata', ... }
 */
export function parseListOptions(query: Query, supportedFields: ReadonlySet<string> | readonly string[]): ListOptions {
  const q = (name: string): string => first(query, name) ?? '';
  const bool = (name: string): boolean | undefined => {
    const v = first(query, name);
    return v === undefined ? undefined : parseBool(name, v);
  };
  const int = (name: string): number | undefined => {
    const v = q(name);
    return v === '' ? undefined : parseNonNegativeInt(name, v);
  };

  // 1. Decoding (400).
  const watch = bool('watch') ?? false;
  const allowWatchBookmarks = bool('allowWatchBookmarks') ?? false;
  const sendInitialEvents = bool('sendInitialEvents');
  const limit = int('limit');
  const timeoutSeconds = int('timeoutSeconds');
  const labelSelector = parseLabelSelector(q('labelSelector'));
  const fieldSelector = parseFieldSelector(q('fieldSelector'), supportedFields);
  const rvText = q('resourceVersion');
  const match = q('resourceVersionMatch');
  const cont = q('continue');

  // 2. Validation (422).
  const errs = validate(watch, rvText, match, cont, sendInitialEvents);
  const firstErr = errs[0];
  if (firstErr) {
    const texts = [...new Set(errs.map((e) => e.text))];
    const agg = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
    throw invalid(`ListOptions.meta.k8s.io "" is invalid: ${agg}`, firstErr.field);
  }

  const inc = q('includeObject');
  if (inc !== '' && inc !== 'None' && inc !== 'Metadata' && inc !== 'Object') {
    throw badRequest(
      `includeObject: Invalid value: ${JSON.stringify(inc)}: must be 'Metadata', 'Object', 'None', or empty`,
    );
  }

  // 3. Storage checks (400).
  const resourceVersion = parseResourceVersion(rvText);
  const opts: ListOptions = {
    labelSelector,
    fieldSelector,
    watch,
    allowWatchBookmarks,
    includeObject: inc === '' ? 'Metadata' : inc,
  };
  if (limit !== undefined && limit > 0) opts.limit = limit;
  if (timeoutSeconds !== undefined) opts.timeoutSeconds = timeoutSeconds;
  if (resourceVersion !== undefined) opts.resourceVersion = resourceVersion;
  if (match === 'Exact' || match === 'NotOlderThan') opts.resourceVersionMatch = match;
  if (sendInitialEvents !== undefined) opts.sendInitialEvents = sendInitialEvents;
  if (!watch && cont !== '') {
    if (rvText !== '' && rvText !== '0')
      throw badRequest('specifying resource version is not allowed when using continue');
    opts.continue = decodeContinueToken(cont);
  }
  return opts;
}
