import { ConfigError, loadConfigFile } from '../config/load.ts';
import { loadAdapters, prepareAdapter } from '../config/adapters.ts';
import type { Static, TObject } from '@sinclair/typebox';
import type { AdapterDefinition } from '../sdk/types.ts';

export { ConfigError };

/**
 * Validates an adapter's config as kubegate does when it loads the adapter (its schema, kubegate's string
 * formats such as `uri` and `duration`, unknown keys) and returns it with the schema's defaults applied.
 * Throws a ConfigError whose message names the field, e.g. `config.baseUrl: Expected string format 'uri'…`.
 *
 * @example
 * expect(validateConfig(adapter, { baseUrl: 'http://x' })).toEqual({ baseUrl: 'http://x', pageSize: 100 });
 * expect(() => validateConfig(adapter, { baseUrl: 'not a url' })).toThrow(/config\.baseUrl/);
 */
export function validateConfig<S extends TObject>(adapter: AdapterDefinition<S>, config: unknown): Static<S> {
  return prepareAdapter({ name: adapter.name, module: '(in test)', config }, adapter).config as Static<S>;
}

/**
 * Checks a kubegate.yaml as `kubegate validate` does: the file, every adapter module (resolved from the file's
 * folder) and each adapter's config. Resolves to the served adapters, or rejects with a ConfigError of one line.
 *
 * @example
 * await expect(validateConfigFile('kubegate.yaml')).resolves.toEqual([{ name: 'widgets', resources: ['widgets'] }]);
 */
export async function validateConfigFile(file: string): Promise<{ name: string; resources: string[] }[]> {
  const adapters = await loadAdapters(loadConfigFile(file));
  return adapters.map((a) => ({ name: a.entry.name, resources: a.definition.resources.map((r) => r.plural) }));
}
