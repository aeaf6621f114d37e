import { watch } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { Runtime } from '../resources/runtime.ts';
import type { AdapterLogger } from '../sdk/types.ts';
import { loadAdapters, type LoadedAdapter } from './adapters.ts';
import { loadConfigFile } from './load.ts';

/**
 * Follows the config file: when an adapter's `config` section changes (a location added, a key rotated),
 * the new config is validated and applied without a restart. Changes that need one (adapters added or
 * removed, modules, server, store) are logged and left for the next start. A broken edit is reported and
 * the running config kept.
 */
export function watchConfigFile(
  file: string,
  runtime: Runtime,
  current: LoadedAdapter[],
  log: AdapterLogger,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let applied = new Map(current.map((a) => [a.entry.name, a]));
  const reload = async () => {
    try {
      const next = await loadAdapters(loadConfigFile(file));
      const names = new Set(next.map((a) => a.entry.name));
      if (names.size !== applied.size || [...applied.keys()].some((n) => !names.has(n)))
        log.warn('config reload: adapters were added or removed; restart kubegate to apply that', { file });
      for (const a of next) {
        const before = applied.get(a.entry.name);
        if (!before) continue;
        if (before.entry.module !== a.entry.module) {
          log.warn('config reload: an adapter module changed; restart kubegate to apply it', { adapter: a.entry.name });
          continue;
        }
        if (!isDeepStrictEqual(before.config, a.config)) {
          await runtime.reconfigure(a.entry.name, a.config);
          log.info('config reload: applied the new adapter config', { adapter: a.entry.name });
        }
      }
      applied = new Map(next.map((a) => [a.entry.name, a]));
    } catch (err) {
      log.error('config reload failed; keeping the running config', {
        file,
        err: err instanceof Error ? err.message : String(err),
      });
    }
  };
  const w = watch(file, () => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), 200);
  });
  w.on('error', () => undefined);
  return () => {
    clearTimeout(timer);
    w.close();
  };
}
