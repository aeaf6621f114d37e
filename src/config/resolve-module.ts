import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KubegateError } from '../errors.ts';

/** Why an adapter's `module:` cannot be loaded; the message is one line for the config error. */
export class ModuleResolutionError extends KubegateError {
  override name = 'ModuleResolutionError';
  override readonly code: string = 'KUBEGATE_MODULE_RESOLUTION';
}

const TS = /\.(ts|mts|cts)$/;

/**
 * Turns an adapter entry's `module:` into a URL to import. Paths (`./x`, `/x`) are relative to `dir`, the config
 * file's folder; anything else is a package name (optionally with a subpath) found in the `node_modules` folders
 * above `dir`, as Node would resolve it from a module in that folder. kubegate's own folder is never searched:
 * the adapter belongs to the config, not to kubegate. A TypeScript file inside node_modules is refused, since Node
 * does not strip types there.
 *
 * @example
 * resolveAdapterModule('@acme/kubegate-billing', '/etc/kubegate'); // file:///etc/kubegate/node_modules/@acme/…/index.js
 */
export function resolveAdapterModule(spec: string, dir: string): string {
  const file = spec.startsWith('.') || isAbsolute(spec) ? resolve(dir, spec) : resolvePackage(spec, dir);
  if (TS.test(file) && file.split(sep).includes('node_modules'))
    throw new ModuleResolutionError(
      `${file} is TypeScript inside node_modules, which Node does not run: publish the adapter as JavaScript ` +
        `(tsc to dist/ with declarations, package.json "exports" pointing there)`,
    );
  return pathToFileURL(file).href;
}

interface PackageJson {
  exports?: unknown;
  main?: string;
}

function resolvePackage(spec: string, dir: string): string {
  const parts = spec.split('/');
  const nameLength = spec.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join('/')}` : '.';
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name))
    throw new ModuleResolutionError(`"${spec}" is neither a path (./…, /…) nor a package name`);
  for (let d = resolve(dir); ; d = dirname(d)) {
    const pkgDir = join(d, 'node_modules', name);
    const pkgFile = join(pkgDir, 'package.json');
    if (existsSync(pkgFile)) {
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as PackageJson;
      const target = packageTarget(pkg, subpath);
      if (target === undefined)
        throw new ModuleResolutionError(`package ${name} does not export "${subpath}" (package.json "exports")`);
      const file = join(pkgDir, target);
      if (!existsSync(file)) throw new ModuleResolutionError(`package ${name} points at ${file}, which does not exist`);
      return file;
    }
    if (dirname(d) === d) break;
  }
  throw new ModuleResolutionError(`package ${name} is not installed in ${resolve(dir)} or a folder above it`);
}

/** The file a package exposes for `subpath`, read from `exports` with the conditions of an ESM import in Node. */
function packageTarget(pkg: PackageJson, subpath: string): string | undefined {
  const { exports } = pkg;
  if (exports === undefined || exports === null) {
    if (subpath !== '.') return subpath;
    return pkg.main ?? 'index.js';
  }
  const subpaths =
    typeof exports === 'object' && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith('.'));
  const entry: unknown = subpaths
    ? (exports as Record<string, unknown>)[subpath]
    : subpath === '.'
      ? exports
      : undefined;
  return pickCondition(entry);
}

const CONDITIONS = ['import', 'node', 'default'];

function pickCondition(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (Array.isArray(entry)) {
    for (const e of entry) {
      const t = pickCondition(e);
      if (t !== undefined) return t;
    }
    return undefined;
  }
  if (entry && typeof entry === 'object') {
    // Conditions are tried in the package's own order, as Node does.
    for (const [k, v] of Object.entries(entry))
      if (CONDITIONS.includes(k)) {
        const t = pickCondition(v);
        if (t !== undefined) return t;
      }
  }
  return undefined;
}
