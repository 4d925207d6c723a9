// Turns measured points into ratios, goal verdicts and a markdown report.
'use strict';
const { pointId } = require('./plan');
const { fileSetOf } = require('./targets');

/** Adds `ratios` { native, fs, fsDirect } (IOPS of this path / IOPS of that one, same workload and QD) to every I/O result. */
function addRatios(results) {
  const byId = new Map(results.map((r) => [r.id, r]));
  const iopsOf = (target, workload, qd, path) => {
    const r = byId.get(pointId(target, workload, qd, path));
    return r !== undefined && r.error === undefined && r.iops > 0 ? r.iops : null;
  };
  const ratio = (a, b) => (a === null || b === null ? null : Number((a / b).toPrecision(4)));
  for (const r of results) {
    if (r.error !== undefined || r.target === 'idle') continue;
    const isFs = r.path === 'fs' || r.path === 'fs-direct';
    const native = isFs ? null : iopsOf(r.target, r.workload, r.qd, 'native');
    // Against Node on the same file (null and malloc: the data file in --dir).
    const fsTarget = fileSetOf(r.target) ?? 'file';
    r.ratios = {
      native: r.path === 'native' ? null : ratio(r.iops, native),
      fs: r.path === 'fs' ? null : ratio(r.iops, iopsOf(fsTarget, r.workload, r.qd, 'fs')),
      fsDirect: r.path === 'fs-direct' ? null : ratio(r.iops, iopsOf(fsTarget, r.workload, r.qd, 'fs-direct')),
    };
  }
}

