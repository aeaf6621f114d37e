import { dirname, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { TObject } from '@sinclair/typebox';
import type { AdapterDefinition, ResourceDefinition } from '../sdk/types.ts';
import { AdapterConfigError, checkResources, DefinitionError } from '../sdk/define.ts';
import { ConfigError, fieldName, validate, type LoadedConfig } from './load.ts';
import type { AdapterEntry } from './schema.ts';
import { ModuleResolutionError, resolveAdapterModule } from './resolve-module.ts';

export interface LoadedAdapter {
  entry: AdapterEntry;
  /** The adapter, its resources made from the config when they are a function of it. */
  definition: AdapterDefinition & { resources: ResourceDefinition[] };
  /** The adapter's config, validated against its schema, with defaults applied. */
  config: unknown;
}

function isAdapter(v: unknown): v is AdapterDefinition {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.name === 'string' &&
    typeof o.group === 'string' &&
    (Array.isArray(o.resources) || typeof o.resources === 'function')
  );
}

/**
 * Validates an entry's `config` against the adapter's schema (kubegate's formats included) and applies its
 * defaults; throws a ConfigError naming the field (`prefix` is the JSON pointer of the config in the file).
 */
export function prepareAdapter<S extends TObject>(
  entry: AdapterEntry,
  definition: AdapterDefinition<S>,
  prefix = '/config',
  where?: (pointer: string) => string,
  dir = process.cwd(),
): LoadedAdapter {
  const raw: unknown = entry.config ?? {};
  const config = Value.Default(definition.config, structuredClone(raw));
  validate(definition.config, config, prefix, where);
  const resources = resolveResources(definition, config, { prefix, dir, ...(where ? { where } : {}) });
  // `group` serves this entry under a group of its own, so a second entry of the same adapter (another account
  // of the same upstream) does not collide with the first.
  return {
    entry,
    definition: { ...definition, resources, ...(entry.group === undefined ? {} : { group: entry.group }) },
    config,
  };
}

/** The adapter's resources: its list, or what its `resources(config)` function makes of the validated config. */
function resolveResources<S extends TObject>(
  definition: AdapterDefinition<S>,
  config: unknown,
  { prefix, dir, where }: { prefix: string; dir: string; where?: (pointer: string) => string },
): ResourceDefinition[] {
  if (typeof definition.resources !== 'function') return definition.resources;
  const field = fieldName(prefix) || 'config';
  let resources: unknown;
  try {
    resources = definition.resources(config as never, { dir });
    checkResources(`adapter ${JSON.stringify(definition.name)}`, resources, definition.version);
  } catch (err) {
    if (err instanceof AdapterConfigError) {
      const pointer = [prefix, ...err.path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1'))].join('/');
      const at = err.location !== undefined ? ` (${err.location})` : (where?.(pointer) ?? '');
      throw new ConfigError(`${fieldName(pointer)}: ${err.message}${at}`);
    }
    if (err instanceof DefinitionError) throw new ConfigError(`${field}: ${err.message}${where?.(prefix) ?? ''}`);
    throw err;
  }
  return resources as ResourceDefinition[];
}

/**
 * Imports every adapter named in the config and validates its config section. `inProcess` gives definitions
 * by entry name that are used instead of importing `module` (adapters under test, see `kubegate/testing`).
 */
export async function loadAdapters(
  loaded: LoadedConfig,
  baseDir?: string,
  inProcess?: ReadonlyMap<string, AdapterDefinition>,
): Promise<LoadedAdapter[]> {
  const dir = baseDir ?? dirname(resolve(loaded.file));
  const out: LoadedAdapter[] = [];
  for (const [i, entry] of loaded.config.adapters.entries()) {
    const given = inProcess?.get(entry.name);
    if (given) {
      out.push(prepareAdapter(entry, given, `/adapters/${i}/config`, loaded.where, dir));
      continue;
    }
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
    out.push(prepareAdapter(entry, def, `/adapters/${i}/config`, loaded.where, dir));
  }
  const groups = new Map<string, string>();
  for (const a of out) {
    // Every version the entry serves (its resources' `versions` add to the adapter's own).
    const versions = new Set([a.definition.version]);
    for (const r of a.definition.resources)
      for (const v of r.versions ?? []) if (v.served !== false) versions.add(v.name);
    for (const version of versions) {
      const gv = `${a.definition.group}/${version}`;
      const other = groups.get(gv);
      if (other && other !== a.entry.name) {
        const i = out.indexOf(a);
        throw new ConfigError(
          `adapters[${i}].group: "${a.entry.name}" and "${other}" both serve ${gv}; give one of them an API group ` +
            `of its own (e.g. group: eu.${a.definition.group})${loaded.where(`/adapters/${i}`)}`,
        );
      }
      groups.set(gv, a.entry.name);
    }
  }
  return out;
}
