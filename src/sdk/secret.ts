import type { TSchema } from '@sinclair/typebox';

/**
 * Marks a config value secret (an API key, a password): kubegate masks it in every Status message, Warning
 * and log line, wherever it appears (an upstream echoing it in an error, an adapter logging it). Works on any
 * schema; every string inside the marked value is masked. Values shorter than 6 characters are not masked.
 *
 * @example
 * config: Type.Object({
 *   baseUrl: Type.String(),
 *   apiKey: Secret(Type.String({ minLength: 1 })),
 * }),
 */
export function Secret<T extends TSchema>(schema: T): T {
  // A shallow copy keeps TypeBox's own (symbol) keys, so the result is still the same TypeBox type.
  return { ...schema, secret: true, writeOnly: true };
}
