#!/usr/bin/env node
// Runs a script under Node >= 22. kubegate's sources are TypeScript executed by Node's built-in type
// stripping, which older Node lacks; on such a machine we fetch the `node@24` npm package (the official
// binary, shipped through the registry) into ~/.cache/node24 once and re-run ourselves with it.
// Plain JavaScript on purpose: this file must run on the old Node too.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, sep } from 'node:path';

const major = Number(process.versions.node.split('.')[0]);
const args = process.argv.slice(2);
let node = process.execPath;

if (major < 22) {
  const prefix = join(process.env.KUBEGATE_NODE_CACHE ?? join(homedir(), '.cache'), 'node24');
  node = join(prefix, 'node_modules', '.bin', 'node');
  console.error(`kubegate: Node ${process.versions.node} is older than 22; running under Node 24 from ${prefix}`);
  if (!existsSync(node)) {
    mkdirSync(prefix, { recursive: true });
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['install', '--no-save', '--prefix', prefix, 'node@24'], { stdio: 'inherit' });
    if (r.status !== 0 || !existsSync(node)) {
      console.error('kubegate: could not install node@24 from the npm registry; install Node >= 22 and retry');
      process.exit(1);
    }
  }
}

// A fresh clone: install the locked dependencies first, so `npm start` and `npm test` work as the first command.
// Never inside node_modules: an installed kubegate runs its build (bin/kubegate.mjs) and owns no dependencies.
const root = join(import.meta.dirname, '..');
const installed = root.split(sep).includes('node_modules');
if (!installed && !existsSync(join(root, 'node_modules', 'fastify'))) {
  console.error('kubegate: installing dependencies (npm ci) first');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
  const i = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit', cwd: root, env });
  if (i.status !== 0) process.exit(i.status ?? 1);
}

// Asynchronous, so this process can pass SIGINT/SIGTERM/SIGHUP on (`npm start`, `kill`, a container runtime
// signal it, not the child): a server left running after its launcher exits would keep the port. The child
// shuts down gracefully and this process exits the way it did.
const child = spawn(node, [...nodeFlags(), ...args], { stdio: 'inherit', env: process.env });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});

function nodeFlags() {
  // `kubegate-source` makes `kubegate/sdk` and `kubegate/testing` resolve to the TypeScript sources (package.json
  // exports) so the repository runs without a build; installed packages resolve them to dist/.
  const source = ['--conditions=kubegate-source'];
  // Type stripping is on by default from Node 23.6 / 22.18; the flag keeps 22.6–22.17 working.
  const [maj, min] = (node === process.execPath ? process.versions.node : '24.0').split('.').map(Number);
  return maj === 22 && min < 18
    ? [...source, '--experimental-strip-types', '--no-warnings=ExperimentalWarning']
    : source;
}