function evaluateGoals(results) {
  const get = (target, workload, qd, path) => {
    const r = results.find((x) => x.id === pointId(target, workload, qd, path));
    return r === undefined || r.error !== undefined ? null : r;
  };
  const verdict = (value, ok) => (value === null ? null : ok);
  const goals = [];

  const promiseNull = get('null', 'randread', 128, 'promise');
  goals.push({
    id: 'promise-null-qd128',
    description: 'Promise API >= 1 M IOPS on null, randread QD 128',
    value: promiseNull?.iops ?? null, unit: 'IOPS', threshold: 1e6,
    met: verdict(promiseNull, promiseNull !== null && promiseNull.iops >= 1e6),
  });

  const batchNull = get('null', 'randread', 128, 'batch');
  goals.push({
    id: 'batch-null-qd128',
    description: 'Batched API >= 4 M IOPS on null, randread QD 128',
    value: batchNull?.iops ?? null, unit: 'IOPS', threshold: 4e6,
    met: verdict(batchNull, batchNull !== null && batchNull.iops >= 4e6),
  });

  const mallocRatios = ['randread', 'randwrite'].map((w) => get('malloc', w, 128, 'batch')?.ratios?.native ?? null);
  const worst = mallocRatios.includes(null) ? null : Math.min(...mallocRatios);
  goals.push({
    id: 'batch-malloc-vs-native',
    description: 'Batched API >= 80 % of native bdevperf on malloc, QD 128 (worse of randread, randwrite)',
    value: worst, unit: 'x native', threshold: 0.8, detail: { randread: mallocRatios[0], randwrite: mallocRatios[1] },
    met: verdict(worst, worst !== null && worst >= 0.8),
  });

  const promiseQd1 = get('null', 'randread', 1, 'promise');
  const p50 = promiseQd1?.latencyUs?.p50 ?? null;
  goals.push({
    id: 'promise-qd1-p50',
    description: 'Promise API QD 1 round trip < 10 us at p50 (null, randread)',
    value: p50, unit: 'us', threshold: 10,
    met: verdict(p50, p50 !== null && p50 < 10),
  });

  // NVMe/TCP loopback (issue 12): each path against SPDK's own initiator in the same run.
  const nvmeRatio = (target, path) => get(target, 'randread', 128, path)?.ratios?.native ?? null;
  for (const [id, target, path, threshold, what] of [
    ['nvme-queue-vs-perf', 'nvme-tcp', 'batch', 0.85, 'Namespace queue (ns.createQueue) >= 0.85x spdk_nvme_perf, NVMe/TCP randread QD 128'],
    ['nvme-promise-vs-perf', 'nvme-tcp', 'promise', 0.6, 'Promise ns.read >= 0.6x spdk_nvme_perf, NVMe/TCP randread QD 128'],
    ['bdev-nvme-queue-vs-bdevperf', 'bdev-nvme-tcp', 'batch', 0.85, 'IoQueue on bdev_nvme >= 0.85x bdevperf, NVMe/TCP randread QD 128'],
  ]) {
    const value = nvmeRatio(target, path);
    goals.push({ id, description: what, value, unit: 'x native', threshold, met: verdict(value, value !== null && value >= threshold) });
  }
  const perfQd1 = get('nvme-tcp', 'randread', 1, 'native')?.latencyUs?.p50 ?? null;
  const promiseNvmeQd1 = get('nvme-tcp', 'randread', 1, 'promise')?.latencyUs?.p50 ?? null;
  const above = perfQd1 === null || promiseNvmeQd1 === null ? null : Math.round((promiseNvmeQd1 - perfQd1) * 100) / 100;
  goals.push({
    id: 'nvme-qd1-p50',
    description: 'NVMe/TCP QD 1 round trip: Promise ns.read p50 no more than 3 us above spdk_nvme_perf',
    value: above, unit: 'us', threshold: 3, detail: { perf: perfQd1, promise: promiseNvmeQd1 },
    met: verdict(above, above !== null && above <= 3),
  });

  // The best way through SPDK to the file against plain Node on the same file: on the disk
  // (--dir), and in tmpfs, where both sides read memory.
  for (const [set, targets, where] of [['file', ['aio', 'uring'], 'on the --dir file'], ['tmpfs', ['aio-tmpfs', 'uring-tmpfs'], 'on a file in tmpfs']]) {
    const fileRuns = targets.flatMap((t) => ['promise', 'batch'].map((p) => get(t, 'randread', 128, p))).filter((r) => r !== null && r.ratios?.fs != null);
    if (set === 'tmpfs' && fileRuns.length === 0) continue;
    const best = fileRuns.reduce((a, r) => (a === null || r.ratios.fs > a.ratios.fs ? r : a), null);
    goals.push({
      id: set === 'file' ? 'file-vs-fs' : 'tmpfs-file-vs-fs',
      description: `File through SPDK (aio/uring bdev) >= 10x Node fs.promises ${where} (randread QD 128, best SPDK path)`,
      value: best?.ratios.fs ?? null, unit: 'x fs', threshold: 10,
      detail: best === null ? null : { best: best.id, iops: best.iops, vsFsDirect: best.ratios.fsDirect },
      met: verdict(best, best !== null && best.ratios.fs >= 10),
    });
  }
  return goals;
}

function fmtIops(n) {
  if (n == null) return '-';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(Math.round(n));
}

const fmt = (x, digits = 2) => (x == null ? '-' : Number(x).toFixed(digits));
const fmtRatio = (x) => (x == null ? '-' : `${x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2)}x`);

