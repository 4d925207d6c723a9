#!/usr/bin/env node
// Benchmark: native SPDK (bdevperf), spdk-node's Promise and batched APIs, and Node's own
// fs.promises, 4 KiB random reads and writes on null, malloc and file (aio, uring) bdevs, and
// over NVMe/TCP on loopback (scripts/bench/nvmf.js: spdk_nvme_perf against ns.read/write and the
// namespace queue; bdevperf against openBdev and IoQueue on bdev_nvme), plus the CPU an idle
// instance costs in polling and interrupt mode.
//
//   npm run bench                      full run (about 9 minutes; run it on a quiet machine)
//   npm run bench -- --quick           smoke run: short points, fewer queue depths
//   npm run bench -- --duration 5      seconds measured per point (default 3)
//   npm run bench -- --only 'null.*QD128'   only points whose id matches (case-insensitive
//                                      regex on ids such as "null randread QD128 promise")
//   npm run bench -- --list            print the points (and an estimate of the time) without running
//   npm run bench -- --dir /dev/shm    where the 256 MiB data file for the file paths is created (and
//                                      deleted after the run); default bench-results/
//   npm run bench -- --no-tmpfs        skip the second data file, in /dev/shm, where Node and SPDK
//                                      both read memory (made when /dev/shm is tmpfs)
//   npm run bench -- --nvmf-interrupt  the NVMe/TCP target (spdk_tgt on core 0) sleeps when idle
//                                      (--interrupt-mode) instead of polling (the default)
//   npm run bench -- --pcie-vm         also the NVMe paths over PCIe, on a controller QEMU emulates
//                                      in the PCIe rig's VM (scripts/bench/pcie-vm.js; ratios only:
//                                      TCG). With --only, only these: --pcie-vm --only pcie
//
// Every phase runs in its own process, strictly one after another (SPDK starts once per process,
// and two phases would share SPDK's core): SPDK's reactor on core 1, Node's JS thread on core 0.
// Writes bench-results/<timestamp>.json, latest.json, latest.md, latest.svg and prints the markdown.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { randomFillSync } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { buildPlan } = require('./bench/plan');
const { runBdevperf, available: bdevperfMissing, makeTmpDir } = require('./bench/bdevperf');
const { addRatios, evaluateGoals, markdown, fmtIops } = require('./bench/report');
const { fileSetOf } = require('./bench/targets');
const nvmf = require('./bench/nvmf');
const pcieVm = require('./bench/pcie-vm');
const { plot } = require('./bench/svg');

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'bench-results');
const WORKER = path.join(__dirname, 'bench', 'worker.js');
// Child processes running now (one at most), stopped if this process is.
const children = new Set();
function track(child) {
  children.add(child);
  child.on('close', () => children.delete(child));
}

const LEAN_LIB = '/opt/spdk-lean/lib/libspdk_fat.so.26.01';
const DATA_FILE_MIB = 256;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      only: { type: 'string' },
      dir: { type: 'string' },
      'no-tmpfs': { type: 'boolean', default: false },
      'nvmf-interrupt': { type: 'boolean', default: false },
      'pcie-vm': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(1).filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n');
    process.exit(0);
  }
  const durationS = values.duration === undefined ? (values.quick ? 0.5 : 3) : Number(values.duration);
  if (!(durationS > 0 && durationS <= 600)) throw new RangeError(`--duration must be seconds between 0 and 600, got ${values.duration}`);
  let only = null;
  if (values.only !== undefined) only = new RegExp(values.only, 'i');
  const file = path.join(path.resolve(values.dir ?? OUT_DIR), `spdk-node-bench-${process.pid}.bin`);
  return {
    quick: values.quick,
    list: values.list,
    durationS,
    warmupS: values.quick ? 0.2 : 0.5,
    idleSettleS: values.quick ? 0.5 : 1,
    idleMeasureS: values.quick ? 1 : 5,
    only,
    nvmfInterrupt: values['nvmf-interrupt'],
    pcieVm: values['pcie-vm'],
    file,
    tmpfsFile: values['no-tmpfs'] || isTmpfs(path.dirname(file)) || !isTmpfs('/dev/shm') ? null : path.join('/dev/shm', `spdk-node-bench-${process.pid}.bin`),
  };
}

