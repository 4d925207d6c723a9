// In the VM: one PCIe controller through the NVMe driver API. Connects, identifies, and on every
// namespace writes stamped blocks (a whole transfer and single blocks at both ends), reads them
// back and compares; tries an LBA past the end; reads the health log; detaches.
// Params: { addr, blocks? }. Prints what it found per namespace.
'use strict';
const { Spdk, NvmeError } = require('spdk-node');
const { main, stamp, startOptions } = require('./common');

main(async ({ addr, blocks = 64 }) => {
  const spdk = await Spdk.start(startOptions());
  try {
    const ctrlr = await spdk.nvme.connect(`trtype:PCIe traddr:${addr}`);
    const cdata = ctrlr.data;
    const qp = await ctrlr.allocIoQpair();
    const namespaces = [];
    for (const ns of ctrlr.namespaces()) {
      const entry = {
        nsid: ns.id, sectorSize: ns.sectorSize, metadataSize: ns.metadataSize, extendedLba: ns.extendedLba,
        blockSize: ns.blockSize, numSectors: ns.numSectors, plannedBlocks: 0, verifiedBlocks: 0, mismatches: 0,
      };
      namespaces.push(entry);
      const run = Math.min(blocks, Math.floor(ns.maxTransferSize / ns.blockSize));
      const plans = [
        { lba: 0, count: run },
        { lba: ns.numSectors - 1, count: 1 },
        { lba: Math.floor(ns.numSectors / 2), count: 1 },
      ];
      entry.plannedBlocks = plans.reduce((n, p) => n + p.count, 0);
      try {
        for (const [i, p] of plans.entries()) {
          const data = stamp(spdk.allocBuffer(p.count * ns.blockSize), 7 + i, p.lba);
          await ns.write(qp, p.lba, data);
          const back = await ns.read(qp, p.lba, p.count);
          for (let b = 0; b < p.count; b++) {
            const off = b * ns.blockSize;
            // With interleaved metadata the device may not keep the metadata bytes as written
            // (protection information off: it does); compare the data part of every block.
            if (Buffer.compare(data.subarray(off, off + ns.sectorSize), back.subarray(off, off + ns.sectorSize)) === 0) entry.verifiedBlocks++;
            else entry.mismatches++;
          }
        }
        try {
          await ns.read(qp, ns.numSectors, 1);
          entry.pastEnd = 'no error';
        } catch (error) {
          entry.pastEnd = error instanceof NvmeError ? `${error.sctName}/${error.scName}` : `${error.name}: ${error.message}`;
        }
      } catch (error) {
        entry.error = { name: error.name, message: error.message, code: error.code };
      }
    }
    const health = await ctrlr.healthLog();
    await qp.free();
    await ctrlr.detach();
    return { model: cdata.mn, serial: cdata.sn, firmware: cdata.fr, namespaces, temperatureKelvin: health.temperatureKelvin };
  } finally {
    await spdk.stop();
  }
});
