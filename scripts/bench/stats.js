// Latency histogram and CPU accounting shared by the benchmark workers. Cheap enough to record
// every I/O: one multiply, one array increment.
'use strict';

// Two tiers of linear buckets, 4 MB of counters: 0.1 us wide below 1 ms, 10 us wide from 1 ms to
// 10 s (1 % or better where latencies are that long). Longer ones count as 10 s.
const FINE_PER_MS = 10_000;
const COARSE_PER_MS = 100;
const FINE = FINE_PER_MS;
const BUCKETS = FINE + 9_999 * COARSE_PER_MS;

class LatencyHistogram {
  constructor() {
    this.counts = new Uint32Array(BUCKETS);
    this.n = 0;
    this.sumMs = 0;
  }

  /** Records one latency given in milliseconds (what performance.now() differences are). */
  record(ms) {
    const b = ms < 1 ? (ms > 0 ? (ms * FINE_PER_MS) | 0 : 0) : FINE + (((ms - 1) * COARSE_PER_MS) | 0);
    this.counts[b < BUCKETS ? b : BUCKETS - 1]++;
    this.n++;
    this.sumMs += ms;
  }

  /** { p50, p99, mean } in microseconds (bucket midpoints), or nulls when nothing was recorded. */
  summaryUs() {
    if (this.n === 0) return { p50: null, p99: null, mean: null, samples: 0 };
    return { p50: this.percentileUs(50), p99: this.percentileUs(99), mean: round((this.sumMs / this.n) * 1000), samples: this.n };
  }

  percentileUs(p) {
    const rank = Math.ceil((p / 100) * this.n);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b];
      if (seen >= rank) return round((b < FINE ? (b + 0.5) / FINE_PER_MS : 1 + (b - FINE + 0.5) / COARSE_PER_MS) * 1000);
    }
    return null;
  }
}

/** Process CPU time (all threads) between two process.cpuUsage() readings, in cores. */
function cpuCores(before, after, wallS) {
  return round((after.user - before.user + after.system - before.system) / 1e6 / wallS, 3);
}

function round(x, digits = 2) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A result record's derived fields from raw counts. */
function rates(ops, wallS, ioSize) {
  const iops = ops / wallS;
  return { iops: Math.round(iops), mibps: round((iops * ioSize) / 2 ** 20, 1) };
}

module.exports = { LatencyHistogram, cpuCores, rates, round };
