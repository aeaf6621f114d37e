import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, realpathSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, extname, isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadAdapters } from '../config/adapters.ts';
import { ConfigError, loadConfigFile, parseConfig, type LoadedConfig } from '../config/load.ts';
import { resolveAdapterModule } from '../config/resolve-module.ts';
import { createDevCertificates } from '../server/tls.ts';
import { writeKubeconfig } from './kubeconfig.ts';

export interface DevProjectOptions {
  /** A kubegate.yaml naming the team's adapters (paths and package names relative to its folder). */
  config?: string;
  /** Or one adapter module, served with an empty config. */
  adapter?: string;
  /** Default the config's server.port, else 8443; 0 picks a free port once (kept across reloads). */
  port?: number;
}

const EXT = extname(fileURLToPath(import.meta.url));
const MAIN = fileURLToPath(new URL(`./main${EXT}`, import.meta.url));
const RELOAD_DEBOUNCE_MS = 200;

/**
 * `kubegate dev --config FILE` / `--adapter PATH`: the team's own adapters on a dev gateway. HTTPS with a fresh
 * CA and a bearer token, both in a kubeconfig written to `.kubegate/kubeconfig` next to the config, so kubectl
 * verifies TLS. The gateway is a `kubegate serve` child process restarted on the same port whenever a file of
 * an adapter (outside node_modules) or the config changes: a fresh process re-imports the whole module graph,
 * which an in-process reload cannot do with ES modules.
 */
export async function runDevProject(o: DevProjectOptions): Promise<void> {
  const base = resolve(o.config ? dirname(o.config) : '.');
  const work = join(base, '.kubegate');
  mkdirSync(work, { recursive: true, mode: 0o700 });
  const read = (): LoadedConfig => (o.config ? loadConfigFile(o.config) : adapterOnly(o.adapter ?? ''));
  let loaded = read();
  const served = await loadAdapters(loaded, base);

  const port = await choosePort(o.port ?? loaded.config.server?.port ?? 8443);
  const certs = await createDevCertificates(['localhost'], ['127.0.0.1']);
  const certFile = join(work, 'tls.crt');
  const keyFile = join(work, 'tls.key');
  writeFileSync(certFile, certs.server.cert, { mode: 0o600 });
  writeFileSync(keyFile, certs.server.key, { mode: 0o600 });
  const token = randomBytes(24).toString('base64url');
  const kubeconfig = join(work, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: `https://127.0.0.1:${port}`, ca: certs.ca.cert, token, user: 'dev' });
  const derived = join(work, 'dev.yaml');
  const writeDerived = (l: LoadedConfig) =>
    writeFileSync(derived, stringify(devConfig(l, base, { port, certFile, keyFile, token })), { mode: 0o600 });
  writeDerived(loaded);

  let child: ChildProcess | undefined;
  const start = () => {
    const flags = EXT === '.ts' ? ['--conditions=kubegate-source'] : [];
    child = spawn(process.execPath, [...process.execArgv, ...flags, MAIN, 'serve', '--config', derived], {
      stdio: 'inherit',
    });
    const me = child;
    me.on('exit', (code, signal) => {
      if (child === me && signal === null && code !== 0)
        process.stderr.write(
          'kubegate dev: the gateway stopped; fix the error above, it restarts on the next change\n',
        );
    });
  };
  const stop = () =>
    new Promise<void>((done) => {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return done();
      c.once('exit', () => done());
      c.kill('SIGTERM');
    });

  let timer: NodeJS.Timeout | undefined;
  let reloading = Promise.resolve();
  const changed = (what: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      reloading = reloading.then(async () => {
        try {
          loaded = read();
          writeDerived(loaded);
        } catch (err) {
          process.stderr.write(`kubegate dev: ${err instanceof Error ? err.message : String(err)}\n`);
          return;
        }
        process.stderr.write(`kubegate dev: ${what} changed, reloading\n`);
        await stop();
        start();
      });
    }, RELOAD_DEBOUNCE_MS);
  };
  const watchers = watchSources(loaded, base, o.config, changed);
  start();
  process.stderr.write(
    `\nkubegate dev: ${loaded.config.adapters.map((a) => a.name).join(', ')} on https://127.0.0.1:${port}\n` +
      `  export KUBECONFIG=${kubeconfig}\n` +
      served.map((a) => `  kubectl api-resources --api-group=${a.definition.group}\n`).join('') +
      `Files of the adapters and the config are watched: a change restarts the gateway on the same port.\n\n`,
  );
  const shutdown = () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
    void stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function adapterOnly(module: string): LoadedConfig {
  if (!module) throw new ConfigError('dev needs --config FILE or --adapter PATH');
  const name = basename(module.endsWith(`${sep}index.ts`) ? dirname(resolve(module)) : module)
    .replace(/\.[cm]?[jt]s$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const spec = module.startsWith('.') || isAbsolute(module) ? resolve(module) : module;
  return parseConfig(JSON.stringify({ adapters: [{ name: name || 'adapter', module: spec }] }), '--adapter');
}

/** The config the child serves: the team's adapters and store, with dev TLS, token and an allow-all policy. */
function devConfig(
  l: LoadedConfig,
  base: string,
  o: { port: number; certFile: string; keyFile: string; token: string },
): object {
  // The team's store, watch and other settings stay; server, auth and mode are the dev gateway's own.
  const { adapters, ...rest } = l.config;
  return {
    ...rest,
    mode: 'standalone',
    server: { host: '127.0.0.1', port: o.port, tls: { certFile: o.certFile, keyFile: o.keyFile } },
    auth: {
      tokens: [{ token: o.token, user: 'dev', groups: ['kubegate:developers'] }],
      policy: [
        { groups: ['kubegate:developers'], verbs: ['*'], apiGroups: ['*'], resources: ['*'], nonResourceURLs: ['*'] },
      ],
    },
    adapters: adapters.map((a) => ({
      ...a,
      module: a.module.startsWith('.') || isAbsolute(a.module) ? resolve(base, a.module) : a.module,
    })),
  };
}

/** Watches the config and the folder of every adapter module that is not an installed package. */
function watchSources(
  l: LoadedConfig,
  base: string,
  config: string | undefined,
  changed: (what: string) => void,
): FSWatcher[] {
  const dirs = new Set<string>();
  for (const a of l.config.adapters) {
    const file = realpathSync(fileURLToPath(resolveAdapterModule(a.module, base)));
    if (!file.split(sep).includes('node_modules')) dirs.add(dirname(file));
  }
  const out: FSWatcher[] = [];
  for (const d of dirs) {
    out.push(
      watch(d, { recursive: true }, (_event, f) => {
        const name = f ?? '';
        if (!name.split(sep).some((p) => p === 'node_modules' || p === '.kubegate')) changed(join(d, name));
      }),
    );
  }
  // The folder, not the file: editors and ConfigMaps replace files, which ends a watch on the file itself.
  if (config) {
    const file = resolve(config);
    out.push(watch(dirname(file), (_event, f) => f === basename(file) && changed(file)));
  }
  return out;
}

/** The port to keep across restarts; 0 asks the system for a free one now. */
function choosePort(port: number): Promise<number> {
  if (port !== 0) return Promise.resolve(port);
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => done(a && typeof a === 'object' ? a.port : 0));
    });
  });
}
