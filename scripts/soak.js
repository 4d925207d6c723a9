#!/usr/bin/env node
// Soak: mixed random reads and writes of stamped 4 KiB units (scripts/soak/stamp.js) on three
// bdevs at once: malloc, an aio file, and an NVMe-oF namespace (bdev_nvme over TCP on loopback to
// SPDK's spdk_tgt in a child process on core 0). Each bdev runs Promise chains and an IoQueue
// together; every read is verified against the generation last acknowledged, and everything is
// read back at the end. Every epoch the bdevs are closed and reopened, and the queue depth, the
// number of chains and the I/O sizes change.
//
//   npm run soak -- --minutes N     how long (default 1)
//   --report-every S                seconds between report lines (default: minutes >= 5 ? 60 : 10)
//   --epoch S                       seconds between close/reopen (default 20)
//   --dir DIR                       where the aio bdev's 64 MiB file goes (default: the OS tmpdir)
//   --json FILE                     also write the report as JSON
//   --rss-growth-mb MB              the bound on RSS growth from the first report to the last (default 64)
//   --dma-growth-mb MB              the bound on DPDK heap growth, likewise (default 16)
//
// Prints a line per report: elapsed, IOPS per bdev, errors, mismatches, RSS, DPDK heap in use;
// then a summary. Exits 1 on any error, any mismatch, or growth beyond the bounds.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { performance } = require('node:perf_hooks');
const { Spdk } = require('..');
const { StampedBdev, UNIT } = require('./soak/load');
const nvmf = require('./bench/nvmf');

const DEVICE_MIB = 64;
const UNITS = (DEVICE_MIB << 20) / UNIT;

function options() {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '1' },
      'report-every': { type: 'string' },
      epoch: { type: 'string', default: '20' },
      dir: { type: 'string', default: os.tmpdir() },
      json: { type: 'string' },
      'rss-growth-mb': { type: 'string', default: '64' },
      'dma-growth-mb': { type: 'string', default: '16' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(1).filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n');
    process.exit(0);
  }
  const number = (name, min, max) => {
    const v = Number(values[name]);
    if (!(v >= min && v <= max)) throw new RangeError(`--${name} must be a number from ${min} to ${max}, got ${values[name]}`);
    return v;
  };
  const minutes = number('minutes', 0.05, 24 * 60);
  return {
    minutes,
    reportEveryS: values['report-every'] === undefined ? (minutes >= 5 ? 60 : 10) : number('report-every', 1, 3600),
    epochS: number('epoch', 2, 3600),
    dir: values.dir,
    json: values.json,
    rssGrowthMb: number('rss-growth-mb', 1, 1 << 20),
    dmaGrowthMb: number('dma-growth-mb', 1, 1 << 20),
  };
}


/** DPDK's heap in use (all sockets), from env_dpdk_get_mem_stats' dump; null if unreadable. */
async function dpdkHeapBytes(spdk) {
  try {
    const result = await spdk.rpc.call('env_dpdk_get_mem_stats');
    const text = fs.readFileSync(result.filename, 'utf8');
    let total = 0;
    let found = false;
    for (const m of text.matchAll(/^\s*Alloc_size:(\d+)/gm)) {
      total += Number(m[1]);
      found = true;
    }
    return found ? total : null;
  } catch {
    return null;
  }
}

const mb = (bytes) => (bytes === null ? 'n/a' : `${(bytes / (1 << 20)).toFixed(1)} MiB`);

