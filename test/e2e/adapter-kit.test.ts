import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';

// kubegate as a team meets it: packed, installed from the tarball into a project outside the repository, an
// adapter project scaffolded there, type-checked and tested with its own tools, shipped as a package, and
// served by the installed `kubegate serve` to the real kubectl over verified TLS.
const ROOT = resolve(import.meta.dirname, '../..');
const SAMPLE = join(ROOT, 'examples/openapi/inventory.yaml');
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const TARBALL = `kubegate-${version}.tgz`;

// The outer `npm test` exports npm_* settings and the source-resolution condition; the team's machine has neither.
// The Node running the tests comes first on the PATH: bins (`#!/usr/bin/env node`) and scripts run under it.
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_') && k !== 'NODE_OPTIONS'),
  ),
  PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
};
const npmFlags = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

function run(cmd: string, args: string[], cwd: string, timeout = 180_000): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, env, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, out: `${stdout}${stderr}` });
    });
  });
}

async function ok(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await run(cmd, args, cwd);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed with ${r.code}:\n${r.out}`);
  return r.out;
}

/** A long-running child whose output is collected; `wait` resolves when the output matches. */
function start(cmd: string, args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}) {
  const p = spawn(cmd, args, { cwd, env: { ...env, ...extra } });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    p,
    output: () => out,
    wait: async (re: RegExp): Promise<RegExpExecArray> => {
      await expect.poll(() => re.test(out) || p.exitCode !== null, { timeout: 60_000, interval: 100 }).toBe(true);
      const m = re.exec(out);
      if (!m) throw new Error(`${cmd} ${args.join(' ')} ended without ${String(re)}:\n${out}`);
      return m;
    },
  };
}

function stop(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    p.once('exit', () => done());
    p.kill('SIGTERM');
  });
}

let dir: string;
let project: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubegate-kit-'));
  await ok('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], ROOT);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'platform', private: true, type: 'module' }));
  await ok('npm', ['install', ...npmFlags, `./${TARBALL}`], dir);
  await ok(
    join(dir, 'node_modules/.bin/kubegate'),
    ['adapter', 'new', 'inventory', '--from-openapi', SAMPLE, '--kubegate', `file:../${TARBALL}`],
    dir,
  );
  project = join(dir, 'inventory');
  await ok('npm', ['install', ...npmFlags], project);
}, 300_000);

// Two installed projects are many files: removing them takes a while on a busy machine.
afterAll(async () => {
  await Promise.all(children.map(stop));
  if (dir) await rm(dir, { recursive: true, force: true });
}, 180_000);

describe('kubegate installed from its tarball', () => {
  it('ships the build, the templates and no sources or tests', () => {
    const pkg = join(dir, 'node_modules/kubegate');
    expect(existsSync(join(pkg, 'dist/src/sdk/index.js'))).toBe(true);
    expect(existsSync(join(pkg, 'dist/src/testing/index.d.ts'))).toBe(true);
    expect(existsSync(join(pkg, 'src/cli/scaffold/template/index.openapi.ts.tmpl'))).toBe(true);
    expect(existsSync(join(pkg, 'src/cli/main.ts'))).toBe(false);
    expect(existsSync(join(pkg, 'dist/src/testing/testing.test.js'))).toBe(false);
  });

  it('scaffolds a project whose own type check and tests pass at once, with types from openapi-typescript', async () => {
    expect(readFileSync(join(project, 'src/upstream.ts'), 'utf8')).toContain('"/v1/parts"');
    expect(readFileSync(join(project, 'src/index.ts'), 'utf8')).toContain(
      'createClient<paths>({ baseUrl: ctx.config.baseUrl, fetch: ctx.fetch })',
    );
    await ok('npm', ['run', 'typecheck'], project);
    const test = await ok('npm', ['test'], project);
    expect(test).toMatch(/4 passed/);
  });

  it('scaffolds without an OpenAPI document too (type check and tests with the same tools)', async () => {
    await ok(
      join(dir, 'node_modules/.bin/kubegate'),
      ['adapter', 'new', 'widgets', '--kubegate', `file:../${TARBALL}`],
      dir,
    );
    const widgets = join(dir, 'widgets');
    symlinkSync(join(project, 'node_modules'), join(widgets, 'node_modules'), 'dir');
    await ok(join(widgets, 'node_modules/.bin/tsc'), ['--noEmit'], widgets);
    expect(await ok(join(widgets, 'node_modules/.bin/vitest'), ['run'], widgets)).toMatch(/4 passed/);
  });

  it('serves the adapter, named by its package name, to kubectl through the kubeconfig serve writes', async () => {
    await ok('npm', ['pack', '--loglevel=error', '--pack-destination', dir], project);
    await ok('npm', ['install', ...npmFlags, './inventory-0.1.0.tgz'], dir);
    const fake = start(process.execPath, ['inventory/test/fake-upstream.ts'], dir, { PORT: '0' });
    children.push(fake.p);
    const [, upstream] = await fake.wait(/fake upstream on (http:\S+)/);
    writeFileSync(
      join(dir, 'kubegate.yaml'),
      [
        'server: { port: 0 }',
        'auth:',
        '  tokens: [{ token: platform-team-token-0123456789, user: platform, groups: [platform] }]',
        "  policy: [{ groups: [platform], verbs: ['*'], apiGroups: ['*'], resources: ['*'], nonResourceURLs: ['*'] }]",
        'adapters:',
        '  - name: inventory',
        '    module: inventory',
        `    config: { baseUrl: '${upstream ?? ''}' }`,
        '',
      ].join('\n'),
    );
    const serve = start(
      join(dir, 'node_modules/.bin/kubegate'),
      ['serve', '--config', 'kubegate.yaml', '--write-kubeconfig', 'kubeconfig'],
      dir,
      { KUBEGATE_LOG_LEVEL: 'warn' },
    );
    children.push(serve.p);
    await serve.wait(/serving on https:/);
    const kubeconfig = join(dir, 'kubeconfig');
    const kc = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
    expect(kc.clusters[0]?.cluster['certificate-authority-data']).toBeTruthy();
    expect(kc.clusters[0]?.cluster['insecure-skip-tls-verify']).toBeUndefined();
    await expect
      .poll(async () => (await kubectl(kubeconfig, ['get', 'parts', '-o', 'name'])).stdout.trim().split('\n'), {
        timeout: 30_000,
      })
      .toEqual([
        'part.inventory.example.com/part-1',
        'part.inventory.example.com/part-2',
        'part.inventory.example.com/part-3',
        'part.inventory.example.com/part-4',
        'part.inventory.example.com/part-5',
      ]);
    // The printer columns the scaffold chose from the OpenAPI schema (the upstream `name` is not one: NAME is).
    const row = await kubectlOk(kubeconfig, ['get', 'parts', 'part-2']);
    expect(row).toMatch(/^NAME\s+QUANTITY\s+UNIT PRICE\s+DISCONTINUED\s+AGE\npart-2\s+2\s+3\s+true\s/);
    await stop(serve.p);
  });

  it('kubegate dev --config serves the TypeScript sources and reloads them when they change', async () => {
    const fake = start(process.execPath, ['inventory/test/fake-upstream.ts'], dir, { PORT: '0' });
    children.push(fake.p);
    const [, upstream] = await fake.wait(/fake upstream on (http:\S+)/);
    mkdirSync(join(dir, 'dev'));
    const config = join(dir, 'dev/kubegate.yaml');
    writeFileSync(
      config,
      `adapters:\n  - name: inventory\n    module: ../inventory/src/index.ts\n    config: { baseUrl: '${upstream ?? ''}' }\n`,
    );
    const dev = start(join(dir, 'node_modules/.bin/kubegate'), ['dev', '--config', config, '--port', '0'], dir, {
      KUBEGATE_LOG_LEVEL: 'warn',
    });
    children.push(dev.p);
    await dev.wait(/serving on https:/);
    const kubeconfig = join(dir, 'dev/.kubegate/kubeconfig');
    const columns = async () => (await kubectl(kubeconfig, ['get', 'parts', 'part-1'])).stdout.split('\n')[0] ?? '';
    await expect.poll(columns, { timeout: 30_000 }).toMatch(/QUANTITY\s+UNIT PRICE/);
    const index = join(project, 'src/index.ts');
    writeFileSync(index, readFileSync(index, 'utf8').replace("name: 'Quantity'", "name: 'In Stock'"));
    await expect.poll(columns, { timeout: 60_000 }).toMatch(/IN STOCK\s+UNIT PRICE/);
    expect(dev.output()).toMatch(/index\.ts changed, reloading/);
    await stop(dev.p);
    expect(dev.p.exitCode).toBe(0);
  });
});
