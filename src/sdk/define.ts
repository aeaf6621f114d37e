import type { TObject } from '@sinclair/typebox';
import type {
  AdapterDefinition,
  ColumnDefinition,
  MirrorResource,
  PassThroughResource,
  ResourceDefinition,
  StaticAdapterDefinition,
} from './types.ts';
import { parseDuration } from './duration.ts';
import { KubegateError } from '../errors.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;
const VERSION = /^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$/;

/** Thrown when an adapter or resource definition is invalid; the message names the option. */
export class DefinitionError extends KubegateError {
  override name = 'DefinitionError';
  override readonly code: string = 'KUBEGATE_DEFINITION';
}

/**
 * Thrown by an adapter's `resources(config)` function when its config cannot make the resources; `path` names
 * the field inside the adapter's `config` (`['resources', 0, 'mapping', 'name']`), and kubegate reports it as
 * `adapters[2].config.resources[0].mapping.name: <message> (kubegate.yaml line 42)`. `location` replaces the
 * line lookup when the field lives in another file the config names (e.g. `repos.yaml line 7`).
 *
 * @example
 * throw new AdapterConfigError(['resources', 0, 'itemsPath'], 'is required');
 */
export class AdapterConfigError extends KubegateError {
  override name = 'AdapterConfigError';
  override readonly code: string = 'KUBEGATE_ADAPTER_CONFIG';
  readonly path: readonly (string | number)[];
  readonly location: string | undefined;
  constructor(path: readonly (string | number)[], message: string, o: { location?: string } = {}) {
    super(message);
    this.path = path;
    this.location = o.location;
  }
}

function fail(where: string, msg: string): never {
  throw new DefinitionError(`${where}: ${msg}`);
}

