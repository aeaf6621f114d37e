import { dirname, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { AdapterDefinition } from '../sdk/types.ts';
import { ConfigError, validate, type LoadedConfig } from './load.ts';
import type { AdapterEntry } from './schema.ts';
import { ModuleResolutionError, resolveAdapterModule } from './resolve-module.ts';

export interface LoadedAdapter {
  entry: AdapterEntry;
  definition: AdapterDefinition;
  /** The adapter's config, validated against its schema, with defaults applied. */
  config: unknown;
}

function isAdapter(v: unknown): v is AdapterDefinition {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return typeof o.name === 'string' && typeof o.group === 'string' && Array.isArray(o.resources);
}

/** Imports every adapter named in the config and validates its config section. */
export async function loadAdapters(loaded: LoadedConfig, baseDir?: string): Promise<LoadedAdapter[]> {
  const dir = baseDir ?? dirname(resolve(loaded.file));
  const out: LoadedAdapter[] = [];
  for (const [i, entry] of loaded.config.adapters.entries()) {
    const field = `adapters[${i}].module`;
    const at = loaded.where(`/adapters/${i}/module`);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(resolveAdapterModule(entry.module, dir))) as Record<string, unknown>;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why =
        err instanceof ModuleResolutionError
          ? err.message
          : e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(entry.module.replace(/^\.\//, ''))
            ? 'module not found'
            : e.code === 'ERR_MODULE_NOT_FOUND'
              ? `module not found (${e.message.split('\n')[0] ?? ''})`
              : `failed to load: ${e.message.split('\n')[0] ?? String(err)}`;
      throw new ConfigError(`${field}: "${entry.module}": ${why}${at}`);
    }
    const def = mod.default ?? mod.adapter;
    if (!isAdapter(def))
      throw new ConfigError(
        `${field}: "${entry.module}" does not export an adapter (export default defineAdapter(...))${at}`,
      );
    const raw: unknown = entry.config ?? {};
    const withDefaults = Value.Default(def.config, structuredClone(raw));
    validate(def.config, withDefaults, `/adapters/${i}/config`, loaded.where);
    out.push({ entry, definition: def, config: withDefaults });
  }
  const groups = new Map<string, string>();
  for (const a of out) {
    const gv = `${a.definition.group}/${a.definition.version}`;
    const other = groups.get(gv);
    if (other) throw new ConfigError(`adapters: "${a.entry.name}" and "${other}" both serve ${gv}`);
    groups.set(gv, a.entry.name);
  }
  return out;
}
