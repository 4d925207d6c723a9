// The NVMe-over-PCIe rows (--pcie-vm): the three NVMe paths (spdk_nvme_perf, ns.read/write,
// the namespace queue) on a controller QEMU emulates in the PCIe rig's VM (test/vm/bench.ts, run
// with vite-node; the guest side is test/vm/guest/nvme-bench.js). The VM runs under TCG, so the
// IOPS say how fast QEMU emulates, and only the ratios between the paths mean anything.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const RUNNER = path.join(ROOT, 'test', 'vm', 'bench.ts');
const VITE_NODE = path.join(ROOT, 'node_modules', '.bin', 'vite-node');
const TARGET = 'nvme-pcie-vm';

/** Why the rows cannot run here, or null (what the rig itself needs, test/vm/bench.ts asks the rig). */
function unavailable() {
  return fs.existsSync(VITE_NODE) ? null : 'vite-node is missing (npm ci installs it)';
}

/** The points, shaped as the plan's (pointId's "target workload QDn path"). */
function pcieVmPoints(quick) {
  const points = [];
  for (const workload of ['randread', 'randwrite']) {
    for (const qd of quick ? [128] : [1, 128]) {
      for (const p of ['native', 'promise', 'batch']) points.push({ id: `${TARGET} ${workload} QD${qd} ${p}`, target: TARGET, workload, qd, path: p });
    }
  }
  return points;
}

/** Boots the VM, runs every point there; resolves with { rows, kernel, bootMs } or rejects. */
function runPcieVm(points, durationS, onSpawn) {
  const seen = new Set();
  const guestPoints = [];
  for (const p of points) {
    const key = `${p.workload}/${p.qd}`;
    if (!seen.has(key)) guestPoints.push({ workload: p.workload, qd: p.qd });
    seen.add(key);
  }
  const params = { durationS: Math.max(1, Math.round(durationS)), points: guestPoints };
  return new Promise((resolve, reject) => {
    const child = spawn(VITE_NODE, [RUNNER], { cwd: ROOT, env: { ...process.env, SPDK_NODE_BENCH_VM: JSON.stringify(params) }, stdio: ['ignore', 'pipe', 'inherit'] });
    onSpawn?.(child);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      let result;
      try {
        result = JSON.parse(out.trim().split('\n').pop() ?? '');
      } catch {
        reject(new Error(`the PCIe VM runner exited with ${signal ?? code} and no result`));
        return;
      }
      if (result.error !== undefined) reject(new Error(result.error));
      else resolve(result);
    });
  });
}

module.exports = { TARGET, unavailable, pcieVmPoints, runPcieVm };
