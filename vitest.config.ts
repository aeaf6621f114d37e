import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The repository runs its TypeScript sources directly: `kubegate/sdk` and `kubegate/testing` (what adapters and
// their tests import, as a team's would) are the sources here, the built dist/ only in an installed package.
const source = (entry: string) => fileURLToPath(new URL(`./src/${entry}/index.ts`, import.meta.url));

// The packed-package test installs kubegate and an adapter project with npm and builds them: heavy enough to
// slow the timing-sensitive end-to-end tests beside it, so it runs on its own, after everything else.
const PACKAGE_TEST = 'test/e2e/adapter-kit.test.ts';

export default defineConfig({
  resolve: {
    alias: [
      { find: /^kubegate\/sdk$/, replacement: source('sdk') },
      { find: /^kubegate\/testing$/, replacement: source('testing') },
    ],
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'kubegate',
          include: ['src/**/*.test.ts', 'adapters/**/*.test.ts', 'examples/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/bench/**', 'node_modules/**', PACKAGE_TEST],
        },
      },
      { extends: true, test: { name: 'package', include: [PACKAGE_TEST], sequence: { groupOrder: 1 } } },
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end tests start gateways on fixed ports and real kubectl processes; two cores are the budget.
    pool: 'forks',
    maxWorkers: 2,
    env: {
      KUBEGATE_LOG_LEVEL: process.env.KUBEGATE_LOG_LEVEL ?? 'warn',
      // Processes the tests start from the sources (`node src/cli/main.ts`) resolve `kubegate/sdk` to them too.
      NODE_OPTIONS: [process.env.NODE_OPTIONS, '--conditions=kubegate-source'].filter(Boolean).join(' '),
    },
  },
});
