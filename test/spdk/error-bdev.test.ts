// Every fault SPDK's error bdev injects (bdev_error_inject_error: failure, nomem, corrupt_data,
// pending), through the Promise API and an IoQueue, with a bystander bdev served throughout.
//   failure:      the I/O fails, EIO, in the bdev's own terms (no NVMe status invented)
//   nomem:        SPDK retries it; the caller sees success and the data
//   corrupt_data: the bdev completes with one byte XORed; what reaches JS is exactly that
//   pending:      the I/O is held (a device that stopped answering) until a reset of the bdev
//                 aborts it: every held I/O settles then, with ECANCELED, and nothing hangs,
//                 not bdev.close() nor stop() either (they reset the bdev after a grace period)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_GRACE_MS, Spdk, SpdkError, type Bdev, type RpcTypes } from '../../src';
import { describeSpdk, mallocConfig, runToCompletion } from './support';

const BS = 4096;

describeSpdk('error bdev: every injected fault, Promise API and queue', () => {
  let spdk: Spdk;
  let bdev: Bdev;
  let bystander: Bdev;

  beforeAll(async () => {
    spdk = await Spdk.start({ config: mallocConfig([{ name: 'ErrBase', numBlocks: 256, blockSize: BS }, { name: 'Bystander', numBlocks: 256, blockSize: BS }]) });
    await spdk.rpc.call('bdev_error_create', { base_name: 'ErrBase' });
    bdev = await spdk.openBdev('EE_ErrBase', { write: true });
    bystander = await spdk.openBdev('Bystander', { write: true });
    for (let b = 0; b < 16; b++) await bdev.write(b * BS, Buffer.alloc(BS, b + 1));
  });

  afterAll(async () => {
    await bystander?.close();
    await bdev?.close();
    await spdk?.stop();
  });

  const inject = (params: Omit<RpcTypes.BdevErrorInjectErrorParams, 'name'>) => spdk.rpc.call('bdev_error_inject_error', { name: 'EE_ErrBase', ...params });

  /** The bystander still reads back what is written to it. */
  async function bystanderServes(fill: number): Promise<void> {
    await bystander.write(0, Buffer.alloc(BS, fill));
    expect(Buffer.from(await bystander.read(0, BS))).toEqual(Buffer.alloc(BS, fill));
  }

  describe('failure', () => {
    it('Promise: a read and a write reject with EIO naming the bdev, the next I/O succeeds', async () => {
      await inject({ io_type: 'read', error_type: 'failure', num: 1 });
      const read = await bdev.read(0, BS).then(() => null, (e: unknown) => e);
      expect(read).toBeInstanceOf(SpdkError);
      expect(read).toMatchObject({ code: 'EIO', operation: 'bdev.read' });
      expect((read as Error).message).toMatch(/EE_ErrBase.*I\/O error/);
      expect((read as Error).message).not.toMatch(/NVMe/);
      await inject({ io_type: 'write', error_type: 'failure', num: 1 });
      await expect(bdev.write(0, Buffer.alloc(BS, 1))).rejects.toMatchObject({ code: 'EIO', operation: 'bdev.write' });
      expect(Buffer.from(await bdev.read(0, BS))).toEqual(Buffer.alloc(BS, 1));
      await bystanderServes(0x11);
    });

    it('queue: exactly the injected number of I/Os complete with -EIO, the rest with 0', async () => {
      await inject({ io_type: 'read', error_type: 'failure', num: 3 });
      const q = bdev.createQueue({ depth: 8, ioSize: BS });
      for (let s = 0; s < 8; s++) q.prepRead(s, s * BS);
      q.submit();
      const results = (await runToCompletion(q)).map(([, r]) => r);
      await q.close();
      expect(results.filter((r) => r === -5)).toHaveLength(3);
      expect(results.filter((r) => r === 0)).toHaveLength(5);
      await bystanderServes(0x12);
    });
  });

  describe('nomem', () => {
    it('Promise and queue: SPDK retries the I/O, which succeeds with the right data', async () => {
      await inject({ io_type: 'read', error_type: 'nomem', num: 4 });
      const reads = await Promise.all([0, 1, 2, 3].map((b) => bdev.read(b * BS, BS)));
      reads.forEach((data, b) => expect(Buffer.from(data)).toEqual(Buffer.alloc(BS, b + 1)));
      await inject({ io_type: 'write', error_type: 'nomem', num: 4 });
      const q = bdev.createQueue({ depth: 8, ioSize: BS });
      for (let s = 0; s < 8; s++) {
        q.buffer(s).fill(0x40 + s);
        q.prepWrite(s, (16 + s) * BS);
      }
      q.submit();
      expect((await runToCompletion(q)).map(([, r]) => r)).toEqual(new Array(8).fill(0));
      await q.close();
      for (let s = 0; s < 8; s++) expect(Buffer.from(await bdev.read((16 + s) * BS, BS))).toEqual(Buffer.alloc(BS, 0x40 + s));
    });
  });

  describe('corrupt_data', () => {
    it('Promise: a read returns exactly the byte SPDK corrupted, nothing else changed', async () => {
      await inject({ io_type: 'read', error_type: 'corrupt_data', num: 1, corrupt_offset: 100, corrupt_value: 0xff });
      const data = Buffer.from(await bdev.read(2 * BS, BS));
      const expected = Buffer.alloc(BS, 3);
      expected[100] = 3 ^ 0xff;
      expect(data).toEqual(expected);
      expect(Buffer.from(await bdev.read(2 * BS, BS))).toEqual(Buffer.alloc(BS, 3)); // only once
    });

    it('queue: a corrupted write lands corrupted, and reads show it', async () => {
      await inject({ io_type: 'write', error_type: 'corrupt_data', num: 1, corrupt_offset: 7, corrupt_value: 0x01 });
      const q = bdev.createQueue({ depth: 1, ioSize: BS });
      q.buffer(0).fill(0x70);
      q.prepWrite(0, 40 * BS);
      q.submit();
      expect((await runToCompletion(q)).map(([, r]) => r)).toEqual([0]);
      await q.close();
      const expected = Buffer.alloc(BS, 0x70);
      expected[7] = 0x71;
      expect(Buffer.from(await bdev.read(40 * BS, BS))).toEqual(expected);
    });
  });

  describe('pending (a device that stops answering)', () => {
    it('held Promise and queue I/O settle with ECANCELED when the bdev is reset; the bystander is served meanwhile', async () => {
      await inject({ io_type: 'all', error_type: 'pending', num: 6 });
      const held = [0, 1, 2].map((b) => bdev.read(b * BS, BS).then(() => 'resolved', (e: unknown) => e));
      const q = bdev.createQueue({ depth: 3, ioSize: BS });
      for (let s = 0; s < 3; s++) q.prepRead(s, s * BS);
      q.submit();
      const queued = runToCompletion(q);
      let settled = false;
      void Promise.all([...held, queued]).then(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false); // really held
      expect(q.inflight).toBe(3);
      await bystanderServes(0x13);

      await bdev.reset();
      const errors = await Promise.all(held);
      for (const e of errors) expect(e).toMatchObject({ code: 'ECANCELED', operation: 'bdev.read' });
      expect((await queued).map(([, r]) => r)).toEqual([-125, -125, -125]);
      await q.close();
      expect(Buffer.from(await bdev.read(0, BS))).toEqual(Buffer.alloc(BS, 1)); // and it serves again
    });

    it('bdev.close() with held I/O does not wait forever: after CLOSE_GRACE_MS it resets the bdev, the I/O fails ECANCELED, the close resolves', { timeout: 30_000 }, async () => {
      const other = await spdk.openBdev('EE_ErrBase', { write: true });
      await inject({ io_type: 'all', error_type: 'pending', num: 4 });
      const held = [0, 1].map((b) => other.read(b * BS, BS).then(() => 'resolved', (e: unknown) => (e as SpdkError).code));
      const q = other.createQueue({ depth: 2, ioSize: BS });
      q.prepRead(0, 0);
      q.prepRead(1, BS);
      q.submit();
      const queued = runToCompletion(q);
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);
      process.on('warning', onWarning);
      const t0 = performance.now();
      try {
        await other.close();
      } finally {
        process.off('warning', onWarning);
      }
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(CLOSE_GRACE_MS - 50);
      expect(took).toBeLessThan(CLOSE_GRACE_MS * 3);
      expect(await Promise.all(held)).toEqual(['ECANCELED', 'ECANCELED']);
      expect((await queued).map(([, r]) => r)).toEqual([-125, -125]);
      await q.close();
      expect(warnings.some((w) => /EE_ErrBase.*resetting the bdev/.test(w))).toBe(true);
      expect(Buffer.from(await bdev.read(0, BS))).toEqual(Buffer.alloc(BS, 1)); // the other descriptor serves on
    });
  });

  it('IoQueue.close() with held I/O does not wait forever: after CLOSE_GRACE_MS it resets the bdev and the I/O fails ECANCELED', { timeout: 30_000 }, async () => {
    await inject({ io_type: 'all', error_type: 'pending', num: 2 });
    const q = bdev.createQueue({ depth: 2, ioSize: BS });
    q.prepRead(0, 0);
    q.prepRead(1, BS);
    q.submit();
    const queued = runToCompletion(q);
    const t0 = performance.now();
    await q.close();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(CLOSE_GRACE_MS - 50);
    expect((await queued).map(([, r]) => r)).toEqual([-125, -125]);
    expect(Buffer.from(await bdev.read(0, BS))).toEqual(Buffer.alloc(BS, 1));
  });

  // Last: it stops the instance.
  it('stop() with held I/O on an open bdev does not wait forever: the held I/O fails, stop resolves', { timeout: 30_000 }, async () => {
    await inject({ io_type: 'all', error_type: 'pending', num: 2 });
    const held = [0, 1].map((b) => bdev.read(b * BS, BS).then(() => 'resolved', (e: unknown) => (e as SpdkError).code));
    await new Promise((r) => setTimeout(r, 100));
    await spdk.stop();
    expect(await Promise.all(held)).toEqual(['ECANCELED', 'ECANCELED']);
  });
});
