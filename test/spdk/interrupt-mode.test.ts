// I/O with SPDK in interrupt mode: the reactor sleeps when idle, so the rings' doorbells and
// pollers (native/ring.h) must wake it, and it must go back to sleep once the I/O is done.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Spdk } from '../../src';
import { describeSpdk, mallocConfig } from './support';

describeSpdk('interrupt mode', () => {
  let spdk: Spdk;

  beforeAll(async () => {
    spdk = await Spdk.start({ interruptMode: true, logLevel: 'error', config: mallocConfig([{ name: 'IM', numBlocks: 1024, blockSize: 4096 }]) });
  });

  afterAll(async () => {
    await spdk?.stop();
  });

  it('does Promise and queue I/O, again after idle pauses', async () => {
    await using bdev = await spdk.openBdev('IM', { write: true });
    for (let round = 0; round < 3; round++) {
      const data = randomBytes(64 * 4096);
      await Promise.all(Array.from({ length: 64 }, (_, i) => bdev.write(i * 4096, data.subarray(i * 4096, (i + 1) * 4096))));
      const back = await Promise.all(Array.from({ length: 64 }, (_, i) => bdev.read(i * 4096, 4096)));
      expect(Buffer.concat(back).equals(data)).toBe(true);

      const q = bdev.createQueue({ depth: 16 });
      const done = new Promise<number[]>((resolve) => {
        const results: number[] = [];
        q.onCompletions = (count, _slots, res) => {
          for (let i = 0; i < count; i++) results.push(res[i]!);
          if (q.inflight === 0) resolve(results);
        };
      });
      for (let s = 0; s < 16; s++) q.prepRead(s, s * 4096);
      q.submit();
      expect(await done).toEqual(new Array(16).fill(0));
      expect(q.buffer(3).equals(data.subarray(3 * 4096, 4 * 4096))).toBe(true);
      await q.close();
      // Idle long enough for the ring's poller to stop and the reactor to sleep.
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});
