// In the VM: what the NVMe API says about who holds a PCIe controller. Lists without attaching;
// a second connect() to a held controller is EBUSY naming the holder; a controller left with the
// kernel's nvme driver is ENODEV with the bind advice. Params: { addr, kernelAddr }.
'use strict';
const { Spdk } = require('spdk-node');
const { main, startOptions } = require('./common');

const outcome = (p) => p.then(() => 'ok', (e) => ({ name: e.name, code: e.code, message: e.message }));

main(async ({ addr, kernelAddr }) => {
  const spdk = await Spdk.start(startOptions());
  try {
    const before = await spdk.nvme.list();
    const [probed] = await spdk.nvme.probe({ trtype: 'PCIe', traddr: addr });
    const whileHeld = await spdk.nvme.list();
    const secondConnect = await outcome(spdk.nvme.connect(`trtype:PCIe traddr:${addr}`));
    await probed.detach();
    const again = await spdk.nvme.connect(`trtype:PCIe traddr:${addr}`);
    await again.detach();
    const kernelBound = await outcome(spdk.nvme.connect(`trtype:PCIe traddr:${kernelAddr}`));
    const simplify = (l) => l.map((e) => ({ traddr: e.transportId.traddr, heldBy: e.heldBy }));
    return { before: simplify(before), whileHeld: simplify(whileHeld), probedSerial: probed.data.sn.trim(), secondConnect, reconnected: true, kernelBound };
  } finally {
    await spdk.stop();
  }
});
