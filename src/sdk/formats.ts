import { FormatRegistry, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * The string formats kubegate validates (`format: 'uri'` and so on). TypeBox checks `format` only for registered
 * formats and rejects unknown ones, so they are registered in kubegate's TypeBox when the SDK is imported.
 * Checks are deliberately simple: they catch typos in config, not every RFC corner.
 */
export const formats: Readonly<Record<string, (v: string) => boolean>> = {
  uri: (v) => URL.canParse(v),
  url: (v) => URL.canParse(v),
  'date-time': (v) => !Number.isNaN(Date.parse(v)) && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v),
  date: (v) => /^\d{4}-\d\d-\d\d$/.test(v) && !Number.isNaN(Date.parse(v)),
  email: (v) => /^[^\s@]+@[^\s@]+$/.test(v),
  hostname: (v) =>
    /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$/.test(v),
};

/**
 * Registers kubegate's {@link formats} in a TypeBox `FormatRegistry`: needed only when an adapter project has
 * its own copy of `@sinclair/typebox` (a different version than kubegate's) and validates with it.
 *
 * @example
 * import { FormatRegistry } from '@sinclair/typebox';
 * import { registerFormats } from 'kubegate/sdk';
 * registerFormats(FormatRegistry);
 */
export function registerFormats(registry: {
  Has(name: string): boolean;
  Set(name: string, check: (v: string) => boolean): void;
}): void {
  for (const [name, check] of Object.entries(formats)) if (!registry.Has(name)) registry.Set(name, check);
}

registerFormats(FormatRegistry);

/** One reason a value does not match a schema: the JSON path (`locations[0].latitude`) and what is wrong. */
export interface SchemaError {
  path: string;
  message: string;
}

/** `/locations/0/latitude` → `locations[0].latitude` (the top level is `(root)`). */
function dotted(pointer: string): string {
  const s = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
  return s || '(root)';
}

/**
 * Checks a value against a TypeBox schema with kubegate's formats, exactly as kubegate checks adapter configs
 * and served objects. Defaults are not applied (use {@link Value}.Default first for that). Messages never
 * contain the value itself.
 *
 * @example
 * const r = validate(Type.Object({ baseUrl: Type.String({ format: 'uri' }) }), { baseUrl: 'not a url' });
 * // r = { ok: false, errors: [{ path: 'baseUrl', message: "Expected string to match 'uri' format" }] }
 */
export function validate<T extends TSchema>(
  schema: T,
  value: unknown,
): { ok: true; value: Static<T> } | { ok: false; errors: SchemaError[] } {
  if (Value.Check(schema, value)) return { ok: true, value: value };
  const errors = [...Value.Errors(schema, value)]
    .slice(0, 20)
    .map((e) => ({ path: dotted(e.path), message: e.message }));
  return { ok: false, errors };
}

/** kubegate's TypeBox `Value` (Check, Errors, Default, Parse...), with kubegate's formats registered. */
export { Value };
