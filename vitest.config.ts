import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'adapters/**/*.test.ts', 'examples/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end tests start gateways on fixed ports and real kubectl processes; two cores are the budget.
    pool: 'forks',
    maxWorkers: 2,
    env: { KUBEGATE_LOG_LEVEL: process.env.KUBEGATE_LOG_LEVEL ?? 'warn' },
  },
});