async function main() {
  const opt = options();
  const missing = nvmf.available();
  if (missing !== null) throw new Error(missing);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spdk-node-soak-'));
  const file = path.join(opt.dir, `spdk-node-soak-${process.pid}.img`);
  fs.writeFileSync(file, Buffer.alloc(0));
  fs.truncateSync(file, DEVICE_MIB << 20);
  // spdk_tgt on core 0 exporting a malloc bdev over NVMe/TCP on loopback (the bench's target).
  const target = await nvmf.startTarget(tmp, { interruptMode: false, bdev: { method: 'bdev_malloc_create', params: { name: 'SoakTarget', num_blocks: UNITS * 8, block_size: 512 } } });
  const spdk = await Spdk.start({
    logLevel: 'error',
    config: {
      subsystems: [{
        subsystem: 'bdev',
        config: [
          { method: 'bdev_malloc_create', params: { name: 'SoakMalloc', num_blocks: UNITS * 8, block_size: 512 } },
          { method: 'bdev_aio_create', params: { name: 'SoakAio', filename: file, block_size: 4096 } },
          { method: 'bdev_nvme_attach_controller', params: { name: 'SoakNvme', trtype: 'TCP', adrfam: 'IPv4', traddr: '127.0.0.1', trsvcid: String(target.port), subnqn: nvmf.NQN } },
        ],
      }],
    },
  });
  const names = ['SoakMalloc', 'SoakAio', 'SoakNvmen1'];
  const report = { startedAt: new Date().toISOString(), minutes: opt.minutes, bdevs: names, samples: [], epochs: 0, reopens: 0, queuesMade: 0, result: null };
  const stamped = new Map();
  const started = performance.now();
  const endAt = started + opt.minutes * 60_000;
  let lastSample = { t: 0, ios: new Map(names.map((n) => [n, 0])) };
  const sample = async () => {
    const t = (performance.now() - started) / 1000;
    const rss = process.memoryUsage().rss;
    const iops = {};
    let errors = 0;
    let mismatches = 0;
    for (const n of names) {
      const s = stamped.get(n)?.stats;
      const ios = s ? s.reads + s.writes : 0;
      iops[n] = Math.round((ios - lastSample.ios.get(n)) / Math.max(t - lastSample.t, 1e-3));
      lastSample.ios.set(n, ios);
      errors += s?.errors ?? 0;
      mismatches += s?.mismatches ?? 0;
    }
    lastSample.t = t; // before the wait below: a sample taken meanwhile counts from here
    const heap = await dpdkHeapBytes(spdk);
    const row = { t: Math.round(t), iops, errors, mismatches, rssBytes: rss, dpdkHeapBytes: heap };
    report.samples.push(row);
    console.log(`${String(row.t).padStart(6)} s  ${names.map((n) => `${n} ${String(iops[n]).padStart(6)} IOPS`).join('  ')}  errors ${errors}  mismatches ${mismatches}  rss ${mb(rss)}  dpdk heap ${mb(heap)}`);
  };
  let failure = null;
  const reporter = setInterval(() => {
    void sample();
    for (const s of stamped.values()) if (s.stats.mismatches > 0 || s.stats.errors > 0) failure ??= 'an I/O error or a mismatch (see below)';
  }, opt.reportEveryS * 1000);
  try {
    const random = Math.random;
    while (performance.now() < endAt && failure === null) {
      report.epochs++;
      const epochEnd = Math.min(endAt, performance.now() + opt.epochS * 1000);
      const running = () => performance.now() < epochEnd && failure === null;
      const loads = [];
      for (const name of names) {
        const bdev = await spdk.openBdev(name, { write: true });
        report.reopens++;
        let s = stamped.get(name);
        if (s === undefined) {
          s = new StampedBdev(bdev, { tag: names.indexOf(name) + 1, units: UNITS });
          stamped.set(name, s);
        } else {
          s.bdev = bdev; // the same device, reopened: its generations carry over
        }
        const maxUnits = 1 + Math.floor(random() * 16);
        const common = { maxUnits, writeShare: 0.3 + random() * 0.4, running };
        report.queuesMade++;
        loads.push(Promise.all([
          s.promiseLoad(spdk, { chains: 1 + Math.floor(random() * 16), ...common }),
          s.queueLoad({ depth: 1 + Math.floor(random() * 64), ...common }),
        ]).then(() => bdev.close()));
      }
      await Promise.all(loads);
    }
    clearInterval(reporter);
    // The last stretch, unless the reporter just took it (a sample of no time says nothing).
    if (performance.now() - started - lastSample.t * 1000 >= 1000 || report.samples.length === 0) await sample();
    // Everything read back once more.
    for (const name of names) {
      const bdev = await spdk.openBdev(name);
      const s = stamped.get(name);
      s.bdev = bdev;
      await s.verifyAll(spdk);
      await bdev.close();
    }
  } finally {
    clearInterval(reporter);
    await spdk.stop();
    await target.stop();
    fs.rmSync(file, { force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  // Verdict.
  const totals = { reads: 0, writes: 0, bytes: 0, errors: 0, mismatches: 0, maxLatencyMs: 0 };
  const errors = [];
  const mismatches = [];
  for (const s of stamped.values()) {
    for (const k of Object.keys(totals)) totals[k] = k === 'maxLatencyMs' ? Math.max(totals[k], s.stats[k]) : totals[k] + s.stats[k];
    errors.push(...s.errors);
    mismatches.push(...s.mismatches);
  }
  const first = report.samples[0];
  const last = report.samples[report.samples.length - 1];
  const rssGrowth = last.rssBytes - first.rssBytes;
  const heapGrowth = first.dpdkHeapBytes === null || last.dpdkHeapBytes === null ? null : last.dpdkHeapBytes - first.dpdkHeapBytes;
  const problems = [];
  if (totals.errors > 0) problems.push(`${totals.errors} I/O errors, first: ${JSON.stringify(errors.slice(0, 3))}`);
  if (totals.mismatches > 0) problems.push(`${totals.mismatches} mismatches, first: ${JSON.stringify(mismatches.slice(0, 3))}`);
  if (report.samples.length >= 2 && rssGrowth > opt.rssGrowthMb * (1 << 20)) problems.push(`RSS grew ${mb(rssGrowth)} from the first report to the last (bound ${opt.rssGrowthMb} MiB)`);
  if (report.samples.length >= 2 && heapGrowth !== null && heapGrowth > opt.dmaGrowthMb * (1 << 20)) problems.push(`DPDK heap grew ${mb(heapGrowth)} (bound ${opt.dmaGrowthMb} MiB)`);
  const seconds = (performance.now() - started) / 1000;
  report.result = { seconds: Math.round(seconds), ...totals, iops: Math.round((totals.reads + totals.writes) / seconds), rssGrowthBytes: rssGrowth, dpdkHeapGrowthBytes: heapGrowth, problems };
  console.log(`\nsoak: ${Math.round(seconds)} s, ${report.epochs} epochs (${report.reopens} bdev opens, ${report.queuesMade} queues), ${totals.reads} reads + ${totals.writes} writes verified ` +
    `(${mb(totals.bytes)}), ${report.result.iops} IOPS overall, max latency ${totals.maxLatencyMs.toFixed(1)} ms, ${totals.errors} errors, ${totals.mismatches} mismatches; ` +
    `RSS ${mb(first.rssBytes)} -> ${mb(last.rssBytes)}, DPDK heap ${mb(first.dpdkHeapBytes)} -> ${mb(last.dpdkHeapBytes)}; final read-back of ${names.length} x ${DEVICE_MIB} MiB: ${totals.mismatches === 0 ? 'clean' : 'MISMATCHES'}`);
  if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(report, null, 2));
  if (problems.length > 0) {
    console.error(`soak: FAILED\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    console.log('soak: passed');
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
