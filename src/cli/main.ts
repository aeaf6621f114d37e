import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfigFile } from '../config/load.ts';
import { loadAdapters } from '../config/adapters.ts';
import { checkConfig, configRelative } from '../config/checks.ts';
import { dirname, resolve } from 'node:path';
import { DefinitionError } from '../sdk/define.ts';
import { startGateway, type Gateway } from '../server/gateway.ts';
import { writeServeKubeconfig } from './serve-kubeconfig.ts';
import { closeOnSignal } from './signals.ts';
import { watchConfigFile } from '../config/reload.ts';
import { watchServingCertificate } from '../server/cert-reload.ts';
import { adapterLogger, createLogger } from '../observability/log.ts';

const USAGE = `kubegate — serve external APIs as Kubernetes resources

Usage:
  kubegate dev [--port 8443]             demo gateway with the bundled adapters and fake upstreams
  kubegate dev --config kubegate.yaml | --adapter ./src/index.ts [--port 8443]
                                         your own adapters on a dev gateway, reloaded when their files change
  kubegate serve --config kubegate.yaml [--write-kubeconfig FILE]
                                         run the gateway (and write a kubeconfig for kubectl)
  kubegate adapter new NAME [--dir DIR] [--from-openapi FILE]
                                         scaffold an adapter project: module, fake upstream, test, config
  kubegate validate --config kubegate.yaml [--offline]
                                         check a config and its adapters, then exit; --offline skips
                                         what depends on this machine (files, environment variables)
`;

function fail(msg: string): never {
  process.stderr.write(`kubegate: ${msg}\n`);
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  // Each command loads what only it needs (the demo's fake upstreams, the scaffolder, the certificate
  // generator): a `serve` process keeps none of it in memory.
  if (command === 'adapter') {
    const { runAdapterCommand } = await import('./scaffold/command.ts');
    runAdapterCommand(rest);
    return;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string' },
      adapter: { type: 'string' },
      'write-kubeconfig': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      offline: { type: 'boolean' },
    },
    allowPositionals: false,
  });
  if (values.help || !command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  switch (command) {
    case 'dev': {
      if (values.config || values.adapter) {
        const { runDevProject } = await import('./dev-project.ts');
        await runDevProject({
          ...(values.config ? { config: values.config } : {}),
          ...(values.adapter ? { adapter: values.adapter } : {}),
          ...(values.port ? { port: Number(values.port) } : {}),
        });
        return;
      }
      const { runDev } = await import('./dev.ts');
      await runDev({ port: values.port ? Number(values.port) : 8443 });
      return;
    }
    case 'validate':
    case 'serve': {
      if (!values.config) fail(`${command} needs --config FILE`);
      const loaded = loadConfigFile(values.config);
      const adapters = await loadAdapters(loaded);
      if (command === 'validate') {
        const problems = checkConfig(loaded, adapters, { offline: values.offline ?? false });
        if (problems.length > 0) fail(problems.join('\nkubegate: '));
        const n = adapters.reduce((s, a) => s + a.definition.resources.length, 0);
        process.stdout.write(`${values.config}: ok (${adapters.length} adapters, ${n} resources)\n`);
        return;
      }
      const tlsConf = loaded.config.server?.tls;
      let tls: { cert: string; key: string };
      let ca: string;
      if (tlsConf?.certFile && tlsConf.keyFile) {
        // Relative to the config file, like adapter modules (what `kubegate validate` checks).
        tlsConf.certFile = configRelative(dirname(resolve(values.config)), tlsConf.certFile);
        tlsConf.keyFile = configRelative(dirname(resolve(values.config)), tlsConf.keyFile);
        tls = { cert: readFileSync(tlsConf.certFile, 'utf8'), key: readFileSync(tlsConf.keyFile, 'utf8') };
        ca = tls.cert;
      } else {
        const host = loaded.config.server?.host ?? '127.0.0.1';
        const { createDevCertificates } = await import('../server/tls.ts');
        const dev = await createDevCertificates(['localhost'], [host === '0.0.0.0' ? '127.0.0.1' : host]);
        tls = dev.server;
        ca = dev.ca.cert;
      }
      const audit = loaded.config.audit;
      if (audit) {
        // Relative to the config file, like the TLS files.
        if (audit.policyFile) audit.policyFile = configRelative(dirname(resolve(values.config)), audit.policyFile);
        if (audit.path !== '-') audit.path = configRelative(dirname(resolve(values.config)), audit.path);
      }
      const logger = createLogger();
      const gw: Gateway = await startGateway({ config: loaded.config, adapters, tls, logger });
      if (values['write-kubeconfig'])
        writeServeKubeconfig(values['write-kubeconfig'], { config: loaded.config, url: gw.url, ca });
      const log = adapterLogger(logger);
      const stopWatching = watchConfigFile(values.config, gw.runtime, adapters, log);
      const stopCerts =
        tlsConf?.certFile && tlsConf.keyFile
          ? watchServingCertificate(gw.app.server, { certFile: tlsConf.certFile, keyFile: tlsConf.keyFile }, log)
          : () => undefined;
      process.stderr.write(`kubegate: serving on ${gw.url}\n`);
      closeOnSignal({
        close: () => {
          stopWatching();
          stopCerts();
          return gw.close();
        },
      });
      return;
    }
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof DefinitionError) fail(err.message);
  if (err instanceof Error && 'code' in err && err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') fail(err.message);
  if (err instanceof Error && 'code' in err && err.code === 'EADDRINUSE')
    fail(`${err.message}: is another kubegate running?`);
  fail(err instanceof Error ? (err.stack ?? err.message) : String(err));
});
