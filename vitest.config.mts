import { defineConfig } from 'vitest/config';

// Native addons and SPDK (one instance per process) want real processes: the forks pool gives
// every test file its own.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/spdk-notice.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
