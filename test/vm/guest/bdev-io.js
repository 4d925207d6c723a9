// In the VM: a PCIe controller as SPDK bdevs (bdev_nvme_attach_controller, trtype PCIe), one per
// namespace; on each, stamped writes read back and compared through the Promise API and through an
// IoQueue. Params: { addr, name }.
'use strict';
const { Spdk } = require('spdk-node');
const { main, stamp, startOptions } = require('./common');

main(async ({ addr, name }) => {
  const spdk = await Spdk.start(startOptions({
    config: { subsystems: [{ subsystem: 'bdev', config: [
      { method: 'bdev_nvme_attach_controller', params: { name, trtype: 'PCIe', traddr: addr } },
    ] }] },
  }));
  try {
    const bdevs = [];
    for (const info of spdk.bdevs().filter((b) => b.name.startsWith(name))) {
      const entry = { name: info.name, blockSize: info.blockSize, verified: 0, mismatches: 0, queueVerified: 0 };
      bdevs.push(entry);
      const bdev = await spdk.openBdev(info.name, { write: true });
      try {
        const size = 8 * bdev.blockSize;
        for (let i = 0; i < 8; i++) {
          const offset = i * 97 * size;
          const data = stamp(Buffer.alloc(size), 3, offset);
          await bdev.write(offset, data);
          const back = await bdev.read(offset, size);
          if (Buffer.compare(back, data) === 0) entry.verified++;
          else entry.mismatches++;
        }
        // The batched path: write slots, then read them back into other slots.
        const q = bdev.createQueue({ depth: 16, ioSize: bdev.blockSize });
        try {
          const failures = [];
          q.onCompletions = (count, slots, results) => {
            for (let i = 0; i < count; i++) if (results[i] !== 0) failures.push(`slot ${slots[i]}: ${results[i]}`);
          };
          for (let s = 0; s < 8; s++) {
            stamp(q.buffer(s), 5, s);
            q.prepWrite(s, (100 + s) * bdev.blockSize);
          }
          q.submit();
          await q.drain();
          for (let s = 0; s < 8; s++) q.prepRead(8 + s, (100 + s) * bdev.blockSize);
          q.submit();
          await q.drain();
          if (failures.length) throw new Error(`queue I/O failed: ${failures.join(', ')}`);
          for (let s = 0; s < 8; s++) {
            if (Buffer.compare(q.buffer(8 + s), stamp(Buffer.alloc(bdev.blockSize), 5, s)) === 0) entry.queueVerified++;
            else entry.mismatches++;
          }
        } finally {
          await q.close();
        }
      } finally {
        await bdev.close();
      }
    }
    return { bdevs };
  } finally {
    await spdk.stop();
  }
});
