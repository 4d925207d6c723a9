// `spdk-node demo`: SPDK in this process with a malloc bdev, verified I/O across all of it. The
// README's main job: proof that the library, the addon and the machine work together.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { parsingArgs, UsageError, type Command } from './command';
import { spdkOptionSpecs, spdkOptionsUsage, startOptions, withSpdk } from './spdk-options';
import type { SpdkConfig } from '../start-options';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Start SPDK with a malloc bdev, write random data across it, read it back and verify',
  usage: [
    'demo [--size-mb N] [SPDK options]',
    '',
    'Options:',
    '  --size-mb N         size of the malloc bdev (default 64)',
    ...spdkOptionsUsage,
    '  -h, --help          Show this help',
    '',
    'Exit status: 0 when every byte read back matches what was written.',
  ].join('\n'),
  async run(args, io) {
    const { values } = parsingArgs(() =>
      parseArgs({ args: [...args], options: { 'size-mb': { type: 'string' }, ...spdkOptionSpecs }, strict: true }),
    );
    const sizeMb = Number(values['size-mb'] ?? 64);
    if (!Number.isInteger(sizeMb) || sizeMb < 1 || sizeMb > 4096) throw new UsageError('--size-mb must be a whole number from 1 to 4096');
    const blockSize = 4096;
    const numBlocks = (sizeMb * 1024 * 1024) / blockSize; // not sizeMb << 20: 32-bit, negative from 2048
    const config: SpdkConfig = {
      subsystems: [{ subsystem: 'bdev', config: [{ method: 'bdev_malloc_create', params: { name: 'Demo0', num_blocks: numBlocks, block_size: blockSize } }] }],
    };
    return withSpdk(startOptions(values, config), io, async (spdk) => {
      io.out(`SPDK ${spdk.version} running on core ${spdk.mainCore}\n`);
      await using bdev = await spdk.openBdev('Demo0', { write: true });
      io.out(`bdev ${bdev.name}: ${bdev.numBlocks} blocks of ${bdev.blockSize} bytes\n`);
      const chunk = 1 << 20;
      const chunks = bdev.sizeBytes / chunk;
      const seed = randomBytes(32);
      const dataFor = (i: number): Buffer => {
        const b = Buffer.alloc(chunk);
        for (let o = 0; o < chunk; o += 32) seed.copy(b, o);
        b.writeUInt32LE(i, 0);
        return b;
      };
      // A progress line rewritten in place on a terminal; a line per 16 MiB otherwise, so that
      // piped output does not run into the result.
      const tty = process.stderr.isTTY === true;
      const progress = (text: string): void => io.err(tty ? `  ${text}\r` : `  ${text}\n`);
      let started = process.hrtime.bigint();
      for (let i = 0; i < chunks; i++) {
        await bdev.write(i * chunk, dataFor(i));
        if ((i + 1) % 16 === 0 || i + 1 === chunks) progress(`written ${i + 1}/${chunks} MiB`);
      }
      const writeSecs = Number(process.hrtime.bigint() - started) / 1e9;
      if (tty) io.err('\n');
      started = process.hrtime.bigint();
      let mismatches = 0;
      const dma = spdk.allocBuffer(chunk);
      for (let i = 0; i < chunks; i++) {
        await bdev.read(i * chunk, dma);
        if (!dma.equals(dataFor(i))) mismatches++;
        if ((i + 1) % 16 === 0 || i + 1 === chunks) progress(`verified ${i + 1}/${chunks} MiB`);
      }
      const readSecs = Number(process.hrtime.bigint() - started) / 1e9;
      if (tty) io.err('\n');
      io.out(`wrote ${sizeMb} MiB at ${(sizeMb / writeSecs).toFixed(0)} MiB/s, read back at ${(sizeMb / readSecs).toFixed(0)} MiB/s (zero-copy)\n`);
      if (mismatches > 0) {
        io.out(`FAILED: ${mismatches} of ${chunks} MiB read back differently\n`);
        return 1;
      }
      io.out('verified: every byte read back matches what was written\n');
      return 0;
    });
  },
};
