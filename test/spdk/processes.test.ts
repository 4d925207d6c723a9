// spdk-node in whole processes: signals, process.exit(), two processes at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';
import { Spdk } from '../../src';
import { describeSpdk, mallocConfig } from './support';

const child = join(__dirname, 'fixtures', 'child.js');

interface Running {
  proc: ChildProcess;
  first: Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function run(mode: string): Running {
  const proc = spawn(process.execPath, [child, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const first = new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', (line) => resolve(JSON.parse(line) as Record<string, unknown>));
    proc.once('exit', (code) => reject(new Error(`child exited (${code}) before it was ready: ${stderr}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { proc, first, exited };
}

/** Files a process of SPDK's could leave behind: hugepage files, shared memory. */
// `runtimeDir`: also DPDK's runtime directory (a clean stop removes it; a killed process cannot).
function leftoversOf(pid: number, { runtimeDir = true } = {}): string[] {
  const found: string[] = [];
  for (const dir of ['/dev/hugepages', '/dev/shm', ...(runtimeDir ? ['/var/run/dpdk'] : [])]) {
    if (existsSync(dir)) found.push(...readdirSync(dir).filter((f) => f.endsWith(`pid${pid}`) || f.includes(`spdk_pid${pid}`)));
  }
  return found;
}

describeSpdk('processes', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`a program with no ${signal} handler stops SPDK cleanly and dies of the signal`, async () => {
      const c = run('wait');
      const ready = await c.first;
      c.proc.kill(signal);
      const { code, signal: got, stderr } = await c.exited;
      expect(got).toBe(signal);
      expect(code).toBe(null);
      expect(stderr).not.toMatch(/Segmentation|Aborted|core dumped|assert/i);
      expect(existsSync(String(ready.rpcSocket))).toBe(false); // SPDK shut its RPC server down
      expect(leftoversOf(Number(ready.pid))).toEqual([]);
    });
  }

  const exits = [
    ['exit-with-io', 'process.exit() with open bdevs and I/O in flight exits promptly'],
    ['leave-open', 'a program that is done with its I/O exits by itself, SPDK still running and bdevs open'],
  ] as const;
  for (const [mode, title] of exits) {
    it(title, async () => {
      const started = Date.now();
      const c = run(mode);
      const ready = await c.first;
      const { code, stderr } = await c.exited;
      expect(code).toBe(0);
      expect(stderr).not.toMatch(/Segmentation|Aborted|core dumped/i);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(leftoversOf(Number(ready.pid))).toEqual([]);
    });
  }

  it('a process killed with SIGKILL leaves no hugepage or shared-memory files', async () => {
    const c = run('wait');
    const ready = await c.first;
    c.proc.kill('SIGKILL');
    expect((await c.exited).signal).toBe('SIGKILL');
    expect(leftoversOf(Number(ready.pid), { runtimeDir: false })).toEqual([]);
  });

  it('the next start removes the empty DPDK runtime directory a killed process left', async () => {
    const c = run('wait');
    const ready = await c.first;
    c.proc.kill('SIGKILL');
    await c.exited;
    expect(existsSync(`/var/run/dpdk/spdk_pid${String(ready.pid)}`)).toBe(true);
    const next = run('wait');
    await next.first;
    next.proc.kill('SIGTERM');
    await next.exited;
    expect(existsSync(`/var/run/dpdk/spdk_pid${String(ready.pid)}`)).toBe(false);
    expect(leftoversOf(Number((await next.first).pid))).toEqual([]);
  });

  it('two processes run SPDK at once, each doing verified I/O', async () => {
    const spdk = await Spdk.start({ config: mallocConfig([{ name: 'Here', numBlocks: 1024, blockSize: 4096 }]) });
    try {
      const c = run('io');
      await using bdev = await spdk.openBdev('Here', { write: true });
      for (let i = 0; i < 200; i++) {
        const data = Buffer.alloc(4096, 255 - (i % 256));
        await bdev.write(i * 4096, data);
        expect((await bdev.read(i * 4096, 4096)).equals(data)).toBe(true);
      }
      expect(await c.first).toMatchObject({ done: true });
      expect((await c.exited).code).toBe(0);
    } finally {
      await spdk.stop();
    }
  });
});
