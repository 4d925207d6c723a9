// The batched I/O path: IoQueue on a bdev.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Spdk } from '../../src';
import { describeSpdk, mallocConfig, runToCompletion } from './support';

describeSpdk('IoQueue (batched I/O)', () => {
  let spdk: Spdk;

  beforeAll(async () => {
    spdk = await Spdk.start({ config: mallocConfig([{ name: 'Q', numBlocks: 8192, blockSize: 4096 }, { name: 'Doomed', numBlocks: 1024, blockSize: 4096 }]) });
  });

  afterAll(async () => {
    await spdk?.stop();
  });

  it('writes distinct data to every block through the queue and reads it back, both through the queue and the Promise API', async () => {
    await using bdev = await spdk.openBdev('Q', { write: true });
    await using q = bdev.createQueue({ depth: 64 });
    const expected = new Map<number, Buffer>();
    let nextBlock = 0;
    const stage = (slot: number, write: boolean): void => {
      if (nextBlock >= bdev.numBlocks) return;
      const block = nextBlock++;
      if (write) {
        const data = randomBytes(4096);
        data.copy(q.buffer(slot));
        expected.set(block, data);
        q.prepWrite(slot, block * 4096);
      } else {
        slotBlock[slot] = block;
        q.prepRead(slot, block * 4096);
      }
    };
    const slotBlock = new Array<number>(q.depth).fill(-1);
    for (let s = 0; s < q.depth; s++) stage(s, true);
    const writes = await runToCompletion(q, (slot, result) => {
      expect(result).toBe(0);
      stage(slot, true);
    });
    expect(writes).toHaveLength(bdev.numBlocks);

    nextBlock = 0;
    let mismatches = 0;
    for (let s = 0; s < q.depth; s++) stage(s, false);
    await runToCompletion(q, (slot, result) => {
      expect(result).toBe(0);
      if (!q.buffer(slot).equals(expected.get(slotBlock[slot]!)!)) mismatches++;
      stage(slot, false);
    });
    expect(mismatches).toBe(0);
    for (const block of [0, 1234, bdev.numBlocks - 1]) {
      expect((await bdev.read(block * 4096, 4096)).equals(expected.get(block)!)).toBe(true);
    }
  });

  it('does larger I/Os up to ioSize and shorter ones within a slot', async () => {
    await using bdev = await spdk.openBdev('Q', { write: true });
    await using q = bdev.createQueue({ depth: 4, ioSize: 65536 });
    const data = randomBytes(65536);
    data.copy(q.buffer(0));
    q.prepWrite(0, 0);
    await runToCompletion(q);
    q.prepRead(1, 8192, 8192);
    const [[slot, result]] = (await runToCompletion(q)) as [[number, number]];
    expect([slot, result]).toEqual([1, 0]);
    expect(q.buffer(1).subarray(0, 8192).equals(data.subarray(8192, 16384))).toBe(true);
  });

  it('submits nothing when nothing is staged, and drain() resolves at once', async () => {
    await using bdev = await spdk.openBdev('Q');
    await using q = bdev.createQueue({ depth: 8 });
    expect(q.submit()).toBe(0);
    await q.drain();
    expect(q.inflight).toBe(0);
  });

  it('rejects bad staging with RangeError before anything is submitted', async () => {
    await using bdev = await spdk.openBdev('Q', { write: true });
    await using q = bdev.createQueue({ depth: 8 });
    expect(() => q.prepRead(8, 0)).toThrow(RangeError);
    expect(() => q.prepRead(-1, 0)).toThrow(RangeError);
    expect(() => q.prepRead(0, 100)).toThrow(/multiple of the block size/);
    expect(() => q.prepRead(0, 0, 8192)).toThrow(/up to ioSize/);
    expect(() => q.prepRead(0, bdev.sizeBytes)).toThrow(/past the end/);
    q.prepRead(0, 0);
    expect(() => q.prepRead(0, 4096)).toThrow(/already has an I\/O/);
    expect(q.submit()).toBe(1);
    await q.drain();
    expect(() => bdev.createQueue({ depth: 0 })).toThrow(RangeError);
    expect(() => bdev.createQueue({ ioSize: 1000 })).toThrow(RangeError);
  });

  it('reports a write through a read-only bdev as -EBADF in its result', async () => {
    await using bdev = await spdk.openBdev('Q');
    await using q = bdev.createQueue({ depth: 2 });
    q.prepWrite(0, 0);
    const [[, result]] = (await runToCompletion(q)) as [[number, number]];
    expect(result).toBe(-9); // EBADF: SPDK refuses writes on a read-only descriptor
  });

  it('close() waits for in-flight I/O; staging afterwards is refused', async () => {
    await using bdev = await spdk.openBdev('Q');
    const q = bdev.createQueue({ depth: 32 });
    let completed = 0;
    q.onCompletions = (count) => {
      completed += count;
    };
    for (let s = 0; s < 32; s++) q.prepRead(s, s * 4096);
    q.submit();
    await q.close();
    expect(completed).toBe(32);
    expect(() => q.prepRead(0, 0)).toThrow(/closed/);
  });

  it('lets timers and other I/O run while a queue that always resubmits keeps the device busy', async () => {
    await using bdev = await spdk.openBdev('Q');
    for (const spinUs of [20, 0]) {
      const q = bdev.createQueue({ depth: 32, spinUs });
      let running = true;
      let completed = 0;
      q.onCompletions = (count, slots) => {
        completed += count;
        if (!running) return;
        for (let i = 0; i < count; i++) q.prepRead(slots[i]!, (slots[i]! % 64) * 4096);
        q.submit();
      };
      for (let s = 0; s < 32; s++) q.prepRead(s, s * 4096);
      q.submit();
      const ticks: number[] = [];
      await new Promise<void>((resolve) => {
        const tick = (): void => {
          ticks.push(completed);
          if (ticks.length < 5) setTimeout(tick, 2);
          else resolve();
        };
        setTimeout(tick, 2);
      });
      running = false;
      await q.close();
      // The timers fired while the queue was busy, and I/O went on between them.
      expect(ticks[4]! > ticks[0]!).toBe(true);
      expect(q.inflight).toBe(0);
    }
  });

  it('refuses a spinUs that is not 0 to 10000 microseconds with a RangeError', async () => {
    await using bdev = await spdk.openBdev('Q');
    expect(() => bdev.createQueue({ spinUs: -5 })).toThrow(RangeError);
    expect(() => bdev.createQueue({ spinUs: Infinity })).toThrow(RangeError);
  });

  it('fails queued I/O with -ENODEV once its bdev is deleted', async () => {
    const bdev = await spdk.openBdev('Doomed', { write: true });
    const q = bdev.createQueue({ depth: 4 });
    await spdk.rpc.bdev_malloc_delete({ name: 'Doomed' });
    q.prepRead(0, 0);
    const [[, result]] = (await runToCompletion(q)) as [[number, number]];
    expect(result).toBe(-19); // ENODEV
    await q.close();
    await bdev.close();
  });
});
