// Stamped load on one bdev: random reads and writes of whole 4 KiB units (scripts/soak/stamp.js)
// through the Promise API and an IoQueue at once, never two I/Os on one unit at a time, every
// read verified against the generation last acknowledged. A write that failed leaves its units
// at either generation (the device may or may not have it): both are accepted until the unit is
// next read or written. Used by the soak (scripts/soak.js) and the fault tests.
'use strict';
const { performance } = require('node:perf_hooks');
const { UNIT, stamp, verify } = require('./stamp');

class StampedBdev {
  /** bdev: an open, writable spdk-node Bdev; units: how many 4 KiB units of it to use, from unit 0. */
  constructor(bdev, { tag, units, random = Math.random }) {
    if (bdev.blockSize > UNIT || UNIT % bdev.blockSize !== 0) throw new RangeError(`${bdev.name}: block size ${bdev.blockSize} does not divide ${UNIT}`);
    this.bdev = bdev;
    this.tag = tag;
    this.units = Math.min(units, Math.floor(bdev.sizeBytes / UNIT));
    this.random = random;
    this.generation = new Uint32Array(this.units); // last acknowledged
    this.uncertain = new Uint32Array(this.units); // a failed write's generation, also accepted (0: none)
    this.busy = new Uint8Array(this.units);
    this.stats = { reads: 0, writes: 0, bytes: 0, errors: 0, mismatches: 0, maxLatencyMs: 0 };
    this.errors = []; // the first few
    this.mismatches = []; // every one (there must be none)
  }

  /** Reserves `count` consecutive free units from a random start; -1 when it finds none quickly. */
  reserve(count) {
    for (let attempt = 0; attempt < 8; attempt++) {
      const start = Math.floor(this.random() * (this.units - count + 1));
      let free = true;
      for (let u = start; u < start + count; u++) if (this.busy[u]) { free = false; break; }
      if (!free) continue;
      for (let u = start; u < start + count; u++) this.busy[u] = 1;
      return start;
    }
    return -1;
  }

  release(start, count) {
    for (let u = start; u < start + count; u++) this.busy[u] = 0;
  }

  /** Fills `view` with the next generation of units start..start+count-1; returns the generations. */
  prepareWrite(view, start, count) {
    const gens = [];
    for (let i = 0; i < count; i++) {
      const g = Math.max(this.generation[start + i], this.uncertain[start + i]) + 1;
      stamp(view, i, start + i, g, this.tag);
      gens.push(g);
    }
    return gens;
  }

  /** A write of start.. ended with `error` (or none). */
  wrote(start, gens, error, latencyMs) {
    this.#ended(latencyMs);
    this.stats.writes++;
    this.stats.bytes += gens.length * UNIT;
    for (let i = 0; i < gens.length; i++) {
      if (error) this.uncertain[start + i] = gens[i];
      else {
        this.generation[start + i] = gens[i];
        this.uncertain[start + i] = 0;
      }
    }
    if (error) this.#error('write', start, gens.length, error);
  }

  /** A read of start..start+count-1 into `view` ended with `error` (or none): verify it. */
  read(view, start, count, error, latencyMs) {
    this.#ended(latencyMs);
    this.stats.reads++;
    if (error) {
      this.#error('read', start, count, error);
      return;
    }
    this.stats.bytes += count * UNIT;
    for (let i = 0; i < count; i++) this.check(view, i, start + i, 'read');
  }

  /** Verifies the `at`-th unit of `view` is unit `unit` as last written; settles an uncertain unit. */
  check(view, at, unit, where) {
    const expected = this.generation[unit];
    let problem = verify(view, at, unit, expected, this.tag);
    if (problem !== null && this.uncertain[unit] !== 0 && verify(view, at, unit, this.uncertain[unit], this.tag) === null) {
      this.generation[unit] = this.uncertain[unit]; // the failed write did reach the device
      problem = null;
    }
    if (problem === null) {
      this.uncertain[unit] = 0;
      return true;
    }
    this.stats.mismatches++;
    this.mismatches.push({ bdev: this.bdev.name, unit, expected, where, problem });
    return false;
  }

