// In the VM: I/O in flight on two PCIe controllers while the host hot-removes one of them (QEMU's
// device_del). Writes /tmp/hot-remove.ready once I/O runs on both; then keeps `depth` reads in
// flight on each. Reports how every read on the removed controller settled, that the other kept
// serving verified reads throughout, and that detaching the removed one works.
// Params: { removed, other, depth?, timeoutMs? }.
'use strict';
const fs = require('node:fs');
const { Spdk } = require('spdk-node');
const { main, stamp, startOptions } = require('./common');

// Where the program is, for a host that has to say where it hung.
const phase = (name) => fs.appendFileSync('/tmp/hot-remove.phase', `${Date.now()} ${name}\n`);

async function open(spdk, addr) {
  const ctrlr = await spdk.nvme.connect(`trtype:PCIe traddr:${addr}`);
  const ns = ctrlr.namespaces()[0];
  const qp = await ctrlr.allocIoQpair();
  return { ctrlr, ns, qp };
}

main(async ({ removed, other, depth = 16, timeoutMs = 90_000 }) => {
  const spdk = await Spdk.start(startOptions());
  try {
    const gone = await open(spdk, removed);
    const kept = await open(spdk, other);
    // The kept controller's reads are checked against what was written first.
    const blocks = 64;
    for (let lba = 0; lba < blocks; lba++) await kept.ns.write(kept.qp, lba, stamp(spdk.allocBuffer(kept.ns.blockSize), 1, lba));

    const goneResults = { ok: 0, errors: {}, settled: 0, issued: 0 };
    let keptOk = 0;
    let keptBad = 0;
    let keptErrors = 0;
    let removedSeen = false;
    let stopKept = false;

    const goneLoop = async () => {
      for (;;) {
        goneResults.issued++;
        try {
          await gone.ns.read(gone.qp, goneResults.issued % 1024, 1);
          goneResults.ok++;
        } catch (error) {
          removedSeen = true;
          const key = `${error.name}:${error.code}`;
          goneResults.errors[key] = (goneResults.errors[key] ?? 0) + 1;
          goneResults.sampleMessage ??= error.message;
          return;
        } finally {
          goneResults.settled++;
        }
      }
    };
    const keptLoop = async () => {
      let i = 0;
      while (!stopKept) {
        const lba = i++ % blocks;
        try {
          const data = await kept.ns.read(kept.qp, lba, 1);
          if (Buffer.compare(data, stamp(Buffer.alloc(kept.ns.blockSize), 1, lba)) === 0) keptOk++;
          else keptBad++;
        } catch {
          keptErrors++;
        }
      }
    };
    const goneLoops = Array.from({ length: depth }, goneLoop);
    const keptLoops = Array.from({ length: depth }, keptLoop);
    await new Promise((r) => setTimeout(r, 500));
    fs.writeFileSync('/tmp/hot-remove.ready', String(goneResults.ok));

    phase('ready');
    const started = Date.now();
    const settledAll = await Promise.race([
      Promise.all(goneLoops).then(() => true),
      new Promise((r) => setTimeout(() => r(false), timeoutMs)),
    ]);
    const settleMs = Date.now() - started;
    phase(`settled ${settledAll}`);
    const keptOkAtRemoval = keptOk;
    await new Promise((r) => setTimeout(r, 1000)); // the other controller keeps serving
    const keptOkAfter = keptOk - keptOkAtRemoval;
    stopKept = true;
    await Promise.all(keptLoops);
    phase('kept loops ended');

    let afterRemoval;
    try {
      await gone.ns.read(gone.qp, 0, 1);
      afterRemoval = 'no error';
    } catch (error) {
      afterRemoval = `${error.name}:${error.code}`;
    }
    const detachStarted = Date.now();
    phase('freeing');
    await gone.qp.free();
    phase('detaching');
    await gone.ctrlr.detach();
    const detachMs = Date.now() - detachStarted;
    phase('detached');
    await kept.qp.free();
    await kept.ctrlr.detach();
    return {
      removedSeen, settledAll, settleMs, gone: goneResults, afterRemoval, detachMs,
      kept: { ok: keptOk, bad: keptBad, errors: keptErrors, okAfterRemoval: keptOkAfter },
    };
  } finally {
    await spdk.stop();
  }
});
