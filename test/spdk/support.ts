// Shared by the tests that need SPDK: whether the fat library and addon are usable here, and if
// not, why (the doctor's first problem), so every skipped suite says so in its name.
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe } from 'vitest';
import { checkFatLibrary } from '../../src/doctor';
import type { SpdkConfig } from '../../src';
import type { RingQueue } from '../../src/io/queue';

const report = checkFatLibrary();
export const spdkAvailable = report.ok;
/** Where build.sh installed SPDK's own tools (spdk_tgt, bdevperf), beside the library's prefix. */
export const spdkToolsDir = report.library?.realPath ? join(dirname(report.library.realPath), '..', 'libexec', 'spdk-node') : '/usr/local/libexec/spdk-node';
export const skipReason = report.ok ? '' : (report.problems[0]?.message ?? 'SPDK is not usable here');

/** `describe` that runs only where SPDK is installed, and otherwise shows why it was skipped. */
export function describeSpdk(name: string, body: () => void): void {
  if (spdkAvailable) {
    describe(name, body);
  } else {
    describe.skip(`${name} [skipped: ${skipReason}; install with ./build.sh]`, body);
  }
}

export function mallocConfig(bdevs: Array<{ name: string; numBlocks: number; blockSize: number }>): SpdkConfig {
  return {
    subsystems: [
      {
        subsystem: 'bdev',
        config: bdevs.map((b) => ({
          method: 'bdev_malloc_create',
          params: { name: b.name, num_blocks: b.numBlocks, block_size: b.blockSize },
        })),
      },
    ],
  };
}

/** Runs a TypeScript/JavaScript snippet in a child Node process with spdk-node loaded from the compiled lib/. */
export const libPath = require.resolve('../../src/index.ts').replace(/src\/index\.ts$/, 'lib/index.js');

/**
 * A real, full garbage collection. Vitest's workers run without --expose-gc, so the flag is set at
 * run time and `gc` taken from a fresh context (V8 installs it in contexts created after the flag).
 */
export function forceGc(): void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('forceGc: V8 did not expose gc()');
  (gc as () => void)();
}

/** Runs a queue (bdev IoQueue or NVMe namespace queue) until every staged and resubmitted I/O has completed; returns all (slot, result) pairs. */
export function runToCompletion(q: RingQueue, onEach?: (slot: number, result: number) => void): Promise<Array<[number, number]>> {
  const seen: Array<[number, number]> = [];
  return new Promise((resolve) => {
    q.onCompletions = (count, slots, results) => {
      for (let i = 0; i < count; i++) {
        seen.push([slots[i]!, results[i]!]);
        onEach?.(slots[i]!, results[i]!);
      }
      q.submit();
      if (q.inflight === 0) resolve(seen);
    };
    q.submit();
  });
}
