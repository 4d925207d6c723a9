// In the VM: the NVMe-over-PCIe bench rows (npm run bench -- --pcie-vm). For each point, SPDK's
// spdk_nvme_perf on the namespace, then spdk-node on the same namespace: ns.read/ns.write with QD
// concurrent awaits (promise) and a namespace queue kept full (batch), with the host bench's own
// loops and spdk_nvme_perf runner (scripts/bench/, copied into the image as ./bench). QEMU
// emulates the controller (TCG): only the ratios mean anything.
// Params: { addr, nsid, durationS, points: [{ workload, qd }] }. Run pinned to core 1 (taskset),
// where SPDK's reactor and spdk_nvme_perf run, without spinning: the guest's vCPUs and QEMU's
// emulation of the controller share the host's cores, and a second busy vCPU (a JS thread
// spinning on core 0) takes the host time the emulated controller needs (measured with a lighter
// loop than the bench's, randread QD 128: namespace queue 0.55x of spdk_nvme_perf that way, 0.86x
// this way).
'use strict';
const { Spdk } = require('spdk-node');
const { awaitLoop, queueLoop } = require('./bench/loops');
const { runNvmePerf } = require('./bench/nvmf');
const { main, startOptions } = require('./common');

const IO_SIZE = 4096;
const WARMUP_S = 1;

main(async ({ addr, nsid, durationS = 3, points }) => {
  const rows = [];
  for (const point of points) {
    const r = await runNvmePerf({ trid: `trtype:PCIe traddr:${addr} ns:${nsid}`, workload: point.workload, qd: point.qd, durationS });
    rows.push({ ...point, path: 'native', ...r });
  }
  const spdk = await Spdk.start(startOptions({ cpuMask: '[1]' }));
  try {
    const ctrlr = await spdk.nvme.connect(`trtype:PCIe traddr:${addr}`);
    const ns = ctrlr.namespace(nsid);
    if (ns === undefined || ns.blockSize !== IO_SIZE) throw new Error(`namespace ${nsid} is missing or has no ${IO_SIZE}-byte blocks`);
    const qp = await ctrlr.allocIoQpair({ spinUs: 0 });
    for (const point of points) {
      const write = point.workload === 'randwrite';
      const common = { qd: point.qd, blocks: ns.numSectors, blockSize: IO_SIZE, ioSize: IO_SIZE, warmupS: WARMUP_S, durationS, spinUs: 0 };
      const bufs = Array.from({ length: point.qd }, () => spdk.allocBuffer(IO_SIZE));
      const op = write ? (offset, slot) => ns.write(qp, offset / IO_SIZE, bufs[slot]) : (offset, slot) => ns.read(qp, offset / IO_SIZE, bufs[slot]);
      rows.push({ ...point, path: 'promise', ...(await awaitLoop({ ...common, op })) });
      rows.push({ ...point, path: 'batch', ...(await queueLoop({ ...common, write, createQueue: (o) => ns.createQueue(qp, o), position: (block) => block })) });
    }
    await qp.free();
    await ctrlr.detach();
  } finally {
    await spdk.stop();
  }
  return { rows };
});