function isTmpfs(dir) {
  try {
    return fs.statfsSync(dir).type === 0x01021994;
  } catch {
    return false;
  }
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** The data file for the file paths: written with random data (not sparse, so reads reach real blocks). */
function createDataFile(file) {
  const size = DATA_FILE_MIB * 2 ** 20;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'wx');
  try {
    const chunk = Buffer.alloc(2 ** 20);
    for (let pos = 0; pos < size; pos += chunk.length) fs.writeSync(fd, randomFillSync(chunk), 0, chunk.length, pos);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const FS_TYPES = { 0xef53: 'ext4', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x794c7630: 'overlayfs', 0x6969: 'nfs' };

/** What SPDK's aio/uring bdevs will do with the file: they open it O_DIRECT when the filesystem allows. */
function describeFile(file) {
  let fsType = 'unknown';
  try {
    const t = fs.statfsSync(file).type;
    fsType = FS_TYPES[t] ?? `0x${t.toString(16)}`;
  } catch {
    // statfs is informational
  }
  let direct = false;
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT));
    direct = true;
  } catch {
    // the filesystem refuses O_DIRECT: SPDK falls back to buffered I/O
  }
  return { path: file, sizeMiB: DATA_FILE_MIB, fsType, oDirect: direct };
}

function host() {
  let spdk = null;
  try {
    spdk = JSON.parse(fs.readFileSync('/usr/local/lib/libspdk_fat.json', 'utf8')).spdkVersion ?? null;
  } catch {
    // the version is informational
  }
  return {
    cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown', kernel: os.release(),
    node: process.version, spdk, loadavg: os.loadavg(), uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
  };
}

/** The data file a target's points use. */
function fileFor(target, opts) {
  return fileSetOf(target) === 'tmpfs' ? opts.tmpfsFile : opts.file;
}

/** Runs one worker process; calls onResult for each JSON line; resolves with an error message or null. */
function runWorker(job, opts, onResult, pin) {
  const payload = {
    ...job,
    file: fileFor(job.points[0].target, opts),
    warmupS: opts.warmupS,
    durationS: opts.durationS,
    settleS: opts.idleSettleS,
    measureS: opts.idleMeasureS,
    points: job.points.map(({ id, workload, qd }) => ({ id, workload, qd })),
  };
  const env = { ...process.env };
  if (job.libPath) env.SPDK_FAT_LIB = job.libPath;
  const node = [process.execPath, '--no-warnings', WORKER, JSON.stringify(payload)];
  const [cmd, ...args] = pin ? ['taskset', '-c', String(job.jsCore ?? 0), ...node] : node;
  const budgetS = job.kind === 'idle' ? opts.idleSettleS + opts.idleMeasureS + 60 : job.points.length * (opts.warmupS + opts.durationS) + 60;
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let pending = '';
    let stderr = '';
    let failure = null;
    const timer = setTimeout(() => {
      failure = `timed out after ${budgetS} s`;
      child.kill('SIGKILL');
    }, budgetS * 1000);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let record;
        try {
          record = JSON.parse(line);
        } catch {
          continue; // not ours (a library printing to stdout)
        }
        if (record.type === 'result') onResult(record);
        else if (record.type === 'error') failure = record.message;
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', (error) => {
      failure ??= error.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (failure === null && code !== 0) failure = `worker exited with ${signal ?? code}`;
      if (failure !== null && stderr.trim() !== '') failure += `\n${stderr.trim().split('\n').slice(-5).join('\n')}`;
      resolve(failure);
    });
  });
}

