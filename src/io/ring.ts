// The JavaScript half of an I/O ring (native/io/ring.h): stages rows, submits them with one call,
// and reads completions from memory the app thread writes, waking only when it was asleep. Both
// the batched API (IoQueue) and the Promise API (Bdev.read/write) run on it.
//
// Spinning: with I/O in flight, the JS thread looks for completions for up to spinUs before it
// arms the wake-up flag and returns to the event loop. A wake-up costs SPDK's reactor a system
// call and this thread a trip through the kernel's scheduler, several microseconds each; SPDK
// completes a fast device's I/O in less. Measured here (4 KiB randread, QD 128, batched): null
// bdev 2.1-2.6 M IOPS without spinning, 6-8 M with it; a file in tmpfs through the aio bdev
// 299 K with 20 us, 346 K with 50 us (SPDK must make a system call per I/O there).
// No spinning on the core SPDK's app thread polls on: there it only delays the completions it waits
// for (native/io/ring.h, "Sharing a core").
import { performance } from 'node:perf_hooks';

/** The addon's I/O ring object (not public API; its type is published because the addon's is). */
export interface NativeIoRing {
  /** depth x [opcode, slot, offset (bytes, or an NVMe LBA), length, DMA address or 0] rows, read by submit(). */
  readonly rows: ArrayBuffer;
  /** Tail, armed flag and (slot, result) entries, written by SPDK's app thread. */
  readonly completions: ArrayBuffer;
  /** depth x slotBytes of DMA memory, when the ring was made with slotBytes > 0. */
  readonly memory?: ArrayBuffer;
  /** depth bytes, when the ring was made without slot memory: 1 where a read into an ordinary Buffer awaits reap(). */
  readonly bounced?: ArrayBuffer;
  submit(count: number, targets?: readonly (Uint8Array | undefined)[]): void;
  /** Copies completed reads of ordinary Buffers into them (a detached Buffer's result becomes -EINVAL). */
  reap(count: number, slots: Uint32Array, results: Int32Array, targets: readonly (Uint8Array | undefined)[]): void;
  idle(): void;
  close(): void;
}

/** The addon's IoRing class (not public API; see NativeIoRing). `device`: a native bdev, or a device a native queue pair made (`owner`). */
export type NativeIoRingConstructor = new (device: unknown, depth: number, slotBytes: number, onWake: () => void, owner?: object) => NativeIoRing;

export const OP_READ = 0;
export const OP_WRITE = 1;
/** NVMe namespaces only. */
export const OP_COMPARE = 2;

// Words per submission row (native/io/ring.cc).
const ROW = 5;
// Word offsets in the completion memory (native/io/ring.h).
const TAIL = 0;
const ARMED = 16;
const SAME_CORE = 17;
const HEAD = 18;
const ENTRY = 32;

// Longest the JS thread consumes completions in one go before the event loop gets its turn: a
// consumer that submits as it consumes can keep a fast device busy forever, and timers and other
// I/O must still run.
const TURN_MS = 1;

/** @internal */
export const DEFAULT_SPIN_US = 50;
const MAX_SPIN_US = 10_000;

/** @internal Checks a spinUs option (where: the API that took it). */
export function checkSpinUs(where: string, value: unknown): number {
  if (value === undefined) return DEFAULT_SPIN_US;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_SPIN_US) {
    throw new RangeError(`${where}: spinUs must be a number of microseconds from 0 to ${MAX_SPIN_US}, got ${String(value)}`);
  }
  return value;
}

/**
 * Receives completions: slots[i] finished with results[i], for i < count. Called on the JS
 * thread, never re-entered; the arrays are reused.
 */
export type RingConsumer = (count: number, slots: Uint32Array, results: Int32Array) => void;