function goalValue(g) {
  if (g.value === null) return 'not measured';
  if (g.unit === 'IOPS') return fmtIops(g.value);
  if (g.unit === 'us') return `${fmt(g.value)} us`;
  return fmtRatio(g.value);
}

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function markdown(report) {
  const { results, idle, goals, host, options } = report;
  const out = [];
  out.push(`# spdk-node benchmark, ${report.startedAt}`);
  out.push('');
  out.push(`${host.cpus} x ${host.cpuModel}, Linux ${host.kernel}, Node ${host.node}, SPDK ${host.spdk ?? '?'}. ` +
    `4 KiB I/O, ${options.durationS} s per point after ${options.warmupS} s warm-up${options.quick ? ' (--quick: smoke run, numbers are not meaningful)' : ''}. ` +
    `Load average at start: ${host.loadavg.map((l) => l.toFixed(2)).join(' ')}.`);
  for (const note of report.warnings) out.push(`\n**Warning:** ${note}`);
  out.push('');
  out.push('## Goals');
  out.push('');
  out.push(table(['Goal', 'Measured', 'Met'], goals.map((g) => [g.description, goalValue(g), g.met === null ? 'not measured' : g.met ? 'yes' : '**no**'])));
  out.push('');
  out.push('## QD 1 and QD 128');
  out.push('');
  out.push('Ratios are IOPS of the path over IOPS of native bdevperf (same bdev) and of Node fs.promises on the data file (page cache, and O_DIRECT), same workload and QD.');
  out.push('');
  const order = ['null', 'malloc', 'nvme-tcp', 'bdev-nvme-tcp', 'nvme-pcie-vm', 'file', 'aio', 'uring', 'tmpfs', 'aio-tmpfs', 'uring-tmpfs'];
  const pathOrder = ['native', 'promise', 'promise-buf', 'batch', 'fs', 'fs-direct'];
  const main = results
    .filter((r) => r.qd === 1 || r.qd === 128)
    .sort((a, b) => order.indexOf(a.target) - order.indexOf(b.target) || a.workload.localeCompare(b.workload) || a.qd - b.qd || pathOrder.indexOf(a.path) - pathOrder.indexOf(b.path));
  out.push(table(
    ['Target', 'Workload', 'QD', 'Path', 'IOPS', 'MiB/s', 'p50 us', 'p99 us', 'CPU cores', 'x native', 'x fs', 'x fs-direct'],
    main.map((r) => r.error !== undefined
      ? [r.target, r.workload, r.qd, r.path, `failed: ${r.error.split('\n')[0]}`, '', '', '', '', '', '', '']
      : [r.target, r.workload, r.qd, r.path, fmtIops(r.iops), fmt(r.mibps, 0), fmt(r.latencyUs?.p50), fmt(r.latencyUs?.p99), fmt(r.cpuCores), fmtRatio(r.ratios?.native), fmtRatio(r.ratios?.fs), fmtRatio(r.ratios?.fsDirect)]),
  ));
  out.push('');
  const sweep = results.filter((r) => r.workload === 'randread' && r.error === undefined);
  const qds = [...new Set(sweep.map((r) => r.qd))].sort((a, b) => a - b);
  if (qds.length > 2) {
    out.push('## randread IOPS by queue depth');
    out.push('');
    const lines = [];
    for (const target of order) {
      for (const path of pathOrder) {
        const row = sweep.filter((r) => r.target === target && r.path === path);
        if (row.length === 0) continue;
        lines.push([target, path, ...qds.map((qd) => fmtIops(row.find((r) => r.qd === qd)?.iops))]);
      }
    }
    out.push(table(['Target', 'Path', ...qds.map((q) => `QD${q}`)], lines));
    out.push('');
  }
  if (idle.length > 0) {
    out.push('## Idle cost');
    out.push('');
    out.push(`CPU of a started, idle instance (no bdevs, no I/O): the whole process over ${options.idleMeasureS} s, after ${options.idleSettleS} s to settle.`);
    out.push('');
    out.push(table(['Mode', 'Library', 'CPU cores', 'Note'], idle.map((r) => [r.mode, r.library, r.error !== undefined ? '-' : fmt(r.cpuCores), r.error ?? r.skipped ?? (r.warnings?.length ? r.warnings.join(' ') : '')])));
    out.push('');
  }
  out.push('## What is measured');
  out.push('');
  for (const line of report.notes) out.push(`- ${line}`);
  out.push('');
  return out.join('\n');
}

module.exports = { addRatios, evaluateGoals, markdown, fmtIops };
