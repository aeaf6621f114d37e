#!/usr/bin/env node
// Entry for the `kubegate` command.
// Installed as a package (under node_modules, or without sources): runs the built CLI in dist/ in this process.
// In a clone of the repository: runs the TypeScript sources under Node >= 22 through scripts/node24.mjs.
import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const built = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const installed = root.split(sep).includes('node_modules') || !existsSync(source);

if (installed) {
  if (!existsSync(built)) {
    console.error(`kubegate: ${built} is missing; this package was published without its build (npm run build)`);
    process.exit(1);
  }
  await import(pathToFileURL(built).href);
} else {
  // The launcher runs in this process (it reads the script to run from argv), so signals reach the one child
  // it starts and forwards them to.
  process.argv.splice(2, 0, source);
  await import(new URL('../scripts/node24.mjs', import.meta.url).href);
}
