import { defineConfig } from 'vitest/config';

// Native addons and SPDK (one instance per process) want real processes: the forks pool gives
// every test file its own.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // The PCIe rig boots VMs: its own command, npm run test:vm (vitest.vm.config.mts).
    exclude: ['test/vm/**', '**/node_modules/**'],
    globalSetup: ['test/spdk-notice.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
