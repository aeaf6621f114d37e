import { readFileSync, watch } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Runtime } from '../resources/runtime.ts';
import type { AdapterLogger } from '../sdk/types.ts';
import { loadAdapters, type LoadedAdapter } from './adapters.ts';
import { loadConfigFile } from './load.ts';
import { resourceInfo } from '../resources/runtime.ts';

/** What discovery and OpenAPI serve of an adapter's resources. */
function served(a: LoadedAdapter): unknown {
  return JSON.parse(
    JSON.stringify(a.definition.resources.map((r) => resourceInfo(a.definition.group, a.definition.version, r))),
  );
}

/**
 * Follows the config file: when an adapter's `config` section changes (a location added, a key rotated),
 * the new config is validated and applied without a restart. Changes that need one (adapters added or
 * removed, modules, server, store) are logged and left for the next start. A broken edit is reported and
 * the running config kept.
 *
 * The folder is watched, not the file: an atomic replace (write a temporary file, rename it over) gives the
 * path a new inode each time, and a mounted ConfigMap swaps a `..data` symlink without touching the file's own
 * name, so a watch on the file itself would go quiet after the first change. Every event in the folder re-reads
 * the file; an unchanged text is ignored.
 */
export function watchConfigFile(
  file: string,
  runtime: Pick<Runtime, 'reconfigure'>,
  current: LoadedAdapter[],
  log: AdapterLogger,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let applied = new Map(current.map((a) => [a.entry.name, a]));
  const read = () => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      // Mid-swap the path may briefly not resolve; the next event reads it again.
      return undefined;
    }
  };
  let lastText = read();
  const reload = async () => {
    const text = read();
    if (text === undefined || text === lastText) return;
    lastText = text;
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
          // Resources made from the config: their mapping follows the new config, their shape (kind, schema,
          // columns...) is what discovery and OpenAPI already serve until a restart.
          if (!isDeepStrictEqual(served(before), served(a)))
            log.warn('config reload: the served resources changed shape; restart kubegate to apply that', {
              adapter: a.entry.name,
            });
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
  // Any event: the file's own name, a temporary file renamed over it, a ConfigMap's `..data` swap.
  const w = watch(dirname(resolve(file)), () => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), 200);
  });
  w.on('error', (err) =>
    log.error('config reload: watching the config folder failed; edits are no longer applied', {
      file,
      err: err.message,
    }),
  );
  return () => {
    clearTimeout(timer);
    w.close();
  };
}
