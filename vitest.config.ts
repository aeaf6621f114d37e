import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The repository runs its TypeScript sources directly: `kubegate/sdk` and `kubegate/testing` (what adapters and
// their tests import, as a team's would) are the sources here, the built dist/ only in an installed package.
const source = (entry: string) => fileURLToPath(new URL(`./src/${entry}/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^kubegate\/sdk$/, replacement: source('sdk') },
      { find: /^kubegate\/testing$/, replacement: source('testing') },
    ],
  },
  test: {
    include: ['src/**/*.test.ts', 'adapters/**/*.test.ts', 'examples/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
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