/** Rough wall time of a run: measured windows plus process start-up (SPDK's takes about a second). */
function estimateS(jobs, opts) {
  let s = 0;
  for (const job of jobs) {
    if (job.kind === 'bdevperf' || job.kind === 'nvme-perf') s += Math.max(1, Math.round(opts.durationS)) + 1;
    else if (job.kind === 'idle') s += opts.idleSettleS + opts.idleMeasureS + 2;
    else s += job.points.length * (opts.warmupS + opts.durationS) + 1.5;
  }
  return s;
}

function progressLine(index, total, point, r) {
  let what;
  if (r.error !== undefined) what = `FAILED: ${r.error.split('\n')[0]}`;
  else if (r.skipped !== undefined) what = `skipped: ${r.skipped}`;
  else if (point.target === 'idle') what = `${r.cpuCores.toFixed(2)} cores`;
  else what = `${fmtIops(r.iops)} IOPS, p50 ${r.latencyUs?.p50 ?? '-'} us, ${r.cpuCores ?? '-'} cores`;
  process.stderr.write(`[${index}/${total}] ${point.id} ... ${what}\n`);
}

function notes(opts, h, file, tmpfs, pinned, target) {
  return [
    `native: SPDK's bdevperf (-m 0x2: reactor on core 1, -l for percentiles), one process per point; latency is submission to completion inside SPDK; CPU over the middle 80 % of the run from /proc/<pid>/stat.`,
    `promise: QD concurrent chains, each awaiting bdev.read()/write() on its own spdk.allocBuffer() memory (zero copy); latency from the call to the await resuming${pinned ? '' : ' (taskset missing: the Node process was not pinned)'}, sampled 1 in 8 at QD >= 8. promise-buf: the same with plain Buffers, bounced through DMA memory.`,
    'batch: one IoQueue of depth QD kept full; each completion batch re-stages its slots and submits with one submit(); latency from the batch being staged to its completion callback.',
    `spdk-node paths: SPDK's reactor on core 1 (cpuMask [1], polling), Node pinned to core 0 (taskset); CPU is the whole process (reactor + JS thread), so a polling reactor alone is 1 core.`,
    `fs / fs-direct: Node's fs.promises FileHandle.read/write at random 4 KiB offsets of the ${DATA_FILE_MIB} MiB data file, QD concurrent awaits, libuv threadpool of ${h.uvThreadpoolSize}, not pinned (the same two cores the SPDK paths use). fs: buffered, the file read once before so reads hit the page cache, writes stay in it (no fsync). fs-direct: O_DIRECT.`,
    `aio / uring: SPDK's bdev_aio / bdev_uring on the same file (${file.fsType}); SPDK opens it ${file.oDirect ? 'with O_DIRECT: device I/O, no page cache' : 'without O_DIRECT (the filesystem refuses it): page cache'}. So "x fs" on these rows compares ${file.oDirect ? 'device I/O through SPDK with page-cache copies through Node (the issue\'s goal as stated); "x fs-direct" is like for like' : 'page cache with page cache'}.`,
    ...(tmpfs === null ? [] : [`tmpfs / aio-tmpfs / uring-tmpfs: the same comparison on a second ${DATA_FILE_MIB} MiB file in ${path.dirname(tmpfs.path)} (tmpfs), QD 1 and 128: Node's fs.promises (buffered) and SPDK's aio/uring bdevs (${tmpfs.oDirect ? 'O_DIRECT, which tmpfs serves from memory' : 'buffered'}) both read memory, so "x fs" there is the cost of the software paths alone.`]),
    `Idle: an instance with no bdevs, CPU of the whole process over ${opts.idleMeasureS} s after ${opts.idleSettleS} s; "full" is the installed library (every subsystem; in interrupt mode the iSCSI poller cannot sleep), "lean" is ${LEAN_LIB} (./build.sh --lean).`,
    ...(target === null ? [] : [
      `nvme-tcp / bdev-nvme-tcp: NVMe/TCP on loopback (port ${target.port}) to SPDK's spdk_tgt in a child process pinned to core ${target.core} (-m 0x1${target.interruptMode ? ', --interrupt-mode: its reactor sleeps while idle' : ', polling'}), exporting a null bdev of 4 KiB blocks. The initiator is on core 1 in every row: nvme-tcp native is spdk_nvme_perf (-c 0x2, -L), promise is ns.read()/ns.write() on allocBuffer() memory with QD concurrent awaits, batch is ns.createQueue(qp) (a namespace queue) kept full, all on one I/O queue pair; bdev-nvme-tcp is bdev_nvme attached to the same target: bdevperf (-m 0x2) against openBdev's Promise API and IoQueue. Node's JS thread is pinned to core 1 with its own reactor (core ${target.core} is the target's) and does not spin (spinUs 0): on two cores, a spinning JS thread only takes time from the reactor or the target it waits for (measured here: ns.read QD 128 several times slower with spinning, and with Node on the target's core).`,
    ]),
    ...(opts.pcieVm ? [`nvme-pcie-vm: NVMe over PCIe on a controller QEMU emulates (the PCIe rig's VM, TCG, 2 vCPUs; controller A's 4 KiB namespace bound to uio_pci_generic): native is spdk_nvme_perf (-c 0x2), promise is ns.read()/ns.write() with QD concurrent awaits, batch is a namespace queue kept full; SPDK's reactor and Node's JS thread share the guest's core 1, as spdk_nvme_perf has it, and JS does not spin (spinUs 0): a second busy vCPU would take the host time QEMU needs to emulate the controller. QEMU's emulation bounds the IOPS: only the ratios mean anything.`] : []),
    'IOPS are counted over the measured window only; ratios are IOPS over IOPS for the same workload and queue depth.',
  ];
}

