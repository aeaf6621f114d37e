import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ValueErrorType } from '@sinclair/typebox/value';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { AdapterConfigError, defineAdapter, Type, Value, type MirrorResource } from 'kubegate/sdk';
import { HttpConfig, ResourceConfig } from './config.ts';
import { compileResource } from './compile.ts';
import type { Fail } from './schema.ts';

const FileSchema = Type.Object(
  { resources: Type.Array(ResourceConfig, { minItems: 1 }) },
  { additionalProperties: false },
);

/** `['resources', 0, 'mapping']` → `resources[0].mapping`. */
function dotted(path: readonly (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/**
 * The resources of a `resourcesFile`, with a `fail` that names the field and the file's line: problems there
 * are reported on the `resourcesFile` key of kubegate.yaml, as `<file>: resources[0].url: ... (<file> line 7)`.
 */
function fromFile(file: string, dir: string): { resources: ResourceConfig[]; fail: Fail } {
  const at = ['resourcesFile'];
  const full = isAbsolute(file) ? file : resolve(dir, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new AdapterConfigError(at, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const first = doc.errors[0];
  if (first) throw new AdapterConfigError(at, `${file}: invalid YAML: ${first.message.split('\n')[0] ?? ''}`);
  const line = (path: readonly (string | number)[]): string | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node: unknown = doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return `${file} line ${lc.linePos(node.range[0]).line}`;
    }
    return undefined;
  };
  const fail: Fail = (path, message) => {
    const location = line(path);
    throw new AdapterConfigError(at, `${file}: ${dotted(path)}: ${message}`, location ? { location } : {});
  };
  const raw: unknown = doc.toJS();
  const errors = [...Value.Errors(FileSchema, raw)];
  const e = errors.find((x) => x.type === ValueErrorType.ObjectAdditionalProperties) ?? errors[0];
  if (e) {
    const path = e.path
      .split('/')
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    fail(path, e.type === ValueErrorType.ObjectAdditionalProperties ? 'unknown field' : e.message);
  }
  return { resources: (raw as { resources: ResourceConfig[] }).resources, fail };
}

/**
 * The no-code adapter: every resource is declared in its config (or a file the config names) — URL, auth,
 * pagination, where the items are, JSONata mappings of each object field, schema, columns — and served in
 * mirror mode. See docs/adapters.md, "No-code adapters".
 *
 * @example
 * # kubegate.yaml
 * adapters:
 *   - name: github
 *     module: kubegate/adapters/http
 *     config: { baseUrl: https://api.github.com, resourcesFile: repositories.yaml }
 */
export default defineAdapter({
  name: 'http',
  group: 'http.kubegate.dev',
  version: 'v1alpha1',
  config: HttpConfig,
  resources: (config, { dir }): MirrorResource[] => {
    if ((config.resources === undefined) === (config.resourcesFile === undefined))
      throw new AdapterConfigError([], 'give exactly one of resources and resourcesFile');
    const { resources, fail }: { resources: ResourceConfig[]; fail: Fail } = config.resourcesFile
      ? fromFile(config.resourcesFile, dir)
      : {
          resources: config.resources ?? [],
          fail: (path, message) => {
            throw new AdapterConfigError(path, message);
          },
        };
    if (resources.length === 0) fail(['resources'], 'declare at least one resource');
    const plurals = new Set<string>();
    return resources.map((r, i) => {
      if (plurals.has(r.plural)) fail(['resources', i, 'plural'], `"${r.plural}" is declared twice`);
      plurals.add(r.plural);
      return compileResource(config, r, ['resources', i], fail, dir).definition;
    });
  },
});
