// In the VM: the NVMe-over-PCIe bench rows (npm run bench -- --pcie-vm). For each point, SPDK's
// spdk_nvme_perf on the namespace, then spdk-node on the same namespace: ns.read/ns.write with QD
// concurrent awaits (promise) and a namespace queue kept full (batch). QEMU emulates the
// controller (TCG): only the ratios mean anything.
// Params: { addr, nsid, durationS, points: [{ workload, qd }] }. Run pinned to core 1 (taskset),
// where SPDK's reactor and spdk_nvme_perf run, without spinning: the guest's vCPUs and QEMU's
// emulation of the controller share the host's cores, and a second busy vCPU (a JS thread
// spinning on core 0) takes the host time the emulated controller needs (measured, randread
// QD 128: namespace queue 0.55x of spdk_nvme_perf that way, 0.86x this way).
'use strict';
const { spawnSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const { Spdk } = require('spdk-node');
const { main, startOptions } = require('./common');

const PERF = '/usr/local/libexec/spdk-node/spdk_nvme_perf';
const IO_SIZE = 4096;

function nvmePerf(addr, nsid, { workload, qd }, durationS) {
  const args = ['-r', `trtype:PCIe traddr:${addr} ns:${nsid}`, '-q', String(qd), '-o', String(IO_SIZE), '-w', workload, '-t', String(durationS), '-c', '0x2', '-L'];
  const r = spawnSync(PERF, args, { encoding: 'utf8', timeout: (durationS + 120) * 1000 });
  const total = /^\s*Total\s*:\s*([\d.]+)\s+[\d.]+\s+([\d.]+)/m.exec(r.stdout ?? '');
  if (r.status !== 0 || total === null) throw new Error(`spdk_nvme_perf exited with ${r.status ?? r.signal}: ${(r.stdout + r.stderr).trim().split('\n').slice(-6).join('\n')}`);
  const p50 = /^\s*50\.00000%\s*:\s*([\d.]+)us/m.exec(r.stdout);
  return { iops: Math.round(Number(total[1])), p50Us: p50 === null ? null : Number(p50[1]) };
}

/** Runs `measure` for a warm-up second, then for durationS; returns IOPS over the window. */
async function window(durationS, start) {
  const state = { measuring: false, stop: false, ops: 0 };
  const run = start(state);
  await new Promise((r) => setTimeout(r, 1000));
  state.measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, durationS * 1000));
  state.measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  const ops = state.ops;
  state.stop = true;
  await run;
  return { iops: Math.round(ops / seconds) };
}

function promiseLoop(spdk, ns, qp, { workload, qd }, durationS) {
  const blocks = ns.numSectors / (IO_SIZE / ns.blockSize);
  return window(durationS, async (state) => {
    const chains = [];
    for (let c = 0; c < qd; c++) {
      const buf = spdk.allocBuffer(IO_SIZE);
      chains.push((async () => {
        while (!state.stop) {
          const lba = ((Math.random() * blocks) | 0) * (IO_SIZE / ns.blockSize);
          await (workload === 'randwrite' ? ns.write(qp, lba, buf) : ns.read(qp, lba, buf));
          if (state.measuring) state.ops++;
        }
      })());
    }
    await Promise.all(chains);
  });
}

function queueLoop(ns, qp, { workload, qd }, durationS) {
  const perIo = IO_SIZE / ns.blockSize;
  const blocks = ns.numSectors / perIo;
  return window(durationS, async (state) => {
    const q = ns.createQueue(qp, { depth: qd, ioSize: IO_SIZE, spinUs: 0 });
    const prep = workload === 'randwrite' ? (s, lba) => q.prepWrite(s, lba) : (s, lba) => q.prepRead(s, lba);
    let failure = null;
    q.onCompletions = (n, slots, results) => {
      for (let i = 0; i < n; i++) {
        if (results[i] !== 0) failure ??= new Error(`I/O failed: ${results[i]}`);
        if (!state.stop && failure === null) prep(slots[i], ((Math.random() * blocks) | 0) * perIo);
      }
      if (state.measuring) state.ops += n;
      q.submit();
    };
    for (let s = 0; s < qd; s++) prep(s, ((Math.random() * blocks) | 0) * perIo);
    q.submit();
    while (!state.stop) await new Promise((r) => setTimeout(r, 50));
    await q.close();
    if (failure !== null) throw failure;
  });
}

main(async ({ addr, nsid, durationS = 3, points }) => {
  const rows = [];
  for (const point of points) rows.push({ ...point, path: 'native', ...nvmePerf(addr, nsid, point, durationS) });
  const spdk = await Spdk.start(startOptions({ cpuMask: '[1]' }));
  try {
    const ctrlr = await spdk.nvme.connect(`trtype:PCIe traddr:${addr}`);
    const ns = ctrlr.namespace(nsid);
    const qp = await ctrlr.allocIoQpair({ spinUs: 0 });
    for (const point of points) {
      rows.push({ ...point, path: 'promise', ...(await promiseLoop(spdk, ns, qp, point, durationS)) });
      rows.push({ ...point, path: 'batch', ...(await queueLoop(ns, qp, point, durationS)) });
    }
    await qp.free();
    await ctrlr.detach();
  } finally {
    await spdk.stop();
  }
  return { rows };
});
