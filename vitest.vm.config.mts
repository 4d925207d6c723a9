import { defineConfig } from 'vitest/config';

// `npm run test:vm`: the PCIe rig. test/vm/setup.ts builds (or reuses) the VM image once; each test
// file boots its own VM (QEMU, emulated NVMe controllers) and runs spdk-node inside it. One file at
// a time: a TCG guest wants both cores.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/vm/**/*.test.ts'],
    globalSetup: ['test/vm/setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    fileParallelism: false,
  },
});