async function main() {
  const opts = options();
  if (!fs.existsSync(path.join(ROOT, 'lib', 'index.js'))) throw new Error('lib/index.js is missing: run `npm run compile` first');
  const missing = bdevperfMissing();
  const pinned = has('taskset');
  const warnings = [];
  if (!pinned) warnings.push('taskset (util-linux) not found: Node processes are not pinned to core 0.');
  if (!has('stdbuf')) warnings.push('stdbuf (coreutils) not found: bdevperf cannot run (it is started through stdbuf).');
  const leanLib = fs.existsSync(LEAN_LIB) ? LEAN_LIB : null;
  const h = host();
  if (h.loadavg[0] > 0.5) warnings.push(`load average ${h.loadavg[0].toFixed(2)} at start: other work is running, numbers are not representative.`);

  const jobs = buildPlan({ quick: opts.quick, only: opts.only, leanLib, tmpfs: opts.tmpfsFile !== null });
  const vmPoints = opts.pcieVm ? pcieVm.pcieVmPoints(opts.quick).filter((p) => opts.only === null || opts.only.test(p.id)) : [];
  const total = jobs.reduce((n, j) => n + j.points.length, 0) + vmPoints.length;
  if (total === 0) throw new Error(`--only ${opts.only.source} matches no point`);
  if (opts.list) {
    for (const job of jobs) for (const p of job.points) process.stdout.write(`${p.id}\n`);
    for (const p of vmPoints) process.stdout.write(`${p.id}\n`);
    // The VM: about a minute to build its image and boot, then a warm-up second and the window per point.
    const vmS = vmPoints.length === 0 ? 0 : 60 + vmPoints.length * (Math.max(1, Math.round(opts.durationS)) + 1);
    process.stdout.write(`${total} points, about ${Math.ceil((estimateS(jobs, opts) + vmS) / 60)} minutes\n`);
    return;
  }
  const startedAt = new Date().toISOString();

  const uses = (set) => jobs.some((j) => j.kind !== 'idle' && fileSetOf(j.points[0].target) === set);
  const needsFile = uses('file');
  const needsTmpfs = uses('tmpfs');
  let fileInfo = { path: opts.file, sizeMiB: DATA_FILE_MIB, fsType: 'unused', oDirect: null };
  let tmpfsInfo = null;
  const tmpDir = makeTmpDir();
  // The NVMe/TCP target, started before the first point that needs it.
  let nvmfTarget = null;
  let nvmfFailure = null;
  const nvmfMissing = nvmf.available();
  const cleanUp = () => {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    if (needsFile) fs.rmSync(opts.file, { force: true });
    if (needsTmpfs) fs.rmSync(opts.tmpfsFile, { force: true });
  };
  if (needsFile) {
    createDataFile(opts.file);
    fileInfo = describeFile(opts.file);
  }
  if (needsTmpfs) {
    createDataFile(opts.tmpfsFile);
    tmpfsInfo = describeFile(opts.tmpfsFile);
  }
  for (const signal of ['SIGINT', 'SIGTERM']) {
    // The running child gets the terminal's SIGINT too and stops its SPDK itself.
    process.once(signal, () => {
      for (const child of children) child.kill('SIGTERM');
      cleanUp();
      process.exit(128 + os.constants.signals[signal]);
    });
  }
  const results = [];
  let done = 0;
  const record = (point, r) => {
    const full = point.target === 'idle'
      ? { id: point.id, path: 'idle', target: 'idle', mode: point.mode, library: point.library, ...r }
      : { id: point.id, path: point.path, target: point.target, workload: point.workload, qd: point.qd, ioSize: 4096, ...r };
    results.push(full);
    progressLine(++done, total, point, full);
  };

  try {
    for (const job of jobs) {
      if (job.nvmf) {
        if (nvmfTarget === null && nvmfFailure === null) {
          nvmfFailure = nvmfMissing;
          if (nvmfFailure === null) {
            try {
              nvmfTarget = await nvmf.startTarget(tmpDir, { interruptMode: opts.nvmfInterrupt, onSpawn: track });
              process.stderr.write(`NVMe/TCP target: spdk_tgt on core ${nvmfTarget.core}, port ${nvmfTarget.port}${nvmfTarget.interruptMode ? ', interrupt mode' : ''}\n`);
            } catch (error) {
              nvmfFailure = error.message;
            }
          }
        }
        if (nvmfFailure !== null) {
          for (const point of job.points) record(point, { error: nvmfFailure });
          continue;
        }
        job.trid = nvmfTarget.trid;
        job.nvmfPort = nvmfTarget.port;
        // Core 0 is the target's: Node shares core 1 with its own reactor, as spdk_nvme_perf and
        // bdevperf have core 1 to themselves, and does not spin (spinning there only takes time
        // from the reactor it waits for).
        job.jsCore = 1;
        job.spinUs = 0;
      }
      if (job.kind === 'nvme-perf') {
        const point = job.points[0];
        try {
          record(point, await nvmf.runNvmePerf({ trid: nvmfTarget.trid, workload: point.workload, qd: point.qd, durationS: opts.durationS, onSpawn: track }));
        } catch (error) {
          record(point, { error: error.message });
        }
        continue;
      }
      if (job.kind === 'bdevperf') {
        const point = job.points[0];
        if (missing !== null) {
          record(point, { error: missing });
          continue;
        }
        try {
          const config = point.target === 'bdev-nvme-tcp' ? nvmf.bdevNvmeConfig(nvmfTarget.port) : undefined;
          const r = await runBdevperf({ target: point.target, file: fileFor(point.target, opts), config, workload: point.workload, qd: point.qd, durationS: opts.durationS, tmpDir, onSpawn: track });
          record(point, r);
        } catch (error) {
          record(point, { error: error.message });
        }
        continue;
      }
      if (job.kind === 'idle' && job.library === 'lean' && leanLib === null) {
        record(job.points[0], { skipped: `${LEAN_LIB} not found (build it with ./build.sh --lean)` });
        continue;
      }
      const seen = new Set();
      const byId = new Map(job.points.map((p) => [p.id, p]));
      const failure = await runWorker(job, opts, (r) => {
        const point = byId.get(r.id);
        if (point === undefined || seen.has(r.id)) return;
        seen.add(r.id);
        const { type, id, ...rest } = r;
        record(point, rest);
      }, pinned && job.kind !== 'fs');
      for (const point of job.points) if (!seen.has(point.id)) record(point, { error: failure ?? 'no result' });
    }
    if (vmPoints.length > 0) await runVmPoints(vmPoints, opts, record);
  } finally {
    await nvmfTarget?.stop();
    cleanUp();
  }

  const io = results.filter((r) => r.target !== 'idle');
  const idle = results.filter((r) => r.target === 'idle');
  addRatios(io);
  const report = {
    schema: 'spdk-node-bench/1',
    startedAt,
    finishedAt: new Date().toISOString(),
    options: { quick: opts.quick, durationS: opts.durationS, warmupS: opts.warmupS, only: opts.only?.source ?? null, idleSettleS: opts.idleSettleS, idleMeasureS: opts.idleMeasureS },
    host: h,
    file: fileInfo,
    tmpfsFile: tmpfsInfo,
    warnings,
    goals: evaluateGoals(io),
    results: io,
    idle,
    notes: notes(opts, h, fileInfo, tmpfsInfo, pinned, nvmfTarget),
    nvmfTarget: nvmfTarget === null ? null : { port: nvmfTarget.port, core: nvmfTarget.core, interruptMode: nvmfTarget.interruptMode },
  };
  const md = markdown(report);
  const svg = plot(io, `spdk-node: 4 KiB randread IOPS by queue depth (${startedAt.slice(0, 16).replace('T', ' ')})`);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  fs.writeFileSync(path.join(OUT_DIR, `${startedAt.replace(/[:.]/g, '-')}.json`), json);
  fs.writeFileSync(path.join(OUT_DIR, 'latest.json'), json);
  fs.writeFileSync(path.join(OUT_DIR, 'latest.md'), md);
  if (svg !== null) fs.writeFileSync(path.join(OUT_DIR, 'latest.svg'), svg);
  else fs.rmSync(path.join(OUT_DIR, 'latest.svg'), { force: true });
  process.stdout.write(md);
  process.stderr.write(`\nwrote ${path.relative(process.cwd(), OUT_DIR)}/{latest.json,latest.md${svg !== null ? ',latest.svg' : ''}}\n`);
  if (results.some((r) => r.error !== undefined)) process.exitCode = 1;
}

/** The --pcie-vm rows: one VM boot for all of them (scripts/bench/pcie-vm.js). */
async function runVmPoints(points, opts, record) {
  const missing = pcieVm.unavailable();
  if (missing !== null) {
    for (const point of points) record(point, { error: missing });
    return;
  }
  process.stderr.write(`${pcieVm.TARGET}: booting the PCIe rig's VM (TCG: ratios only)\n`);
  try {
    const { rows, kernel, bootMs } = await pcieVm.runPcieVm(points, opts.durationS, track);
    process.stderr.write(`${pcieVm.TARGET}: guest kernel ${kernel}, booted in ${(bootMs / 1000).toFixed(1)} s\n`);
    for (const point of points) {
      const row = rows.find((r) => r.workload === point.workload && r.qd === point.qd && r.path === point.path);
      if (row === undefined) {
        record(point, { error: 'the guest reported no result' });
        continue;
      }
      const { workload, qd, path: rowPath, ...measured } = row; // the point's own fields; the rest is what was measured
      record(point, measured);
    }
  } catch (error) {
    for (const point of points) record(point, { error: error.message });
  }
}

main().catch((error) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
