/**
 * Opaque list continue tokens, shaped like the apiserver's (k8s.io/apiserver/pkg/storage/continue.go):
 * base64url (no padding) of `{"v":"kubegate/v1","rv":<snapshot RV>,"start":"<last key returned>"}`.
 * Clients must treat them as opaque; the version field lets the format change without misreading old ones.
 */
import { badRequest, type KubeError } from './errors.ts';

/** Where a list page ended: the snapshot it was read at and the last key it returned. */
export interface ContinuePosition {
  rv: number;
  key: string;
}

const VERSION = 'kubegate/v1';
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * The 410 Expired message for a continue token whose snapshot is gone, when the answer carries a new
 * (inconsistent) continue token. Exact upstream text (etcd3 store `inconsistentContinue`).
 */
export const expiredContinueMessage =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** The same 410 message when no new continue token is offered (upstream `continueExpired`). */
export const expiredContinueNoTokenMessage =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.';

/**
 * Encodes a continue token.
 *
 * @example
 * encodeContinueToken({ rv: 42, key: 'default/paris' }); // 'eyJ2Ijoia3ViZWdhdGUvdjEiLCJydiI6NDIsInN0YXJ0IjoiZGVmYXVsdC9wYXJpcyJ9'
 */
export function encodeContinueToken(p: ContinuePosition): string {
  return Buffer.from(JSON.stringify({ v: VERSION, rv: p.rv, start: p.key }), 'utf8').toString('base64url');
}

const notValid = (reason: string): KubeError => badRequest(`continue key is not valid: ${reason}`);

/**
 * Decodes a token made by {@link encodeContinueToken}. Throws 400 BadRequest
 * `continue key is not valid: <reason>` for anything else.
 *
 * @example
 * decodeContinueToken(encodeContinueToken({ rv: 42, key: 'default/paris' })); // { rv: 42, key: 'default/paris' }
 */
export function decodeContinueToken(token: string): ContinuePosition {
  // Buffer's base64url decoder silently skips junk, so check the alphabet (and an impossible length) first.
  if (!BASE64URL.test(token) || token.length % 4 === 1) {
    throw notValid('the token is not base64url data; pass back metadata.continue exactly as received');
  }
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw notValid('the token does not decode to JSON; pass back metadata.continue exactly as received');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw notValid('the token is not a JSON object');
  const { v, rv, start } = data as Record<string, unknown>;
  if (v !== VERSION) throw notValid(`server does not recognize this encoded version ${JSON.stringify(v ?? '')}`);
  if (typeof rv !== 'number' || !Number.isSafeInteger(rv) || rv <= 0) {
    throw notValid(`incorrect encoded start resourceVersion (version ${VERSION})`);
  }
  if (typeof start !== 'string') throw notValid(`encoded start key is not a string (version ${VERSION})`);
  return { rv, key: start };
}
