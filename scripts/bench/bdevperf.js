// Native baseline: SPDK's own bdevperf on the same bdev config, reactor on core 1 like
// spdk-node's. One process per point (bdevperf runs one queue depth and workload per start).
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { spdkConfig } = require('./targets');
const { round } = require('./stats');

const BDEVPERF = '/usr/local/libexec/spdk-node/bdevperf';

function available() {
  return fs.existsSync(BDEVPERF) ? null : `${BDEVPERF} not found (install SPDK's tools with ./build.sh)`;
}

function clockTicks() {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}
const TICKS = clockTicks();

/** utime + stime of a process (all its threads), in seconds; null once it has gone. */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS; // fields 14 and 15 of stat(5)
  } catch {
    return null;
  }
}

function parse(output) {
  const total = /^\s*Total\s*:\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)/m.exec(output);
  if (total === null) return null;
  const pct = (p) => {
    const m = new RegExp(`^\\s*${p.replace('.', '\\.')}%\\s*:\\s*([\\d.]+)us`, 'm').exec(output);
    return m === null ? null : round(Number(m[1]));
  };
  return {
    iops: Math.round(Number(total[1])),
    mibps: round(Number(total[2]), 1),
    failedPerS: Number(total[3]),
    latencyUs: { p50: pct('50.00000'), p99: pct('99.00000'), mean: round(Number(total[5])) },
  };
}

/**
 * Runs one point. CPU is sampled from /proc over the middle 80 % of the run (after bdevperf says
 * it is running I/O), so start-up and shutdown do not count; stdout is line-buffered (stdbuf) to
 * see that line when it is printed.
 */
function runBdevperf({ target, file, config: spdkJson, workload, qd, durationS, tmpDir, onSpawn }) {
  const seconds = Math.max(1, Math.round(durationS));
  const config = path.join(tmpDir, `bdevperf-${target}.json`);
  fs.writeFileSync(config, JSON.stringify(spdkJson ?? spdkConfig(target, file)));
  const args = ['-oL', BDEVPERF, '--json', config, '-q', String(qd), '-o', '4096', '-w', workload, '-t', String(seconds), '-m', '0x2', '--no-rpc-server', '-l'];
  return new Promise((resolve, reject) => {
    const child = spawn('stdbuf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    onSpawn?.(child);
    let output = '';
    let sampled = false;
    const samples = [];
    const timers = [];
    const onData = (chunk) => {
      output += chunk;
      if (!sampled && output.includes('Running I/O for')) {
        sampled = true;
        for (const at of [0.1, 0.9]) {
          timers.push(setTimeout(() => samples.push({ t: performance.now(), cpu: cpuSeconds(child.pid) }), at * seconds * 1000));
        }
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      for (const t of timers) clearTimeout(t);
      const result = parse(output);
      if (code !== 0 || result === null) {
        const tail = output.trim().split('\n').slice(-8).join('\n');
        reject(new Error(`bdevperf exited with ${signal ?? code}${result === null ? ' without a result' : ''}:\n${tail}`));
        return;
      }
      const [a, b] = samples;
      const cpuCores = a !== undefined && b !== undefined && a.cpu !== null && b.cpu !== null ? round((b.cpu - a.cpu) / ((b.t - a.t) / 1000), 3) : null;
      resolve({ ...result, cpuCores, wallS: seconds });
    });
  });
}

function makeTmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'spdk-node-bench-'));
}

module.exports = { runBdevperf, available, makeTmpDir };
