// Start SPDK inside Node, write and read a malloc bdev, and stop.
//   node examples/bdev-io.js
// From a clone after `npm ci` (which compiles the TypeScript and the addon), or copied into a
// project that has spdk-node installed; either way it needs libspdk_fat.so, installed by build.sh
// (`npx spdk-node doctor` says what is missing).
'use strict';
const { randomBytes } = require('node:crypto');
const { Spdk } = require('spdk-node');

async function main() {
  const spdk = await Spdk.start({
    config: {
      subsystems: [
        {
          subsystem: 'bdev',
          config: [{ method: 'bdev_malloc_create', params: { name: 'Malloc0', num_blocks: 16384, block_size: 4096 } }],
        },
      ],
    },
  });
  try {
    console.log(`SPDK ${spdk.version} running on core ${spdk.mainCore}`);
    for (const b of spdk.bdevs()) console.log(`  ${b.name}: ${b.numBlocks} x ${b.blockSize} bytes (${b.productName})`);

    const bdev = await spdk.openBdev('Malloc0', { write: true });
    const data = randomBytes(64 * 1024);
    await bdev.write(0, data);
    const back = await bdev.read(0, data.length);
    console.log(`wrote and read back ${data.length} bytes: ${back.equals(data) ? 'identical' : 'DIFFERENT'}`);

    // Zero-copy: DMA memory from SPDK, used in place.
    const dma = spdk.allocBuffer(4096);
    await bdev.read(0, dma);
    console.log(`zero-copy read matches: ${dma.equals(data.subarray(0, 4096))}`);
    await bdev.close();
  } finally {
    await spdk.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
