// The NVMe/TCP rows: a target in a child process (SPDK's spdk_tgt, pinned to core 0) exporting a
// null bdev on loopback, driven by SPDK's own initiator (spdk_nvme_perf, core 1) and by
// spdk-node (reactor on core 1): through the NVMe driver (target 'nvme-tcp': ns.read/write and
// the namespace queue) and through bdev_nvme over the same controller (target 'bdev-nvme-tcp':
// bdevperf, openBdev's Promise API and IoQueue).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { round } = require('./stats');

const TOOLS = '/usr/local/libexec/spdk-node';
const SPDK_TGT = path.join(TOOLS, 'spdk_tgt');
const NVME_PERF = path.join(TOOLS, 'spdk_nvme_perf');
const NQN = 'nqn.2016-06.io.spdk:bench';
const TARGET_CORE = 0;
// Ports of this bench (the other helpers' tests use other ranges); 4420, NVMe/TCP's own, last.
const PORTS = [4540, 4541, 4542, 4543, 4544, 4545, 4546, 4547, 4548, 4549, 4420];
// The null bdev's size: 1 M blocks of 4 KiB (random offsets over 4 GiB; null keeps no data).
const NUM_BLOCKS = 1 << 20;
const BLOCK_SIZE = 4096;

function available() {
  for (const tool of [SPDK_TGT, NVME_PERF]) if (!fs.existsSync(tool)) return `${tool} not found (install SPDK's tools with ./build.sh)`;
  return null;
}

function listenable(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// The bench's namespace: a null bdev (reads return at once, nothing is kept).
const NULL_BDEV = { method: 'bdev_null_create', params: { name: 'Null0', num_blocks: NUM_BLOCKS, block_size: BLOCK_SIZE } };

function targetConfig(port, bdev) {
  return {
    subsystems: [
      { subsystem: 'bdev', config: [bdev] },
      {
        subsystem: 'nvmf',
        config: [
          { method: 'nvmf_create_transport', params: { trtype: 'TCP' } },
          { method: 'nvmf_create_subsystem', params: { nqn: NQN, allow_any_host: true, serial_number: 'SPDKNODEBENCH', model_number: 'spdk-node bench target', max_namespaces: 1 } },
          { method: 'nvmf_subsystem_add_ns', params: { nqn: NQN, namespace: { bdev_name: bdev.params.name } } },
          { method: 'nvmf_subsystem_add_listener', params: { nqn: NQN, listen_address: { trtype: 'TCP', adrfam: 'IPv4', traddr: '127.0.0.1', trsvcid: String(port) } } },
        ],
      },
    ],
  };
}

/**
 * Starts spdk_tgt on core 0 (-m 0x1), without hugepages; resolves with { trid, port, core, stop() }
 * once it listens. `interruptMode`: the target's reactor sleeps when it has nothing to do, so the
 * core it shares with Node's JS thread is not taken by polling. `bdev`: the config entry of the
 * bdev it exports (default: the bench's null bdev; the soak exports a malloc bdev, which keeps data).
 */
async function startTarget(tmpDir, { interruptMode, onSpawn, bdev = NULL_BDEV }) {
  let port = null;
  for (const p of PORTS) {
    if (await listenable(p)) {
      port = p;
      break;
    }
  }
  if (port === null) throw new Error(`no free port among ${PORTS.join(', ')} for the NVMe/TCP target`);
  const config = path.join(tmpDir, 'nvmf-target.json');
  fs.writeFileSync(config, JSON.stringify(targetConfig(port, bdev)));
  const rpc = path.join(tmpDir, 'nvmf-target.sock');
  const args = ['-m', `0x${(1 << TARGET_CORE).toString(16)}`, '--json', config, '-r', rpc, '--no-huge', '-s', '1024', '--disable-cpumask-locks', '--no-pci', '--silence-noticelog', '--num-trace-entries', '0'];
  if (interruptMode) args.push('--interrupt-mode');
  const child = spawn(SPDK_TGT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  onSpawn?.(child);
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 30_000;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  for (;;) {
    if (child.exitCode !== null) throw new Error(`spdk_tgt exited with ${child.exitCode}:\n${output.trim().split('\n').slice(-8).join('\n')}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the NVMe/TCP target did not listen on port ${port} within 30 s:\n${output}`);
    }
    if (!(await listenable(port))) break; // the target listens
    await new Promise((r) => setTimeout(r, 100));
  }
  const trid = `trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:${port} subnqn:${NQN}`;
  return { trid, port, core: TARGET_CORE, interruptMode, stop, output: () => output };
}

/** SPDK JSON config of the initiator side's bdev: bdev_nvme attached to the target (bdev Nvme0n1). */
function bdevNvmeConfig(port) {
  return {
    subsystems: [
      {
        subsystem: 'bdev',
        config: [{ method: 'bdev_nvme_attach_controller', params: { name: 'Nvme0', trtype: 'TCP', adrfam: 'IPv4', traddr: '127.0.0.1', trsvcid: String(port), subnqn: NQN } }],
      },
    ],
  };
}

function parsePerf(output) {
  const total = /^\s*Total\s*:\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)/m.exec(output);
  if (total === null) return null;
  const pct = (p) => {
    const m = new RegExp(`^\\s*${p.replace('.', '\\.')}%\\s*:\\s*([\\d.]+)us`, 'm').exec(output);
    return m === null ? null : round(Number(m[1]));
  };
  return {
    iops: Math.round(Number(total[1])),
    mibps: round(Number(total[2]), 1),
    latencyUs: { p50: pct('50.00000'), p99: pct('99.00000'), mean: round(Number(total[3])) },
  };
}

/** spdk_nvme_perf on core 1 against the target: one point. */
function runNvmePerf({ trid, workload, qd, durationS, onSpawn }) {
  const seconds = Math.max(1, Math.round(durationS));
  // -L: latency percentiles (software tracking, as spdk-node's rows measure it).
  const args = ['-r', trid, '-q', String(qd), '-o', '4096', '-w', workload, '-t', String(seconds), '-c', '0x2', '-L'];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(NVME_PERF, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    onSpawn?.(child);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (output += c));
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      const result = parsePerf(output);
      if (code !== 0 || result === null) {
        reject(new Error(`spdk_nvme_perf exited with ${signal ?? code}${result === null ? ' without a result' : ''}:\n${output.trim().split('\n').slice(-8).join('\n')}`));
        return;
      }
      resolve({ ...result, cpuCores: 1, wallS: round((performance.now() - started) / 1000) });
    });
  });
}

module.exports = { available, startTarget, bdevNvmeConfig, runNvmePerf, NQN, NUM_BLOCKS, BLOCK_SIZE, TARGET_CORE };
