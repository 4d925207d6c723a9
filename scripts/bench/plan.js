// What a benchmark run measures: every point (target, workload, queue depth, path), grouped into
// jobs, one process each, run strictly one after another.
'use strict';

/**
 * Paths:
 *   native       SPDK's bdevperf (C, no Node): the ceiling.
 *   promise      bdev.read()/write() with allocBuffer() memory (zero copy), QD concurrent awaits.
 *   promise-buf  the same with plain Buffers (bounced through DMA memory): secondary line.
 *   batch        bdev.createQueue(): completion-driven, one submit() per completion batch.
 *   fs           Node's fs.promises FileHandle.read/write on the data file, page cache (buffered).
 *   fs-direct    the same with O_DIRECT: the I/O SPDK's aio and uring bdevs do.
 * NVMe/TCP targets (a child spdk_tgt on core 0 exporting a null bdev, started by bench.js):
 * 'nvme-tcp', the NVMe driver: native is spdk_nvme_perf, promise is ns.read()/write() on
 * allocBuffer() memory, batch is ns.createQueue(); 'bdev-nvme-tcp', bdev_nvme over the same
 * target: native is bdevperf, promise and batch as for any bdev.
 * File targets: 'file' (Node) with 'aio' and 'uring' (SPDK) on the data file in --dir; 'tmpfs'
 * with 'aio-tmpfs' and 'uring-tmpfs' on a second one in /dev/shm.
 */
const PATHS = ['native', 'promise', 'promise-buf', 'batch', 'fs', 'fs-direct'];
const WORKLOADS = ['randread', 'randwrite'];

function pointId(target, workload, qd, path) {
  return `${target} ${workload} QD${qd} ${path}`;
}

/** Jobs in run order; each has `points` (with ids). `only` (a RegExp or null) filters points by id. */
function buildPlan({ quick, only, leanLib, tmpfs }) {
  const sweep = quick ? [1, 8, 128] : [1, 2, 4, 8, 16, 32, 64, 128];
  // Paths through a file are slow per I/O: fewer points.
  const fileSweep = quick ? [1, 128] : [1, 4, 16, 64, 128];
  const endpoints = [1, 128];
  const pointsFor = (target, path, readQds, writeQds) => [
    ...readQds.map((qd) => ({ id: pointId(target, 'randread', qd, path), target, path, workload: 'randread', qd })),
    ...writeQds.map((qd) => ({ id: pointId(target, 'randwrite', qd, path), target, path, workload: 'randwrite', qd })),
  ];

  const jobs = [];
  const spdkTarget = (target, readQds) => {
    for (const p of pointsFor(target, 'native', readQds, endpoints)) jobs.push({ kind: 'bdevperf', points: [p] });
    for (const path of ['promise', 'batch']) jobs.push({ kind: 'spdk', path, target, points: pointsFor(target, path, readQds, endpoints) });
    if (target === 'null' || target === 'malloc') {
      jobs.push({ kind: 'spdk', path: 'promise-buf', target, points: pointsFor(target, 'promise-buf', endpoints, endpoints) });
    }
  };
  spdkTarget('null', sweep);
  spdkTarget('malloc', sweep);
  // NVMe/TCP: each path against SPDK's own initiator in the same run.
  const nvmeSweep = quick ? [1, 128] : [1, 8, 32, 128];
  for (const p of pointsFor('nvme-tcp', 'native', nvmeSweep, endpoints)) jobs.push({ kind: 'nvme-perf', nvmf: true, points: [p] });
  for (const path of ['promise', 'batch']) jobs.push({ kind: 'nvme', nvmf: true, path, target: 'nvme-tcp', points: pointsFor('nvme-tcp', path, nvmeSweep, endpoints) });
  for (const p of pointsFor('bdev-nvme-tcp', 'native', nvmeSweep, endpoints)) jobs.push({ kind: 'bdevperf', nvmf: true, points: [p] });
  for (const path of ['promise', 'batch']) jobs.push({ kind: 'spdk', nvmf: true, path, target: 'bdev-nvme-tcp', points: pointsFor('bdev-nvme-tcp', path, nvmeSweep, endpoints) });
  // Plain Node first: its buffered pass reads the whole file into the page cache.
  jobs.push({ kind: 'fs', direct: false, points: pointsFor('file', 'fs', fileSweep, endpoints) });
  jobs.push({ kind: 'fs', direct: true, points: pointsFor('file', 'fs-direct', fileSweep, endpoints) });
  spdkTarget('aio', fileSweep);
  spdkTarget('uring', fileSweep);
  if (tmpfs) {
    // The same comparison with the file in memory on both sides (QD 1 and 128 only).
    jobs.push({ kind: 'fs', direct: false, points: pointsFor('tmpfs', 'fs', endpoints, endpoints) });
    spdkTarget('aio-tmpfs', endpoints);
    spdkTarget('uring-tmpfs', endpoints);
  }
  for (const library of ['full', 'lean']) {
    for (const interruptMode of [false, true]) {
      const mode = interruptMode ? 'interrupt' : 'polling';
      const id = `idle ${mode} ${library}`;
      jobs.push({ kind: 'idle', interruptMode, library, libPath: library === 'lean' ? leanLib : null, points: [{ id, target: 'idle', path: 'idle', mode, library }] });
    }
  }

  for (const job of jobs) job.points = job.points.filter((p) => only === null || only.test(p.id));
  return jobs.filter((job) => job.points.length > 0);
}

module.exports = { buildPlan, pointId, PATHS, WORKLOADS };
