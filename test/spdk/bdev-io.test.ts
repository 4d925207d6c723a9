// Block I/O on malloc and null bdevs created from the start config.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Spdk, type Bdev } from '../../src';
import { describeSpdk, forceGc } from './support';

const MALLOC_BLOCKS = 32768; // 16 MiB of 512-byte blocks

/** CPU time (user + system) of this process's main thread, the JS thread, in ms (from /proc, in clock ticks). */
function jsThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

describeSpdk('bdev I/O', () => {
  let spdk: Spdk;

  beforeAll(async () => {
    spdk = await Spdk.start({
      config: {
        subsystems: [
          {
            subsystem: 'bdev',
            config: [
              { method: 'bdev_malloc_create', params: { name: 'Malloc0', num_blocks: MALLOC_BLOCKS, block_size: 512 } },
              { method: 'bdev_malloc_create', params: { name: 'Malloc4k', num_blocks: 4096, block_size: 4096 } },
              { method: 'bdev_null_create', params: { name: 'Null0', num_blocks: 1 << 20, block_size: 4096 } },
            ],
          },
        ],
      },
    });
  });

  afterAll(async () => {
    await spdk?.stop();
  });

  it('reports the running SPDK version', () => {
    expect(spdk.version).toBe('v26.01');
  });

  it('lists the bdevs from the config with their geometry and I/O types', () => {
    const bdevs = spdk.bdevs();
    const malloc = bdevs.find((b) => b.name === 'Malloc0');
    expect(malloc).toMatchObject({ blockSize: 512, numBlocks: MALLOC_BLOCKS, sizeBytes: MALLOC_BLOCKS * 512, productName: 'Malloc disk' });
    expect(malloc?.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(malloc?.supportedIoTypes).toEqual(expect.arrayContaining(['read', 'write', 'unmap', 'flush', 'writeZeroes']));
    const nul = bdevs.find((b) => b.name === 'Null0');
    expect(nul).toMatchObject({ blockSize: 4096, numBlocks: 1 << 20, productName: 'Null disk' });
  });

  it('writes random data across a whole malloc bdev and reads it back', async () => {
    await using bdev = await spdk.openBdev('Malloc0', { write: true });
    const chunk = 1 << 20;
    const written: Buffer[] = [];
    for (let offset = 0; offset < bdev.sizeBytes; offset += chunk) {
      const data = randomBytes(chunk);
      written.push(data);
      await bdev.write(offset, data);
    }
    for (let i = 0; i < written.length; i++) {
      const back = await bdev.read(i * chunk, chunk);
      expect(back.equals(written[i]!)).toBe(true);
    }
  });

  it('completes 2,000 concurrent writes with distinct data, then reads each back', async () => {
    await using bdev = await spdk.openBdev('Malloc4k', { write: true });
    const count = 2000;
    const blocks = Array.from({ length: count }, (_, i) => i % bdev.numBlocks);
    const data = blocks.map((_, i) => {
      const b = randomBytes(4096);
      b.writeUInt32LE(i, 0);
      return b;
    });
    await Promise.all(blocks.map((block, i) => bdev.write(block * 4096, data[i]!)));
    const back = await Promise.all(blocks.map((block) => bdev.read(block * 4096, 4096)));
    back.forEach((b, i) => expect(b.equals(data[i]!)).toBe(true));
  });

  it('keeps two bdevs\' concurrent I/O apart: each ring gets its own data back', async () => {
    await using a = await spdk.openBdev('Malloc0', { write: true });
    await using b = await spdk.openBdev('Malloc4k', { write: true });
    const n = 1500; // more than one ring's slots, so some wait in JS
    const dataA = Array.from({ length: n }, () => randomBytes(512));
    const dataB = Array.from({ length: n }, () => randomBytes(4096));
    const writes: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      writes.push(a.write(i * 512, dataA[i]!), b.write(i * 4096, dataB[i]!));
    }
    await Promise.all(writes);
    const reads = await Promise.all(Array.from({ length: n }, (_, i) => Promise.all([a.read(i * 512, 512), b.read(i * 4096, 4096)])));
    reads.forEach(([ra, rb], i) => {
      expect(ra.equals(dataA[i]!)).toBe(true);
      expect(rb.equals(dataB[i]!)).toBe(true);
    });
  });

  it('reads into a caller-supplied Buffer and returns that Buffer', async () => {
    await using bdev = await spdk.openBdev('Malloc4k', { write: true });
    const data = randomBytes(8192);
    await bdev.write(8192, data);
    const into = Buffer.alloc(8192);
    const result = await bdev.read(8192, into);
    expect(result).toBe(into);
    expect(into.equals(data)).toBe(true);
  });

  it('does I/O on a subarray view without touching the bytes around it', async () => {
    await using bdev = await spdk.openBdev('Malloc4k', { write: true });
    const data = randomBytes(4096);
    await bdev.write(0, data);
    const whole = Buffer.alloc(3 * 4096, 0xaa);
    await bdev.read(0, whole.subarray(4096, 8192));
    expect(whole.subarray(4096, 8192).equals(data)).toBe(true);
    expect(whole.subarray(0, 4096).every((x) => x === 0xaa)).toBe(true);
    expect(whole.subarray(8192).every((x) => x === 0xaa)).toBe(true);
  });

  it('does zero-copy I/O on allocBuffer memory', async () => {
    await using bdev = await spdk.openBdev('Malloc4k', { write: true });
    const dma = spdk.allocBuffer(16384, { align: 4096 });
    expect(dma.length).toBe(16384);
    expect(dma.every((x) => x === 0)).toBe(true);
    randomBytes(16384).copy(dma);
    const expected = Buffer.from(dma);
    await bdev.write(65536, dma);
    dma.fill(0);
    const result = await bdev.read(65536, dma);
    expect(result).toBe(dma);
    expect(dma.equals(expected)).toBe(true);
  });

  it('does I/O on views into the middle of allocBuffer memory (named by address, no copy)', async () => {
    await using bdev = await spdk.openBdev('Malloc4k', { write: true });
    const dma = spdk.allocBuffer(4 * 4096);
    const data = randomBytes(4096);
    data.copy(dma, 2 * 4096);
    await bdev.write(8 * 4096, dma.subarray(2 * 4096, 3 * 4096));
    const into = dma.subarray(4096, 2 * 4096);
    expect(await bdev.read(8 * 4096, into)).toBe(into);
    expect(into.equals(data)).toBe(true);
    expect(dma.subarray(0, 4096).every((x) => x === 0)).toBe(true); // bytes around the view untouched
    // A plain Uint8Array over ordinary memory next to it takes the bounce path.
    const plain = new Uint8Array(4096);
    await bdev.read(8 * 4096, plain);
    expect(Buffer.from(plain).equals(data)).toBe(true);
  });

  it('fails only the I/O whose Buffer was detached before it started, with EINVAL', async () => {
    await using bdev = await spdk.openBdev('Malloc4k', { write: true });
    await bdev.write(0, Buffer.alloc(8192, 7));
    const doomed = new Uint8Array(4096);
    const lost = bdev.read(0, doomed);
    const fine = bdev.read(4096, 4096); // submitted in the same batch
    structuredClone(doomed.buffer, { transfer: [doomed.buffer] }); // detaches it before the batch crosses
    await expect(lost).rejects.toMatchObject({ name: 'SpdkError', code: 'EINVAL', operation: 'bdev.read' });
    expect((await fine).every((x) => x === 7)).toBe(true);
  });

  it('works without spinning (spinUs: 0): the JS thread sleeps while I/O is in flight', async () => {
    await using bdev = await spdk.openBdev('Malloc4k', { write: true, spinUs: 0 });
    const writes = Array.from({ length: 300 }, (_, i) => bdev.write(i * 4096, Buffer.alloc(4096, i)));
    await Promise.all(writes);
    for (const i of [0, 150, 299]) expect((await bdev.read(i * 4096, 4096))[0]).toBe(i % 256);

    // A bdev whose every write takes 5 ms: the JS thread's own CPU time (not the reactor's) while
    // it waits shows whether it sleeps (spinUs: 0) or busy-waits (spinUs: 10000, which spins up to
    // the ring's 1 ms turn before each sleep: about 1 ms of CPU per write).
    await spdk.rpc.bdev_malloc_create({ name: 'SlowBase', num_blocks: 64, block_size: 4096 });
    await spdk.rpc.bdev_delay_create({ base_bdev_name: 'SlowBase', name: 'Slow', avg_read_latency: 5000, p99_read_latency: 5000, avg_write_latency: 5000, p99_write_latency: 5000 });
    const cpuWhileWaiting = async (spinUs: number): Promise<{ cpuMs: number; wallMs: number }> => {
      await using slow = await spdk.openBdev('Slow', { write: true, spinUs });
      const data = Buffer.alloc(4096, 3);
      const cpu = jsThreadCpuMs();
      const started = performance.now();
      for (let i = 0; i < 100; i++) await slow.write((i % 64) * 4096, data);
      return { cpuMs: jsThreadCpuMs() - cpu, wallMs: performance.now() - started };
    };
    const sleeping = await cpuWhileWaiting(0);
    const spinning = await cpuWhileWaiting(10_000);
    expect(sleeping.wallMs).toBeGreaterThan(100 * 4); // the delay bdev did delay
    expect(sleeping.cpuMs, JSON.stringify({ sleeping, spinning })).toBeLessThan(sleeping.wallMs * 0.15);
    expect(spinning.cpuMs, JSON.stringify({ sleeping, spinning })).toBeGreaterThan(sleeping.cpuMs + 50);
  });

  it('refuses a spinUs that is not 0 to 10000 microseconds with a RangeError', async () => {
    for (const spinUs of [-1, Number.NaN, 1e9, '5' as unknown as number]) {
      await expect(spdk.openBdev('Malloc4k', { spinUs })).rejects.toThrow(RangeError);
    }
  });

  it('writeZeroes and unmap leave zeroes; flush succeeds', async () => {
    await using bdev = await spdk.openBdev('Malloc4k', { write: true });
    await bdev.write(0, randomBytes(4 * 4096));
    await bdev.writeZeroes(0, 2 * 4096);
    expect((await bdev.read(0, 2 * 4096)).every((x) => x === 0)).toBe(true);
    await bdev.unmap(2 * 4096, 2 * 4096);
    expect((await bdev.read(2 * 4096, 2 * 4096)).every((x) => x === 0)).toBe(true);
    await bdev.flush();
    await bdev.flush(0, 4096);
  });

  it('resets a bdev', async () => {
    await using bdev = await spdk.openBdev('Malloc4k', { write: true });
    await expect(bdev.reset()).resolves.toBeUndefined();
  });

  it('reads from a null bdev at its last block', async () => {
    await using bdev: Bdev = await spdk.openBdev('Null0');
    const last = bdev.sizeBytes - 4096;
    expect((await bdev.read(last, 4096)).length).toBe(4096);
  });

  it('keeps a dropped Buffer alive until its I/O completes', async () => {
    await using bdev = await spdk.openBdev('Malloc4k', { write: true });
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) pending.push(bdev.write(i * 4096, Buffer.alloc(4096, i)));
    // Nothing but the in-flight I/O references those Buffers now: collect everything collectable.
    forceGc();
    await Promise.all(pending);
    for (const i of [0, 99, 199]) {
      const block = await bdev.read(i * 4096, 4096);
      expect(block.every((x) => x === i)).toBe(true);
    }
  });
});
