// Bdevs on ordinary files (aio and io_uring): what SPDK writes is in the file when read with fs.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Spdk } from '../../src';
import { describeSpdk } from './support';

describeSpdk('aio and uring bdevs on files', () => {
  let spdk: Spdk;
  let dir: string;
  const size = 8 << 20;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spdk-node-file-'));
    writeFileSync(join(dir, 'aio.img'), Buffer.alloc(size));
    writeFileSync(join(dir, 'uring.img'), Buffer.alloc(size));
    spdk = await Spdk.start({
      config: {
        subsystems: [
          {
            subsystem: 'bdev',
            config: [
              { method: 'bdev_aio_create', params: { name: 'Aio0', filename: join(dir, 'aio.img'), block_size: 4096 } },
              { method: 'bdev_uring_create', params: { name: 'Uring0', filename: join(dir, 'uring.img'), block_size: 4096 } },
            ],
          },
        ],
      },
    });
  });

  afterAll(async () => {
    await spdk?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, file] of [['Aio0', 'aio.img'], ['Uring0', 'uring.img']] as const) {
    it(`${name}: write, flush, and the file holds the data`, async () => {
      await using bdev = await spdk.openBdev(name, { write: true });
      expect(bdev.sizeBytes).toBe(size);
      const data = randomBytes(64 * 1024);
      await bdev.write(1 << 20, data);
      await bdev.flush();
      const onDisk = readFileSync(join(dir, file)).subarray(1 << 20, (1 << 20) + data.length);
      expect(onDisk.equals(data)).toBe(true);
      expect((await bdev.read(1 << 20, data.length)).equals(data)).toBe(true);
    });
  }
});
