// Closing and stopping with I/O in flight, and what is left afterwards.
import { existsSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { Spdk } from '../../src';
import { describeSpdk, mallocConfig } from './support';

// One SPDK per process: these tests run in order on one instance, which the second one stops.
describeSpdk('lifecycle', () => {
  let spdk: Spdk;

  beforeAll(async () => {
    spdk = await Spdk.start({ config: mallocConfig([{ name: 'M', numBlocks: 4096, blockSize: 4096 }]) });
  });

  it('close() waits for in-flight I/O, which all completes', async () => {
    {
      const bdev = await spdk.openBdev('M', { write: true });
      const inflight = Array.from({ length: 500 }, (_, i) => bdev.write((i % 4096) * 4096, Buffer.alloc(4096, i)));
      const closed = bdev.close();
      const results = await Promise.allSettled(inflight);
      await closed;
      // Submitted before close(): every one completes; after close, I/O is refused.
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
      await expect(bdev.read(0, 4096)).rejects.toMatchObject({ code: 'EBADF' });
    }
  });

  it('stop() with I/O in flight settles every request, closes bdevs, empties DMA buffers and removes the RPC socket', async () => {
    const bdev = await spdk.openBdev('M', { write: true });
    const dma = spdk.allocBuffer(4096);
    const inflight = Array.from({ length: 500 }, (_, i) => bdev.read((i % 4096) * 4096, 4096));
    const q = bdev.createQueue({ depth: 128 });
    const queueResults: number[] = [];
    q.onCompletions = (count, _slots, results) => {
      for (let i = 0; i < count; i++) queueResults.push(results[i]!);
    };
    for (let s = 0; s < 128; s++) q.prepWrite(s, s * 4096);
    q.submit();
    const socket = spdk.rpcSocket!;
    expect(existsSync(socket)).toBe(true);
    await spdk.stop();
    const results = await Promise.allSettled(inflight);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    await q.drain(); // the queue's writes completed before SPDK stopped
    expect(queueResults).toEqual(new Array(128).fill(0));
    expect(dma.length).toBe(0);
    expect(spdk.running).toBe(false);
    expect(existsSync(socket)).toBe(false);
    await expect(bdev.read(0, 4096)).rejects.toMatchObject({ code: 'ESHUTDOWN' });
    expect(() => spdk.bdevs()).toThrow(/not running/);
    await spdk.stop(); // idempotent
  });

  it('refuses to start again in the same process, with EALREADY and what to do instead', async () => {
    const error = await Spdk.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'SpdkError', code: 'EALREADY' });
    expect((error as Error).message).toMatch(/child process/);
  });
});
