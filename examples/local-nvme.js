// The whole local-NVMe workflow on one SSD, checking each step: list, bind, use through the NVMe
// driver and as a bdev, unbind. As root, on a controller whose data you do not need (it is bound
// away from the kernel, and blocks 0-7 are written with random data and read back):
//   sudo node examples/local-nvme.js 0000:00:05.0 [--driver vfio-pci|uio_pci_generic]
// Exits 0 when every check passed, 1 at the first that did not (saying which).
// example: needs-pcie
'use strict';
const assert = require('node:assert/strict');
const { randomBytes } = require('node:crypto');
const { Spdk, SpdkError, bindDevices, listDevices, unbindDevices } = require('spdk-node');

function step(text) {
  console.log(`- ${text}`);
}

async function main() {
  const [address, flag, driver] = process.argv.slice(2);
  if (!address || (flag !== undefined && flag !== '--driver')) throw new Error('usage: node examples/local-nvme.js ADDR [--driver vfio-pci|uio_pci_generic]');

  const before = listDevices().find((d) => d.address === address);
  assert.ok(before, `${address} is not an NVMe controller on this machine`);
  step(`listed: ${before.address} ${before.driver} ${before.model ?? ''} ${before.serial ?? ''} (${before.blockDevices.join(', ') || 'no block devices'})`);
  assert.equal(before.inUse.length, 0, `${address} is in use: ${before.inUse.map((u) => `${u.blockDevice} ${u.detail}`).join('; ')}`);

  const bound = await bindDevices(address, driver ? { driver } : {});
  step(`bound: ${bound.reason}`);
  assert.equal(listDevices().find((d) => d.address === address).driver, bound.driver);

  const spdk = await Spdk.start();
  try {
    const found = await spdk.nvme.list({ trtype: 'PCIe', traddr: address });
    assert.deepEqual(found, [{ transportId: { trtype: 'PCIe', traddr: address }, heldBy: null }]);
    step('nvme.list() finds it, attaching nothing');

    const ctrlr = await spdk.nvme.connect({ trtype: 'PCIe', traddr: address });
    step(`connected: ${ctrlr.data.mn.trim()} serial ${ctrlr.data.sn.trim()}`);
    const again = await spdk.nvme.connect({ trtype: 'PCIe', traddr: address }).catch((e) => e);
    assert.ok(again instanceof SpdkError && again.code === 'EBUSY', `a second connect should be EBUSY, got ${again}`);
    step(`a second connect: ${again.message}`);

    const ns = ctrlr.namespaces()[0];
    const qp = await ctrlr.allocIoQpair();
    const data = randomBytes(8 * ns.sectorSize);
    await ns.write(qp, 0, data);
    assert.ok((await ns.read(qp, 0, 8)).equals(data), 'NVMe read-back differs');
    step(`NVMe I/O: 8 blocks of ${ns.sectorSize} bytes written and read back`);
    await qp.free();
    await ctrlr.detach();

    const [name] = await spdk.rpc.bdev_nvme_attach_controller({ name: 'Local0', trtype: 'PCIe', traddr: address });
    const bdev = await spdk.openBdev(name, { write: true });
    assert.ok((await bdev.read(0, data.length)).equals(data), 'the bdev does not see what the NVMe driver wrote');
    const more = randomBytes(bdev.blockSize * 4);
    await bdev.write(bdev.blockSize * 8, more);
    assert.ok((await bdev.read(bdev.blockSize * 8, more.length)).equals(more), 'bdev read-back differs');
    step(`bdev ${name}: sees the data, and its own I/O reads back`);
    const busy = await unbindDevices(address).catch((e) => e);
    assert.ok(busy instanceof SpdkError && busy.code === 'EBUSY', `unbind while SPDK holds it should be EBUSY, got ${busy}`);
    step(`unbind while held: ${busy.message}`);
    await bdev.close();
    await spdk.rpc.bdev_nvme_detach_controller({ name: 'Local0' });
  } finally {
    await spdk.stop();
  }

  const back = await unbindDevices(address);
  step(`unbound: ${back.devices[0].from} -> ${back.devices[0].to} (${back.devices[0].note})`);
  const after = listDevices().find((d) => d.address === address);
  assert.equal(after.driver, 'nvme');
  assert.equal(after.serial, before.serial);
  console.log('ok');
}

main().catch((error) => {
  console.error(`FAILED: ${error.message}`);
  process.exitCode = 1;
});
