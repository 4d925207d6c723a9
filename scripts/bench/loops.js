// The I/O loops the benchmark times: N concurrent awaits (the Promise API, Node's fs.promises)
// and a completion-driven IoQueue (the batched API). Each runs a warm-up, then a measured window;
// counts, latency and CPU are taken over the window only.
'use strict';
const { performance } = require('node:perf_hooks');
const { LatencyHistogram, cpuCores, rates } = require('./stats');

const WARMUP = 0;
const MEASURE = 1;
const STOP = 2;

/** Drives state.phase through warm-up and the measured window; resolves with the window's wall time and CPU. */
function timeWindow(state, warmupS, durationS) {
  return new Promise((resolve) => {
    setTimeout(() => {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      state.phase = MEASURE;
      setTimeout(() => {
        state.phase = STOP;
        const wallS = (performance.now() - t0) / 1000;
        resolve({ wallS, cpuCores: cpuCores(cpu0, process.cpuUsage(), wallS) });
      }, durationS * 1000);
    }, warmupS * 1000);
  });
}

/**
 * `qd` chains, each awaiting `op(offset, chain)` in a loop: what an application that awaits each
 * I/O does. Latency is sampled (1 in 8 at QD >= 8) so the clock reads cost little.
 */
async function awaitLoop({ qd, blocks, blockSize, ioSize, warmupS, durationS, op }) {
  const hist = new LatencyHistogram();
  const sampleEvery = qd >= 8 ? 8 : 1;
  const state = { phase: WARMUP, ops: 0 };
  async function chain(slot) {
    let k = slot;
    while (state.phase !== STOP) {
      const offset = ((Math.random() * blocks) | 0) * blockSize;
      if (state.phase === MEASURE) {
        if (++k % sampleEvery === 0) {
          const t0 = performance.now();
          await op(offset, slot);
          hist.record(performance.now() - t0);
        } else {
          await op(offset, slot);
        }
        state.ops++;
      } else {
        await op(offset, slot);
      }
    }
  }
  const chains = [];
  for (let s = 0; s < qd; s++) chains.push(chain(s));
  const settled = Promise.all(chains);
  // A failing I/O ends the run at once rather than after the window.
  const window = await Promise.race([timeWindow(state, warmupS, durationS), settled.then(() => null)]);
  state.phase = STOP;
  await settled;
  return { ...rates(state.ops, window.wallS, ioSize), latencyUs: hist.summaryUs(), cpuCores: window.cpuCores, wallS: window.wallS };
}

/**
 * An IoQueue kept full: each completion batch re-stages its slots and submits them with one call.
 * Latency per I/O from the clock read when its batch was staged to the one when its completion
 * batch arrived: two clock reads per batch, not per I/O.
 */
async function queueLoop({ bdev, createQueue, position, qd, write, blocks, blockSize, ioSize, warmupS, durationS, spinUs }) {
  // A bdev's IoQueue takes byte offsets; a namespace queue (createQueue, position) takes LBAs.
  const o = { depth: qd, ioSize, spinUs };
  const q = createQueue !== undefined ? createQueue(o) : bdev.createQueue(o);
  const at = position ?? ((block) => block * blockSize);
  const hist = new LatencyHistogram();
  const staged = new Float64Array(qd);
  const state = { phase: WARMUP, ops: 0 };
  let failed = null;
  const prep = write ? (slot, offset) => q.prepWrite(slot, offset) : (slot, offset) => q.prepRead(slot, offset);
  q.onCompletions = (n, slots, results) => {
    const now = performance.now();
    const measuring = state.phase === MEASURE;
    const more = state.phase !== STOP && failed === null;
    for (let i = 0; i < n; i++) {
      const slot = slots[i];
      if (results[i] !== 0) failed ??= new Error(`I/O on slot ${slot} failed with errno ${-results[i]}`);
      if (measuring) hist.record(now - staged[slot]);
      if (more) {
        staged[slot] = now;
        prep(slot, at((Math.random() * blocks) | 0));
      }
    }
    if (measuring) state.ops += n;
    q.submit();
  };
  const start = performance.now();
  for (let s = 0; s < qd; s++) {
    staged[s] = start;
    prep(s, at((Math.random() * blocks) | 0));
  }
  q.submit();
  const window = await timeWindow(state, warmupS, durationS);
  await q.close();
  if (failed !== null) throw failed;
  return { ...rates(state.ops, window.wallS, ioSize), latencyUs: hist.summaryUs(), cpuCores: window.cpuCores, wallS: window.wallS };
}

module.exports = { awaitLoop, queueLoop };
