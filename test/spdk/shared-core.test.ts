// Node's JS thread on the reactor's core (a two-core machine whose other core serves a target):
// each completion batch must cost the JS thread one wake-up, not a bounce between the two threads
// (native/crossing.h: the wake-up is sent outside any lock the JS thread takes), and the JS
// thread's turns must be batches (native/io/ring.h, "Sharing a core"). Counted, not timed: the
// speed itself is the benchmark's (npm run bench -- --only nvme).
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runChild, shown } from '../child';
import { describeSpdk, libPath } from './support';

function tasksetMissing(): string {
  if (availableParallelism() < 2) return 'needs two cores (the reactor on core 1)';
  try {
    execFileSync('taskset', ['-c', '1', 'true'], { stdio: 'ignore' });
    return '';
  } catch {
    return 'taskset (util-linux) cannot pin a process to core 1 here';
  }
}

const missing = tasksetMissing();

describeSpdk('the JS thread sharing the reactor core', () => {
  it.skipIf(missing !== '')(`wakes once per completion at QD 1 and takes completions in batches at QD 128${missing ? ` [skipped: ${missing}]` : ''}`, async () => {
    const fixture = join(__dirname, 'fixtures', 'shared-core.js');
    const r = await runChild('taskset', ['-c', '1', process.execPath, fixture], { env: { ...process.env, SPDK_NODE_LIB: libPath }, timeout: 120_000 });
    expect(r.status, shown(r)).toBe(0);
    const { switchesPerIo, perTurn } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { switchesPerIo: number; perTurn: number };
    // One sleep per I/O; a JS thread that blocked on a lock the reactor held after waking it
    // measured 3.
    expect(switchesPerIo).toBeGreaterThan(0.5);
    expect(switchesPerIo).toBeLessThan(1.5);
    // Woken once half of the 128 are done (64); woken every 16 completions measured 16 or fewer.
    expect(perTurn).toBeGreaterThanOrEqual(32);
  }, 150_000);
});
