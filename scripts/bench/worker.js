// One benchmark phase in its own process (SPDK starts once per process and cannot restart):
//   node scripts/bench/worker.js '<json job>'
// Prints one JSON line per measured point on stdout: {"type":"result",...} or {"type":"error",...}.
// Jobs (built by scripts/bench.js):
//   { kind: 'spdk', path: 'promise'|'promise-buf'|'batch', target, file?, points: [{ id, workload, qd }], warmupS, durationS }
//   { kind: 'nvme', path: 'promise'|'batch', target: 'nvme-tcp', trid, points, warmupS, durationS }
//   { kind: 'fs', direct: boolean, file, points, warmupS, durationS }
//   { kind: 'idle', interruptMode: boolean, settleS, measureS }
'use strict';
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const { spdkConfig, TARGETS, BLOCK_SIZE } = require('./targets');
const { awaitLoop, queueLoop } = require('./loops');
const { cpuCores } = require('./stats');
const { bdevNvmeConfig } = require('./nvmf');

const IO_SIZE = 4096;

function emit(record) {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

function loadSpdk() {
  // The package itself (lib/, compiled by `npm run build:ts`).
  return require('../..').Spdk;
}

/** Which libspdk_fat this process actually mapped (SPDK_FAT_LIB may point at another). */
function mappedLibrary() {
  const line = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').find((l) => l.includes('libspdk_fat'));
  return line === undefined ? null : line.slice(line.indexOf('/'));
}

async function runSpdk(job) {
  const Spdk = loadSpdk();
  const target = TARGETS[job.target];
  const config = job.target === 'bdev-nvme-tcp' ? bdevNvmeConfig(job.nvmfPort) : spdkConfig(job.target, job.file);
  const spdk = await Spdk.start({ cpuMask: '[1]', logLevel: 'error', config });
  try {
    const bdev = await spdk.openBdev(target.bdev, { write: true, spinUs: job.spinUs });
    const blocks = Math.floor(bdev.sizeBytes / BLOCK_SIZE);
    for (const point of job.points) {
      const write = point.workload === 'randwrite';
      const common = { qd: point.qd, blocks, blockSize: BLOCK_SIZE, ioSize: IO_SIZE, warmupS: job.warmupS, durationS: job.durationS, spinUs: job.spinUs };
      let result;
      if (job.path === 'batch') {
        result = await queueLoop({ ...common, bdev, write });
      } else {
        // 'promise': DMA memory from allocBuffer (zero copy); 'promise-buf': plain Buffers (bounced).
        const bufs = [];
        for (let s = 0; s < point.qd; s++) bufs.push(job.path === 'promise' ? spdk.allocBuffer(IO_SIZE) : Buffer.alloc(IO_SIZE));
        const op = write ? (offset, slot) => bdev.write(offset, bufs[slot]) : (offset, slot) => bdev.read(offset, bufs[slot]);
        result = await awaitLoop({ ...common, op });
      }
      emit({ type: 'result', id: point.id, ...result });
    }
    await bdev.close();
  } finally {
    await spdk.stop();
  }
}

/** The NVMe driver over NVMe/TCP: ns.read/write (Promise) or the namespace queue (batch). */
async function runNvme(job) {
  const Spdk = loadSpdk();
  const spdk = await Spdk.start({ cpuMask: '[1]', logLevel: 'error' });
  try {
    const ctrlr = await spdk.nvme.connect(job.trid);
    const qp = await ctrlr.allocIoQpair({ depth: ctrlr.maxQueueDepth, spinUs: job.spinUs });
    const ns = ctrlr.namespaces()[0];
    if (ns.blockSize !== BLOCK_SIZE) throw new Error(`the target's namespace has ${ns.blockSize}-byte blocks, not ${BLOCK_SIZE}`);
    const blocks = ns.numSectors;
    for (const point of job.points) {
      const write = point.workload === 'randwrite';
      const common = { qd: point.qd, blocks, blockSize: BLOCK_SIZE, ioSize: IO_SIZE, warmupS: job.warmupS, durationS: job.durationS, spinUs: job.spinUs };
      let result;
      if (job.path === 'batch') {
        result = await queueLoop({ ...common, write, createQueue: (o) => ns.createQueue(qp, o), position: (block) => block });
      } else {
        const bufs = [];
        for (let s = 0; s < point.qd; s++) bufs.push(spdk.allocBuffer(IO_SIZE));
        const op = write ? (offset, slot) => ns.write(qp, offset / BLOCK_SIZE, bufs[slot]) : (offset, slot) => ns.read(qp, offset / BLOCK_SIZE, bufs[slot]);
        result = await awaitLoop({ ...common, op });
      }
      emit({ type: 'result', id: point.id, ...result });
    }
    await qp.free();
    await ctrlr.detach();
  } finally {
    await spdk.stop();
  }
}

/**
 * Buffers for O_DIRECT I/O: the address must be aligned to the device's logical block size, and
 * JavaScript cannot see addresses, so probe: the offset into a larger buffer at which a direct
 * read stops failing with EINVAL is aligned.
 */
async function alignedBuffers(fh, count) {
  const arena = Buffer.alloc((count + 1) * IO_SIZE);
  for (let shift = 0; shift < IO_SIZE; shift += 16) {
    try {
      await fh.read(arena, shift, IO_SIZE, 0);
    } catch (error) {
      if (error.code === 'EINVAL') continue;
      throw error;
    }
    const bufs = [];
    for (let s = 0; s < count; s++) bufs.push(arena.subarray(shift + s * IO_SIZE, shift + (s + 1) * IO_SIZE));
    return bufs;
  }
  throw new Error('no buffer alignment works for O_DIRECT on this file');
}

async function runFs(job) {
  const flags = fs.constants.O_RDWR | (job.direct ? fs.constants.O_DIRECT : 0);
  const fh = await fs.promises.open(job.file, flags);
  try {
    const blocks = Math.floor((await fh.stat()).size / BLOCK_SIZE);
    if (!job.direct) {
      // Warm the page cache: buffered reads then measure memory, as the baseline did.
      const chunk = Buffer.alloc(1 << 20);
      for (let pos = 0; pos < blocks * BLOCK_SIZE; pos += chunk.length) await fh.read(chunk, 0, chunk.length, pos);
    }
    for (const point of job.points) {
      const write = point.workload === 'randwrite';
      const bufs = job.direct ? await alignedBuffers(fh, point.qd) : Array.from({ length: point.qd }, () => Buffer.alloc(IO_SIZE));
      const op = write ? (offset, slot) => fh.write(bufs[slot], 0, IO_SIZE, offset) : (offset, slot) => fh.read(bufs[slot], 0, IO_SIZE, offset);
      const result = await awaitLoop({ qd: point.qd, blocks, blockSize: BLOCK_SIZE, ioSize: IO_SIZE, warmupS: job.warmupS, durationS: job.durationS, op });
      emit({ type: 'result', id: point.id, ...result });
    }
  } finally {
    await fh.close();
  }
}

async function runIdle(job) {
  const Spdk = loadSpdk();
  const warnings = [];
  process.on('warning', (w) => warnings.push(w.message));
  const spdk = await Spdk.start({ cpuMask: '[1]', logLevel: 'error', interruptMode: job.interruptMode });
  try {
    await sleep(job.settleS * 1000);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await sleep(job.measureS * 1000);
    const wallS = (performance.now() - t0) / 1000;
    emit({ type: 'result', id: job.points[0].id, cpuCores: cpuCores(cpu0, process.cpuUsage(), wallS), wallS, libraryPath: mappedLibrary(), warnings });
  } finally {
    await spdk.stop();
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main() {
  const job = JSON.parse(process.argv[2] ?? 'null');
  if (job === null) throw new Error("usage: node scripts/bench/worker.js '<json job>'");
  const run = { spdk: runSpdk, nvme: runNvme, fs: runFs, idle: runIdle }[job.kind];
  if (run === undefined) throw new Error(`unknown job kind '${job.kind}'`);
  await run(job);
}

main().catch((error) => {
  emit({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  process.exitCode = 1;
});
