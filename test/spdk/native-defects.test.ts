// The native layer's memory-safety defects of issue 13, each driven in a process of its own
// (test/spdk/fixtures/native-defects.js) so that a regression crashes or hangs that process, not
// the test runner.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeSpdk } from './support';

const fixture = join(__dirname, 'fixtures', 'native-defects.js');

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** The last JSON line the program printed, if any. */
  result: Record<string, unknown> | undefined;
  /** The program was killed for not exiting within the limit. */
  hung: boolean;
}

function runMode(mode: string, options: { limitMs?: number; env?: Record<string, string>; args?: string[] } = {}): Promise<Outcome> {
  // Generous: a start alone takes 10 s on this 2-core machine shared with other work.
  const limitMs = options.limitMs ?? 100_000;
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--expose-gc', fixture, mode, ...(options.args ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    let hung = false;
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      hung = true;
      proc.kill('SIGKILL');
    }, limitMs);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      resolve({ code, signal, stderr, hung, result: line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>) });
    });
  });
}

function expectClean(o: Outcome): void {
  expect(o.hung, `the program hung; stderr: ${o.stderr}`).toBe(false);
  expect(o.signal, `the program died of ${String(o.signal)}; stderr: ${o.stderr}`).toBe(null);
  expect(o.code, `the program exited with ${String(o.code)}; stderr: ${o.stderr}`).toBe(0);
}

describeSpdk('native layer: DMA memory is owned by native code', () => {
  it('an allocBuffer view transferred away mid-read keeps its DMA block until the read is done', async () => {
    const o = await runMode('dma-transfer-inflight');
    expectClean(o);
    expect(o.result).toMatchObject({ detached: true, overlap: false });
    expect(Number(o.result!.allocated)).toBeGreaterThan(0);
  }, 150_000);

  it("a queue's slot memory transferred away mid-read stays allocated, and the reads complete", async () => {
    const o = await runMode('dma-transfer-queue');
    expectClean(o);
    expect(o.result).toMatchObject({ overlap: false, results: [0, 0, 0, 0, 0, 0, 0, 0] });
  }, 150_000);

  it('a DMA view that escaped stop() by a transfer never reaches memory SPDK let go of', async () => {
    const o = await runMode('dma-transfer-stop');
    expectClean(o);
    // Either detached or reading zeros: never the old contents through freed memory.
    expect(o.result).toMatchObject({ sum: 0 });
  }, 150_000);
});

describeSpdk('native layer: worker teardown', () => {
  it('terminating a worker whose queue has I/O in flight does not crash the process', async () => {
    const o = await runMode('worker-terminate');
    expectClean(o);
    expect(o.result).toMatchObject({ terminated: true });
  }, 150_000);
});

describeSpdk('native layer: bounce buffers', () => {
  it('a bounce block allocated for an 8 KiB-aligned I/O is never handed to a larger I/O', async () => {
    const o = await runMode('bounce-size-class');
    expectClean(o);
    expect(o.result).toMatchObject({ clean: true });
  }, 150_000);
});

describeSpdk('native layer: ordinary Buffers detached while their I/O is in flight', () => {
  it('a read into a Buffer detached and freed mid-flight fails with EINVAL instead of writing freed memory', async () => {
    const o = await runMode('detach-plain-read');
    expectClean(o);
    expect(o.result).toMatchObject({ outcome: 'rejected: EINVAL' });
  }, 150_000);

  it('writes whose Buffers are detached and freed right after submission write their own data, whole', async () => {
    const o = await runMode('detach-plain-write');
    expectClean(o);
    expect(o.result).toMatchObject({ outcomes: Array(4).fill('resolved'), whole: Array(4).fill(true) });
  }, 150_000);
});

describeSpdk('native layer: queue keep-alive', () => {
  it('a queue closed with a row staged but never submitted lets Node exit by itself', async () => {
    const o = await runMode('close-staged', { limitMs: 60_000 });
    expectClean(o);
    expect(o.result).toMatchObject({ closed: true });
  }, 150_000);
});

describeSpdk('native layer: stop() and in-flight queue I/O', () => {
  it('stop() right after a queue submitted lets every I/O complete; none fails with EBADF', async () => {
    const o = await runMode('stop-inflight-queue');
    expectClean(o);
    expect(o.result).toMatchObject({ completed: 256, failed: 0 });
  }, 150_000);
});

describeSpdk('native layer: a queue keeps its bdev', () => {
  it('collecting a Bdev nobody references does not close it under its live queue', async () => {
    const o = await runMode('gc-bdev-queue');
    expectClean(o);
    expect(o.result).toMatchObject({ results: [0] });
  }, 150_000);
});

describeSpdk('native layer: synchronous calls that time out', () => {
  it("spdk.bdevs() timing out while the app thread lists never writes into the caller's gone stack frame", async () => {
    const o = await runMode('sync-timeout', { env: { SPDK_NODE_SYNC_CALL_TIMEOUT_MS: '0' } });
    expectClean(o);
    const r = o.result as { listed: number; timedOut: number };
    expect(r.listed + r.timedOut).toBe(200);
    expect(r.timedOut).toBeGreaterThan(0);
  }, 150_000);
});

describeSpdk('native layer: starting and stopping from several places at once', () => {
  it('Spdk.start() from two workers at the same moment: both promises settle and one start wins', async () => {
    for (let round = 0; round < 3; round++) {
      const o = await runMode('start-race');
      expectClean(o);
      const settled = o.result?.settled as string[] | string;
      expect(settled, `round ${round}`).not.toBe('timeout');
      expect([...(settled as string[])].sort(), `round ${round}`).toEqual(['refused: EALREADY', 'started']);
    }
  }, 360_000);

  it('process.exit() while stop() is under way exits cleanly, whatever the moment', async () => {
    for (const ms of [0, 4, 16, 64]) {
      const o = await runMode('exit-during-stop', { args: [String(ms)], limitMs: 60_000 });
      expect(o.stderr, `exit ${ms} ms into stop()`).not.toMatch(/marked as exited|Aborted|Segmentation/);
      expectClean(o);
    }
  }, 600_000);
});

describeSpdk('native layer: failures in the bdev\'s own terms', () => {
  it('a failed read on an error bdev over malloc is an EIO SpdkError, not a made-up NVMe status', async () => {
    const o = await runMode('error-bdev-text');
    expectClean(o);
    const r = o.result as { promise: { name: string; code: string; message: string }; queue: number };
    expect(r.promise.name).toBe('SpdkError');
    expect(r.promise.code).toBe('EIO');
    expect(r.promise.message).not.toMatch(/NVMe|INTERNAL_DEVICE_ERROR/);
    expect(r.promise.message).toMatch(/EE_M/);
    expect(r.queue).toBe(-5);
  }, 150_000);
});

describeSpdk('native layer: NVMe sizes against the live namespace', () => {
  it('a read sized for a namespace that has since been reformatted is refused with ERANGE, not sent', async () => {
    const o = await runMode('nvme-reformat', { args: ['4521'], limitMs: 100_000 });
    expectClean(o);
    expect(o.result).toMatchObject({ before: 512, after: 4096, outcome: 'rejected: ERANGE' });
  }, 150_000);
});