/** A duration option in milliseconds; a bad one is a DefinitionError like every other bad option. */
function duration(value: string | number, what: string): number {
  try {
    return parseDuration(value, what);
  } catch (err) {
    throw new DefinitionError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Declares one resource of an adapter. Validates the declaration where it is made.
 *
 * @example
 * defineResource({
 *   kind: 'Forecast', plural: 'forecasts', shortNames: ['fc'], scope: 'Cluster', mode: 'mirror',
 *   pollInterval: '30s', schema: { status: Type.Object({ temperatureC: Type.Number() }) },
 *   columns: [{ name: 'Temp', type: 'number', jsonPath: '.status.temperatureC' }],
 *   async list(ctx) { return [{ name: 'paris', status: { temperatureC: 21 } }]; },
 * });
 */
export function defineResource<C>(def: MirrorResource<C>): MirrorResource<C>;
export function defineResource<C>(def: PassThroughResource<C>): PassThroughResource<C>;
export function defineResource<C>(def: ResourceDefinition<C>): ResourceDefinition<C> {
  const where = `resource ${JSON.stringify(def.kind)}`;
  if (typeof def.kind !== 'string' || !KIND.test(def.kind))
    fail(where, 'kind must be UpperCamelCase letters and digits, e.g. "Forecast"');
  if (typeof def.plural !== 'string') fail(where, 'plural is required, e.g. "forecasts"');
  if (!DNS1123_LABEL.test(def.plural)) fail(where, `plural "${def.plural}" must be a lower-case DNS label`);
  if (def.singular !== undefined && !DNS1123_LABEL.test(def.singular))
    fail(where, `singular "${def.singular}" must be a lower-case DNS label`);
  for (const s of def.shortNames ?? [])
    if (!DNS1123_LABEL.test(s)) fail(where, `shortNames: "${s}" must be a lower-case DNS label`);
  for (const c of def.categories ?? []) {
    if (c === 'all') fail(where, 'categories: "all" is not allowed (it would make `kubectl get all` call upstreams)');
    if (!DNS1123_LABEL.test(c)) fail(where, `categories: "${c}" must be a lower-case DNS label`);
  }
  if ((def.scope as string) !== 'Cluster' && (def.scope as string) !== 'Namespaced')
    fail(where, 'scope must be "Cluster" or "Namespaced"');
  if (def.mode === 'mirror') {
    if (typeof def.list !== 'function') fail(where, 'list must be a function');
    if (def.pollInterval !== undefined) {
      const ms = duration(def.pollInterval, `${where}: pollInterval`);
      if (ms < 100) fail(where, 'pollInterval must be at least 100ms');
    }
    const g = def.deleteGuard;
    if (g?.maxDeleteRatio !== undefined && !(g.maxDeleteRatio >= 0 && g.maxDeleteRatio <= 1))
      fail(where, 'deleteGuard.maxDeleteRatio must be between 0 and 1');
    if (g?.minObjects !== undefined && !(Number.isInteger(g.minObjects) && g.minObjects >= 0))
      fail(where, 'deleteGuard.minObjects must be a non-negative integer');
  } else if ((def.mode as string) === 'passthrough') {
    if (typeof def.listPage !== 'function') fail(where, 'listPage must be a function');
    if (typeof def.get !== 'function') fail(where, 'get must be a function');
    if (def.cacheTtl !== undefined) duration(def.cacheTtl, `${where}: cacheTtl`);
    if (def.changes !== undefined) {
      if (typeof def.changes.read !== 'function') fail(where, 'changes.read must be a function');
      if (def.changes.interval !== undefined && duration(def.changes.interval, `${where}: changes.interval`) < 100)
        fail(where, 'changes.interval must be at least 100ms');
    }
    if (def.maxPageSize !== undefined && !(Number.isInteger(def.maxPageSize) && def.maxPageSize > 0))
      fail(where, 'maxPageSize must be a positive integer');
    if (typeof def.namePattern === 'string') {
      try {
        new RegExp(def.namePattern);
      } catch {
        fail(where, `namePattern "${def.namePattern}" is not a valid regular expression`);
      }
    } else if (def.namePattern !== undefined && !(def.namePattern instanceof RegExp))
      fail(where, 'namePattern must be a RegExp or a string');
    if (def.namePattern instanceof RegExp && (def.namePattern.global || def.namePattern.sticky))
      fail(where, 'namePattern must not have the g or y flag (its test() would depend on the previous call)');
    // A pushed-down field the field selector does not accept would never reach the upstream.
    const selectable = new Set(['metadata.name', 'metadata.namespace', ...(def.fields ?? [])]);
    for (const f of def.pushDown?.fields ?? [])
      if (!selectable.has(f)) fail(where, `pushDown.fields: "${f}" is not in fields (a field selector cannot use it)`);
  } else {
    fail(where, `mode "${String((def as { mode: unknown }).mode)}" is not supported (use "mirror" or "passthrough")`);
  }
  const names = new Set<string>();
  for (const [i, col] of (def.columns ?? []).entries()) {
    if (!col.name) fail(where, `columns[${i}].name is required`);
    if (names.has(col.name)) fail(where, `columns[${i}].name "${col.name}" is declared twice`);
    names.add(col.name);
    if (!['string', 'integer', 'number', 'boolean', 'date'].includes(col.type))
      fail(where, `columns[${i}].type must be string, integer, number, boolean or date`);
    if (typeof col.jsonPath !== 'string') fail(where, `columns[${i}].jsonPath is required`);
    if (!col.jsonPath.startsWith('.') && !col.jsonPath.startsWith('{'))
      fail(where, `columns[${i}].jsonPath must start with "." (e.g. ".status.temperatureC")`);
  }
  for (const f of def.fields ?? [])
    if (!/^[A-Za-z0-9_.-]+$/.test(f)) fail(where, `fields: "${f}" must be a dotted path like "status.condition"`);
  for (const w of ['create', 'delete', 'update'] as const)
    if (def[w] !== undefined && typeof def[w] !== 'function') fail(where, `${w} must be a function`);
  for (const a of ['mutate', 'validate'] as const)
    if (def.admission?.[a] !== undefined && typeof def.admission[a] !== 'function')
      fail(where, `admission.${a} must be a function`);
  if (def.proxy !== undefined && (typeof def.proxy.baseUrl !== 'function' || typeof def.proxy.target !== 'function'))
    fail(where, 'proxy.baseUrl and proxy.target must be functions');
  if (def.versions !== undefined) checkVersions(where, def);
  return def;
}

function checkColumns(where: string, columns: ColumnDefinition[]): void {
  const names = new Set<string>();
  for (const [i, col] of columns.entries()) {
    if (!col.name) fail(where, `columns[${i}].name is required`);
    if (names.has(col.name)) fail(where, `columns[${i}].name "${col.name}" is declared twice`);
    names.add(col.name);
    if (!['string', 'integer', 'number', 'boolean', 'date'].includes(col.type))
      fail(where, `columns[${i}].type must be string, integer, number, boolean or date`);
    if (typeof col.jsonPath !== 'string' || (!col.jsonPath.startsWith('.') && !col.jsonPath.startsWith('{')))
      fail(where, `columns[${i}].jsonPath must start with "." (e.g. ".status.temperatureC")`);
  }
}

/** `versions`: one storage (hub) version, unique names, something served, conversions on the others. */
function checkVersions(where: string, def: ResourceDefinition): void {
  const versions = def.versions;
  if (!Array.isArray(versions) || versions.length === 0)
    fail(where, "versions must be a non-empty array (or left out to serve the adapter's version only)");
  if (def.mode !== 'mirror') fail(where, 'versions: only mirror resources can declare several versions');
  const names = new Set<string>();
  for (const [i, v] of versions.entries()) {
    const at = `${where}: versions[${i}]`;
    if (typeof v.name !== 'string' || !VERSION.test(v.name))
      fail(at, `name ${JSON.stringify(v.name)} must look like v1, v1beta1 or v1alpha1`);
    if (names.has(v.name)) fail(at, `version "${v.name}" is declared twice`);
    names.add(v.name);
    if (v.deprecationWarning !== undefined) {
      const w = v.deprecationWarning;
      if (!v.deprecated) fail(at, 'deprecationWarning can only be set on a deprecated version (deprecated: true)');
      // eslint-disable-next-line no-control-regex
      if (typeof w !== 'string' || w.length === 0 || w.length > 256 || /[\x00-\x1f\x7f]/.test(w))
        fail(at, 'deprecationWarning must be 1 to 256 printable characters');
    }
    const conversions = [v.fromHub, v.toHub].filter((f) => f !== undefined);
    if (conversions.some((f) => typeof f !== 'function')) fail(at, 'fromHub and toHub must be functions');
    if (v.storage) {
      if (conversions.length > 0) fail(at, 'the storage version is the hub: it has no fromHub/toHub');
      if (v.schema !== undefined || v.columns !== undefined || v.fields !== undefined)
        fail(at, "the storage version uses the resource's schema, columns and fields: declare them there");
    } else if (conversions.length === 1) {
      fail(at, 'give both fromHub and toHub (or neither, when only apiVersion differs)');
    }
    if (v.columns !== undefined) checkColumns(at, v.columns);
    for (const f of v.fields ?? [])
      if (!/^[A-Za-z0-9_.-]+$/.test(f)) fail(at, `fields: "${f}" must be a dotted path like "status.condition"`);
  }
  const storage = versions.filter((v) => v.storage === true);
  if (storage.length !== 1)
    fail(
      where,
      `versions: exactly one version must be the storage version (storage: true), the hub the others convert from; found ${storage.length}`,
    );
  if (!versions.some((v) => v.served !== false)) fail(where, 'versions: at least one version must be served');
}

/**
 * Declares an adapter: an API group-version whose resources come from one external system.
 *
 * @example
 * export default defineAdapter({
 *   name: 'weather', group: 'weather.example.com', version: 'v1alpha1',
 *   config: Type.Object({ baseUrl: Type.String({ format: 'uri' }) }),
 *   resources: [forecasts],
 * });
 */
export function defineAdapter<S extends TObject>(def: StaticAdapterDefinition<S>): StaticAdapterDefinition<S>;
/**
 * Declares an adapter whose resources are made from its validated config (see {@link AdapterDefinition.resources}).
 *
 * @example
 * export default defineAdapter({
 *   name: 'http', group: 'http.kubegate.dev', version: 'v1alpha1',
 *   config: Type.Object({ resources: Type.Array(ResourceConfig) }),
 *   resources: (config) => config.resources.map(toResource),
 * });
 */
export function defineAdapter<S extends TObject>(def: AdapterDefinition<S>): AdapterDefinition<S>;
export function defineAdapter<S extends TObject>(def: AdapterDefinition<S>): AdapterDefinition<S> {
  const where = `adapter ${JSON.stringify(def.name)}`;
  if (typeof def.name !== 'string' || !DNS1123_LABEL.test(def.name))
    fail(where, 'name must be a lower-case DNS label, e.g. "weather"');
  if (!DNS1123_SUBDOMAIN.test(def.group) || !def.group.includes('.'))
    fail(where, `group "${def.group}" must be a DNS subdomain with a dot, e.g. "weather.example.com"`);
  if (!VERSION.test(def.version)) fail(where, `version "${def.version}" must look like v1, v1beta1 or v1alpha1`);
  if ((def.config as { type?: unknown } | undefined)?.type !== 'object')
    fail(where, 'config must be a TypeBox Type.Object(...) schema');
  if (typeof def.resources !== 'function') checkResources(where, def.resources, def.version);
  return def;
}

/** The checks on an adapter's resource list, also run on the list a `resources(config)` function returns. */
export function checkResources(where: string, resources: unknown, version: string): void {
  if (!Array.isArray(resources) || resources.length === 0)
    fail(where, 'resources must not be empty (an empty resource list breaks discovery)');
  const plurals = new Set<string>();
  const kinds = new Set<string>();
  for (const r of resources as ResourceDefinition[]) {
    if (plurals.has(r.plural)) fail(where, `resource plural "${r.plural}" is declared twice`);
    if (kinds.has(r.kind)) fail(where, `resource kind "${r.kind}" is declared twice`);
    plurals.add(r.plural);
    kinds.add(r.kind);
    const hub = r.versions?.find((v) => v.storage === true);
    if (hub && hub.name !== version)
      fail(
        where,
        `resource "${r.kind}": the storage version "${hub.name}" must be the adapter's version "${version}" (what list returns is stored as that version)`,
      );
  }
}
