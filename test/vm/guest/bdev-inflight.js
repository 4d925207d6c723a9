// In the VM: a PCIe controller's bdev with an IoQueue keeping `depth` reads of stamped blocks in
// flight, and one event in the middle of it:
//   mode 'reset': bdev.reset() (bdev_nvme resets the controller); I/O goes on afterwards.
//   mode 'stop':  spdk.stop() with the reads still in flight; it must wait for them.
// Reports how every read settled and whether the data read was right. Params: { addr, mode, depth? }.
'use strict';
const { Spdk } = require('spdk-node');
const { main, stamp, startOptions } = require('./common');

main(async ({ addr, mode, depth = 32 }) => {
  const spdk = await Spdk.start(startOptions({
    config: { subsystems: [{ subsystem: 'bdev', config: [
      { method: 'bdev_nvme_attach_controller', params: { name: 'P', trtype: 'PCIe', traddr: addr } },
    ] }] },
  }));
  let stopped = false;
  try {
    const bdev = await spdk.openBdev('Pn1', { write: true });
    const blocks = 256;
    const bs = bdev.blockSize;
    for (let b = 0; b < blocks; b += 32) {
      const chunk = Buffer.alloc(32 * bs);
      for (let i = 0; i < 32; i++) stamp(chunk.subarray(i * bs, (i + 1) * bs), 9, b + i);
      await bdev.write(b * bs, chunk);
    }
    const q = bdev.createQueue({ depth, ioSize: bs });
    const slotLba = new Int32Array(depth);
    const counts = { submitted: 0, ok: 0, bad: 0, errors: {} };
    let running = true;
    let next = 0;
    const issue = (slot) => {
      slotLba[slot] = next++ % blocks;
      q.prepRead(slot, slotLba[slot] * bs);
      counts.submitted++;
    };
    q.onCompletions = (count, slots, results) => {
      for (let i = 0; i < count; i++) {
        const slot = slots[i];
        if (results[i] === 0) {
          if (Buffer.compare(q.buffer(slot), stamp(Buffer.alloc(bs), 9, slotLba[slot])) === 0) counts.ok++;
          else counts.bad++;
        } else {
          counts.errors[results[i]] = (counts.errors[results[i]] ?? 0) + 1;
        }
        if (running) issue(slot);
      }
      if (running) q.submit();
    };
    for (let s = 0; s < depth; s++) issue(s);
    q.submit();
    await new Promise((r) => setTimeout(r, 1000));
    const before = counts.ok;
    const result = { mode, okBeforeEvent: before };
    if (mode === 'reset') {
      const started = Date.now();
      await bdev.reset();
      result.resetMs = Date.now() - started;
      const atReset = counts.ok;
      await new Promise((r) => setTimeout(r, 1000));
      result.okAfterReset = counts.ok - atReset;
      running = false;
      await q.drain();
      await q.close();
      await bdev.close();
    } else {
      result.inFlightAtStop = q.inflight;
      running = false; // completions during the stop are not resubmitted
      const started = Date.now();
      await spdk.stop();
      stopped = true;
      result.stopMs = Date.now() - started;
      result.inFlightAfterStop = q.inflight;
    }
    return { ...result, ...counts };
  } finally {
    if (!stopped) await spdk.stop();
  }
});
