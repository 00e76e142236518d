import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The cluster suite has its own config and control plane (vitest.cluster.config.ts).
    exclude: ['**/node_modules/**', 'test/e2e/cluster/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: Kafka, sidecars and Python runtimes all compete for them.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
