// In the VM: two PCIe controllers as bdevs (bdev_nvme, hotplug monitoring on), an IoQueue keeping
// reads in flight on each, while the host hot-removes one controller. Writes
// /tmp/bdev-hot-remove.ready once both serve. Reports how the removed bdev's reads settled, that
// its bdev went away, and that the other bdev kept serving verified reads.
// Params: { removed, other, depth?, timeoutMs? }.
'use strict';
const fs = require('node:fs');
const { Spdk } = require('spdk-node');
const { main, stamp, startOptions } = require('./common');

function reader(bdev, depth, blocks, tag) {
  const bs = bdev.blockSize;
  const q = bdev.createQueue({ depth, ioSize: bs });
  const lbaOf = new Int32Array(depth);
  const r = { q, submitted: 0, ok: 0, bad: 0, errors: {}, running: true, failedAt: 0 };
  let next = 0;
  const issue = (slot) => {
    lbaOf[slot] = next++ % blocks;
    q.prepRead(slot, lbaOf[slot] * bs);
    r.submitted++;
  };
  q.onCompletions = (count, slots, results) => {
    for (let i = 0; i < count; i++) {
      const slot = slots[i];
      if (results[i] === 0) {
        if (tag === null || Buffer.compare(q.buffer(slot), stamp(Buffer.alloc(bs), tag, lbaOf[slot])) === 0) r.ok++;
        else r.bad++;
        if (r.running) issue(slot);
      } else {
        r.errors[results[i]] = (r.errors[results[i]] ?? 0) + 1;
        r.failedAt ||= Date.now();
      }
    }
    if (r.running) q.submit();
  };
  for (let s = 0; s < depth; s++) issue(s);
  q.submit();
  return r;
}

main(async ({ removed, other, depth = 16, timeoutMs = 90_000 }) => {
  const spdk = await Spdk.start(startOptions({
    config: { subsystems: [{ subsystem: 'bdev', config: [
      { method: 'bdev_nvme_attach_controller', params: { name: 'Gone', trtype: 'PCIe', traddr: removed } },
      { method: 'bdev_nvme_attach_controller', params: { name: 'Kept', trtype: 'PCIe', traddr: other } },
      // After the attaches: bdev_nvme's hotplug attaches whatever it finds on the bus itself.
      { method: 'bdev_nvme_set_hotplug', params: { enable: true, period_us: 100000 } },
    ] }] },
  }));
  try {
    const gone = await spdk.openBdev('Gonen1');
    const kept = await spdk.openBdev('Keptn1', { write: true });
    const blocks = 64;
    for (let lba = 0; lba < blocks; lba++) await kept.write(lba * kept.blockSize, stamp(Buffer.alloc(kept.blockSize), 2, lba));
    const g = reader(gone, depth, 1024, null);
    const k = reader(kept, depth, blocks, 2);
    await new Promise((r) => setTimeout(r, 500));
    fs.writeFileSync('/tmp/bdev-hot-remove.ready', String(g.ok));

    // The removed bdev's queue ends when all its reads settled (none is resubmitted after an error).
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (g.failedAt === 0 || g.q.inflight > 0)) await new Promise((r) => setTimeout(r, 50));
    const settledAll = g.failedAt !== 0 && g.q.inflight === 0;
    // ... and the bdev goes away.
    let bdevGone = false;
    while (Date.now() < deadline && !bdevGone) {
      bdevGone = !spdk.bdevs().some((b) => b.name === 'Gonen1');
      if (!bdevGone) await new Promise((r) => setTimeout(r, 100));
    }
    const keptAtRemoval = k.ok;
    await new Promise((r) => setTimeout(r, 1000));
    const keptAfter = k.ok - keptAtRemoval;
    k.running = false;
    await k.q.drain();
    let afterRemoval;
    try {
      await gone.read(0, gone.blockSize);
      afterRemoval = 'no error';
    } catch (error) {
      afterRemoval = `${error.name}:${error.code}`;
    }
    await g.q.close();
    await gone.close();
    await k.q.close();
    await kept.close();
    const strip = ({ q, running, ...rest }) => rest;
    return { settledAll, bdevGone, afterRemoval, gone: { ...strip(g), inflight: g.q.inflight }, kept: { ...strip(k), okAfterRemoval: keptAfter } };
  } finally {
    await spdk.stop();
  }
});
