import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema, type KubegateConfig } from './schema.ts';
import '../sdk/formats.ts';
import { KubegateError } from '../errors.ts';

/** A config problem, worded to name the field (and line) so a person can fix it. */
export class ConfigError extends KubegateError {
  override name = 'ConfigError';
  override readonly code: string = 'KUBEGATE_CONFIG';
}

/** `/adapters/0/config/baseUrl` → `adapters[0].config.baseUrl`. */
export function fieldName(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** One readable line for a schema violation. */
export function describeError(e: ValueError, prefix = ''): string {
  const field = fieldName(prefix + e.path) || '(top level)';
  if (e.type === ValueErrorType.ObjectAdditionalProperties) {
    return `${field}: unknown field`;
  }
  const expected = e.schema.description ? ` (${e.schema.description})` : '';
  // Secrets are described, never printed.
  const secret = /(token|key|secret|password)$/i.test(e.path) && typeof e.value === 'string';
  const got =
    e.value === undefined ? 'nothing' : secret ? `${(e.value as string).length} characters` : JSON.stringify(e.value);
  return `${field}: ${e.message}${expected}, got ${got}`;
}

/** Validates `value` against a TypeBox schema; throws ConfigError naming the first bad field. */
export function validate(schema: TSchema, value: unknown, prefix = '', where?: (pointer: string) => string): void {
  const first = firstError(schema, value);
  if (first) throw new ConfigError(describeError(first, prefix) + (where ? where(prefix + first.path) : ''));
}

function firstError(schema: TSchema, value: unknown): ValueError | undefined {
  // Unknown keys first: "unknown field" is the most precise message for a typo.
  const errors = [...Value.Errors(schema, value)];
  return errors.find((e) => e.type === ValueErrorType.ObjectAdditionalProperties) ?? errors[0];
}

/** `${env:NAME}` anywhere in a string is replaced by the variable (secrets stay out of the file). */
function substituteEnv(v: unknown, path: string): unknown {
  if (typeof v === 'string') {
    return v.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const x = process.env[name];
      if (x === undefined) throw new ConfigError(`${path}: environment variable ${name} is not set`);
      return x;
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => substituteEnv(x, `${path}[${i}]`));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substituteEnv(x, path ? `${path}.${k}` : k)]));
  return v;
}

export interface LoadedConfig {
  config: KubegateConfig;
  /** Line lookup for a JSON pointer into the file (for later adapter-config errors). */
  where: (pointer: string) => string;
  file: string;
}

/** Parses and validates YAML text. */
export function parseConfig(text: string, file = 'config'): LoadedConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new ConfigError(`${file}: invalid YAML: ${e?.message.split('\n')[0] ?? 'parse error'}`);
  }
  const where = (pointer: string): string => {
    const parts = pointer
      .split('/')
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    for (let n = parts.length; n >= 0; n--) {
      const node: unknown = doc.getIn(parts.slice(0, n), true);
      if (isNode(node) && node.range) return ` (${file} line ${lc.linePos(node.range[0]).line})`;
    }
    return '';
  };
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(`${file}: the config must be a YAML mapping with at least an "adapters" list`);
  validate(ConfigSchema, raw, '', where);
  const config = raw as KubegateConfig;
  const names = new Set<string>();
  for (const [i, a] of config.adapters.entries()) {
    if (names.has(a.name))
      throw new ConfigError(`adapters[${i}].name: "${a.name}" is used twice${where(`/adapters/${i}/name`)}`);
    names.add(a.name);
  }
  return { config: substituteEnv(config, '') as KubegateConfig, where, file };
}

/** Reads and validates a config file. */
export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseConfig(text, file);
}