  #ended(latencyMs) {
    if (latencyMs > this.stats.maxLatencyMs) this.stats.maxLatencyMs = latencyMs;
  }

  #error(op, start, count, error) {
    this.stats.errors++;
    if (this.errors.length < 20) this.errors.push({ bdev: this.bdev.name, op, unit: start, count, message: String(error && error.message), code: error && error.code });
  }

  /**
   * `chains` concurrent Promise chains of reads and writes of 1..maxUnits units (writeShare of
   * them writes) on `spdk.allocBuffer` memory, until `running()` is false.
   */
  async promiseLoad(spdk, { chains, maxUnits, writeShare, running }) {
    const chain = async () => {
      const buffer = spdk.allocBuffer(maxUnits * UNIT);
      while (running()) {
        const count = 1 + Math.floor(this.random() * maxUnits);
        const start = this.reserve(count);
        if (start < 0) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        const view = buffer.subarray(0, count * UNIT);
        const t0 = performance.now();
        if (this.random() < writeShare) {
          const gens = this.prepareWrite(view, start, count);
          let error = null;
          try {
            await this.bdev.write(start * UNIT, view);
          } catch (e) {
            error = e;
          }
          this.wrote(start, gens, error, performance.now() - t0);
        } else {
          let error = null;
          try {
            await this.bdev.read(start * UNIT, view);
          } catch (e) {
            error = e;
          }
          this.read(view, start, count, error, performance.now() - t0);
        }
        this.release(start, count);
      }
    };
    await Promise.all(Array.from({ length: chains }, chain));
  }

  /**
   * One IoQueue of `depth` slots of maxUnits units, kept full until `running()` is false, then
   * drained and closed.
   */
  async queueLoad({ depth, maxUnits, writeShare, running }) {
    const q = this.bdev.createQueue({ depth, ioSize: maxUnits * UNIT });
    const inSlot = new Array(depth);
    const stage = (slot) => {
      const count = 1 + Math.floor(this.random() * maxUnits);
      const start = this.reserve(count);
      if (start < 0) return false;
      const view = q.buffer(slot).subarray(0, count * UNIT);
      const write = this.random() < writeShare;
      inSlot[slot] = { start, count, write, gens: write ? this.prepareWrite(view, start, count) : null, t0: performance.now() };
      if (write) q.prepWrite(slot, start * UNIT, count * UNIT);
      else q.prepRead(slot, start * UNIT, count * UNIT);
      return true;
    };
    const idle = [];
    let done;
    const finished = new Promise((resolve) => (done = resolve));
    const refill = () => {
      let staged = 0;
      while (idle.length > 0 && running()) {
        const slot = idle.pop();
        if (!stage(slot)) {
          idle.push(slot);
          break;
        }
        staged++;
      }
      if (staged > 0) q.submit();
      if (q.inflight === 0) {
        if (running()) setImmediate(refill); // every unit was busy: try again shortly
        else done();
      }
    };
    q.onCompletions = (count, slots, results) => {
      for (let i = 0; i < count; i++) {
        const slot = slots[i];
        const io = inSlot[slot];
        const result = results[i];
        const error = result === 0 ? null : Object.assign(new Error(`queue result ${result}`), { code: result });
        const latency = performance.now() - io.t0;
        if (io.write) this.wrote(io.start, io.gens, error, latency);
        else this.read(q.buffer(slot).subarray(0, io.count * UNIT), io.start, io.count, error, latency);
        this.release(io.start, io.count);
        idle.push(slot);
      }
      refill();
    };
    for (let s = 0; s < depth; s++) idle.push(s);
    refill();
    await finished;
    await q.close();
  }

  /** Reads every unit back (`chunkUnits` at a time) and verifies it; returns the mismatches found. */
  async verifyAll(spdk, chunkUnits = 64) {
    const before = this.mismatches.length;
    const buffer = spdk.allocBuffer(chunkUnits * UNIT);
    for (let start = 0; start < this.units; start += chunkUnits) {
      const count = Math.min(chunkUnits, this.units - start);
      const view = buffer.subarray(0, count * UNIT);
      await this.bdev.read(start * UNIT, view);
      for (let i = 0; i < count; i++) this.check(view, i, start + i, 'final read-back');
    }
    return this.mismatches.slice(before);
  }
}

module.exports = { StampedBdev, UNIT };
