#!/usr/bin/env node
// Entry for the `kubegate` command: runs the TypeScript CLI under Node >= 22 (see scripts/node24.mjs).
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
const launcher = fileURLToPath(new URL('../scripts/node24.mjs', import.meta.url));
const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const r = spawnSync(process.execPath, [launcher, main, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
