// Every kind of bad input gets a clear error: TypeError / RangeError before crossing into native
// code, SpdkError with an errno name from SPDK. Nothing crashes or hangs.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Spdk, SpdkError } from '../../src';
import { describeSpdk, mallocConfig } from './support';

describeSpdk('bad input', () => {
  let spdk: Spdk;

  beforeAll(async () => {
    spdk = await Spdk.start({ config: mallocConfig([{ name: 'Malloc0', numBlocks: 2048, blockSize: 4096 }]) });
  });

  afterAll(async () => {
    await spdk?.stop();
  });

  it('rejects a misaligned offset with a RangeError', async () => {
    await using bdev = await spdk.openBdev('Malloc0', { write: true });
    await expect(bdev.read(100, 4096)).rejects.toThrow(RangeError);
    await expect(bdev.write(4097, Buffer.alloc(4096))).rejects.toThrow(/multiple of the block size/);
  });

  it('rejects a length that is not a whole number of blocks', async () => {
    await using bdev = await spdk.openBdev('Malloc0', { write: true });
    await expect(bdev.read(0, 100)).rejects.toThrow(RangeError);
    await expect(bdev.write(0, Buffer.alloc(1000))).rejects.toThrow(RangeError);
    await expect(bdev.read(0, 0)).rejects.toThrow(RangeError);
  });

  it('rejects I/O past the end of the bdev', async () => {
    await using bdev = await spdk.openBdev('Malloc0', { write: true });
    await expect(bdev.read(bdev.sizeBytes, 4096)).rejects.toThrow(/past the end/);
    await expect(bdev.write(bdev.sizeBytes - 4096, Buffer.alloc(8192))).rejects.toThrow(RangeError);
    await expect(bdev.read(-4096, 4096)).rejects.toThrow(RangeError);
  });

  it('rejects arguments of the wrong type with a TypeError', async () => {
    await using bdev = await spdk.openBdev('Malloc0', { write: true });
    await expect(bdev.read('0' as unknown as number, 4096)).rejects.toThrow(TypeError);
    await expect(bdev.read(0, {} as unknown as number)).rejects.toThrow(TypeError);
    await expect(bdev.write(0, 'hello' as unknown as Buffer)).rejects.toThrow(TypeError);
    await expect(bdev.read(0.5, 4096)).rejects.toThrow(TypeError);
    await expect(bdev.read(2 ** 60, 4096)).rejects.toThrow(TypeError);
    await expect(spdk.openBdev(42 as unknown as string)).rejects.toThrow(TypeError);
    expect(() => spdk.allocBuffer(-1)).toThrow(RangeError);
    expect(() => spdk.allocBuffer(4096, { align: 3000 })).toThrow(RangeError);
    expect(() => spdk.allocBuffer('4096' as unknown as number)).toThrow(TypeError);
  });

  it('refuses a write through a read-only handle with EBADF', async () => {
    await using bdev = await spdk.openBdev('Malloc0');
    const error = await bdev.write(0, Buffer.alloc(4096)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpdkError);
    expect(error).toMatchObject({ code: 'EBADF', operation: 'bdev.write' });
    await expect(bdev.unmap(0, 4096)).rejects.toMatchObject({ code: 'EBADF' });
    await expect(bdev.read(0, 4096)).resolves.toHaveLength(4096);
  });

  it('refuses I/O after close with EBADF, and close is idempotent', async () => {
    const bdev = await spdk.openBdev('Malloc0', { write: true });
    await bdev.close();
    await bdev.close();
    expect(bdev.closed).toBe(true);
    await expect(bdev.read(0, 4096)).rejects.toMatchObject({ name: 'SpdkError', code: 'EBADF' });
    await expect(bdev.write(0, Buffer.alloc(4096))).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('answers an unknown bdev name with ENODEV', async () => {
    const error = await spdk.openBdev('NoSuchBdev').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpdkError);
    expect(error).toMatchObject({ code: 'ENODEV', operation: 'Spdk.openBdev' });
    expect((error as Error).message).toContain('NoSuchBdev');
  });

  it('refuses a second start in the same process with EALREADY', async () => {
    await expect(Spdk.start()).rejects.toMatchObject({ name: 'SpdkError', code: 'EALREADY' });
    // The running instance is unaffected.
    expect(spdk.bdevs().map((b) => b.name)).toContain('Malloc0');
  });

  it('validates start options before starting anything', async () => {
    await expect(Spdk.start({ memSizeMb: 10 })).rejects.toThrow(RangeError);
    await expect(Spdk.start({ cpuMask: 'all' })).rejects.toThrow(TypeError);
    await expect(Spdk.start({ cpuMask: [99] })).rejects.toThrow(/does not exist/);
    await expect(Spdk.start({ config: { nope: 1 } as never })).rejects.toThrow(TypeError);
    await expect(Spdk.start({ logLevel: 'loud' as never })).rejects.toThrow(TypeError);
  });
});