/** @internal */
export class Ring {
  readonly native: NativeIoRing;
  readonly depth: number;
  /** Staged rows (written by stage(), consumed by submit()). */
  staged = 0;
  /** Submitted and not yet consumed. */
  inflight = 0;
  readonly #rows: Float64Array;
  readonly #ctl: Int32Array;
  readonly #mask: number;
  readonly #consume: RingConsumer;
  // Each batch of completions, copied out of the ring in order for the consumer.
  readonly #slots: Uint32Array;
  readonly #results: Int32Array;
  // Reads into ordinary Buffers are copied into them on this thread (native reap()), after the
  // app thread completed them into DMA memory: the Buffer may have been detached meanwhile.
  readonly #bounced: Uint8Array | undefined;
  #targets: readonly (Uint8Array | undefined)[] | undefined;
  #head = 0;
  #holding = false;
  #idleCheckQueued = false;
  #yielded = false;
  readonly #spinUs: number;
  // Spin while draining (IoQueue: its consumer submits synchronously) or only in poll() (the
  // Promise path: the awaits that submit more run after the drain, as microtasks).
  readonly #spinInDrain: boolean;
  #chainStart = -1;

  /** `device`: a native bdev, or a device made by a native queue pair (`owner`, kept alive as long as the ring). */
  constructor(ctor: NativeIoRingConstructor, device: unknown, depth: number, slotBytes: number, spinUs: number, spinInDrain: boolean, consume: RingConsumer, owner?: object) {
    this.depth = depth;
    this.#consume = consume;
    this.#spinUs = spinUs;
    this.#spinInDrain = spinInDrain;
    this.native = new ctor(device, depth, slotBytes, () => this.#wake(), owner);
    this.#rows = new Float64Array(this.native.rows);
    this.#ctl = new Int32Array(this.native.completions);
    this.#mask = (this.#ctl.length - ENTRY) / 2 - 1;
    // At most `depth` completions are ever unread (native/io/ring.h), so a batch fits.
    this.#slots = new Uint32Array(depth);
    this.#results = new Int32Array(depth);
    this.#bounced = this.native.bounced === undefined ? undefined : new Uint8Array(this.native.bounced);
  }

  /** Stages a row; `address` is the DMA address of the data (see dma-memory.ts), or 0. */
  stage(op: number, slot: number, offset: number, length: number, address: number): void {
    const r = this.staged * ROW;
    const rows = this.#rows;
    rows[r] = op;
    rows[r + 1] = slot;
    rows[r + 2] = offset;
    rows[r + 3] = length;
    rows[r + 4] = address;
    this.staged++;
  }

  /**
   * Submits the staged rows. On a throw (SPDK not running, ring closed) nothing was submitted
   * and the staged rows are dropped: the caller still owns their slots.
   */
  submit(targets?: readonly (Uint8Array | undefined)[]): number {
    const n = this.staged;
    if (n === 0) return 0;
    this.staged = 0;
    this.native.submit(n, targets);
    this.#targets = targets;
    this.inflight += n;
    this.#holding = true;
    return n;
  }

  /**
   * Forgets the staged rows (their caller gives back their slots). With nothing in flight, the
   * ring then lets Node exit: rows staged after the last completion kept it from doing so.
   */
  dropStaged(): void {
    this.staged = 0;
    if (this.inflight === 0 && this.#holding && !this.#idleCheckQueued) {
      this.#idleCheckQueued = true;
      queueMicrotask(this.#idleCheck);
    }
  }

  /** The staged row `i`'s slot (for a caller that must give back slots after a failed submit). */
  stagedSlot(i: number): number {
    return this.#rows[i * ROW + 1]!;
  }

  /**
   * Promise path, after a submit: if I/O is in flight, look for completions for up to spinUs
   * and consume them here, so that their awaits resume without SPDK having to wake this thread.
   * At most TURN_MS of this in a row, then the event loop gets its turn.
   */
  poll(): void {
    if (this.inflight === 0 || this.#spinUs === 0 || this.#sharesAppCore()) return;
    const now = performance.now();
    if (this.#chainStart < 0) {
      // Polling chains through microtasks; it ends when the event loop gets its turn again.
      this.#chainStart = now;
      setImmediate(this.#endChain);
    } else if (now - this.#chainStart > TURN_MS) {
      return; // armed, or an immediate is due: the event loop runs first
    }
    // Awake and looking: the app thread need not wake us (a wake-up already on its way is harmless).
    Atomics.store(this.#ctl, ARMED, 0);
    // Spin only until the first completions: their awaits, which submit more, run after this.
    this.#drain(true, now, true);
  }

  readonly #endChain = (): void => {
    this.#chainStart = -1;
  };

  #wake(): void {
    this.#drain(this.#spinInDrain, performance.now(), false);
  }

  // Consumes completions until there are none (spinning up to spinUs for more when `spin`, and
  // only before the first when `untilFound`), then arms the flag. Yields to the event loop after
  // TURN_MS.
  #drain(spin: boolean, start: number, untilFound: boolean): void {
    const ctl = this.#ctl;
    let failure: unknown;
    let failed = false;
    for (;;) {
      let tail = Atomics.load(ctl, TAIL);
      if (tail === this.#head && spin && this.inflight > 0 && !this.#sharesAppCore()) tail = this.#spin(start);
      if (tail === this.#head) {
        // Arm, then look once more: either the app thread sees the flag or this sees its tail.
        // The head first: the app thread wakes this thread only for completions it has not read.
        Atomics.store(ctl, HEAD, this.#head);
        Atomics.store(ctl, ARMED, 1);
        tail = Atomics.load(ctl, TAIL);
        if (tail === this.#head) break;
        // More arrived: take them now. If the app thread took the flag too, its wake-up finds
        // nothing, which is harmless.
        Atomics.store(ctl, ARMED, 0);
      }
      if (performance.now() - start > TURN_MS) {
        // Not armed, so the app thread will not wake us: come back after the event loop's turn.
        if (!this.#yielded) {
          this.#yielded = true;
          setImmediate(this.#resume);
        }
        break;
      }
      const head = this.#head;
      const count = (tail - head) | 0;
      this.#head = tail;
      this.inflight -= count;
      if (untilFound) spin = false;
      const slots = this.#slots;
      const results = this.#results;
      for (let i = 0; i < count; i++) {
        const e = ENTRY + 2 * ((head + i) & this.#mask);
        slots[i] = ctl[e]!;
        results[i] = ctl[e + 1]!;
      }
      const bounced = this.#bounced;
      if (bounced !== undefined) {
        for (let i = 0; i < count; i++) {
          if (bounced[slots[i]!] !== 0) {
            this.native.reap(count, slots, results, this.#targets!);
            break;
          }
        }
      }
      try {
        this.#consume(count, slots, results);
      } catch (error) {
        // Keep draining (the ring must stay armed); report the first failure afterwards.
        if (!failed) {
          failed = true;
          failure = error;
        }
      }
    }
    if (this.inflight === 0 && this.#holding && !this.#idleCheckQueued) {
      // After this batch's promise reactions, which may submit more: only then let go.
      this.#idleCheckQueued = true;
      queueMicrotask(this.#idleCheck);
    }
    if (failed) throw failure;
  }

  // This thread last submitted from the core SPDK's app thread polls on: spinning there would only
  // keep the app thread from completing what it waits for (native/io/ring.h, "Sharing a core").
  #sharesAppCore(): boolean {
    return Atomics.load(this.#ctl, SAME_CORE) !== 0;
  }

  // Busy-waits up to spinUs (and within the turn) for the tail to move; returns the tail.
  #spin(start: number): number {
    const ctl = this.#ctl;
    const head = this.#head;
    const until = Math.min(performance.now() + this.#spinUs / 1000, start + TURN_MS);
    for (;;) {
      for (let i = 0; i < 64; i++) {
        const tail = Atomics.load(ctl, TAIL);
        if (tail !== head) return tail;
      }
      if (performance.now() > until) return head;
    }
  }

  readonly #resume = (): void => {
    this.#yielded = false;
    this.#wake();
  };

  readonly #idleCheck = (): void => {
    this.#idleCheckQueued = false;
    if (this.inflight === 0 && this.staged === 0 && this.#holding) {
      this.#holding = false;
      this.native.idle();
    }
  };
}
