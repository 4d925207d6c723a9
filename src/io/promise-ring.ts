// The Promise APIs' I/O, on an I/O ring (src/io/ring.ts): each call takes a slot and stages a row;
// everything staged in one turn of the microtask queue is submitted with one call into native
// code, and completions settle their promises in batches. No N-API call, native object or
// promise handle per I/O. Bdev reads and writes (bdev-io.ts) and NVMe reads, writes and compares
// (nvme/io.ts) are its two users; each says how its failures read.
import { withOperation } from '../errors';
import { dmaAddressOf } from '../dma-memory';
import { OP_READ, Ring, type NativeIoRingConstructor } from './ring';

type Settle = (value: unknown) => void;
type Fail = (reason: unknown) => void;

interface Waiting {
  op: number;
  position: number;
  target: Uint8Array;
  resolve: Settle;
  reject: Fail;
}

// new Promise(capture) records the settle functions here: no closure per I/O.
let capturedResolve: Settle | undefined;
let capturedReject: Fail | undefined;
function capture(resolve: Settle, reject: Fail): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

// Rings with staged rows, flushed together at the end of the microtask queue's turn.
const unflushed = new Set<PromiseRing>();
let flushQueued = false;
// Rings with I/O submitted or staged, for settleAll().
const busy = new Set<PromiseRing>();

/** @internal Submits every ring's staged I/O now. */
export function flushAll(): void {
  flushQueued = false;
  let last: PromiseRing | undefined;
  for (const io of unflushed) {
    unflushed.delete(io);
    io.flush();
    last = io;
  }
  // Wait briefly for completions here rather than be woken for them (see Ring.poll).
  last?.poll();
}

/** @internal Submits what is staged and resolves when all Promise I/O has completed (before SPDK stops). */
export function settleAll(): Promise<void> {
  flushAll();
  return Promise.all([...busy].map((io) => io.drain())).then(() => undefined);
}

/**
 * @internal A ring of `depth` slots for Promise I/O. `position` is what the device takes in the
 * row's offset word: a byte offset for a bdev, an LBA for an NVMe namespace.
 */
export abstract class PromiseRing {
  readonly #ring: Ring;
  readonly #depth: number;
  readonly #free: Int32Array;
  #freeCount: number;
  readonly #resolve: (Settle | undefined)[];
  readonly #reject: (Fail | undefined)[];
  readonly #target: (Uint8Array | undefined)[];
  readonly #op: Uint8Array;
  readonly #position: Float64Array;
  readonly #waiting: Waiting[] = [];
  readonly #drained: (() => void)[] = [];

  constructor(ctor: NativeIoRingConstructor, nativeTarget: unknown, depth: number, spinUs: number, owner?: object) {
    this.#depth = depth;
    this.#ring = new Ring(ctor, nativeTarget, depth, 0, spinUs, false, (count, slots, results) => this.#complete(count, slots, results), owner);
    this.#free = new Int32Array(depth);
    for (let i = 0; i < depth; i++) this.#free[i] = depth - 1 - i;
    this.#freeCount = depth;
    this.#resolve = new Array<Settle | undefined>(depth).fill(undefined);
    this.#reject = new Array<Fail | undefined>(depth).fill(undefined);
    this.#target = new Array<Uint8Array | undefined>(depth).fill(undefined);
    this.#op = new Uint8Array(depth);
    this.#position = new Float64Array(depth);
  }

  /** The operation an I/O of opcode `op` is, for errors ('bdev.read', 'ns.write'...). */
  protected abstract operation(op: number): string;
  /** The error an I/O failed with: `result` is a negative errno or a positive NVMe status (see ring.h). */
  protected abstract error(op: number, position: number, length: number, result: number): Error;

  /** Starts an I/O on `target` (read into it, or write or compare it); a read resolves with `target`. */
  protected start(op: number, position: number, target: Uint8Array): Promise<unknown> {
    const promise = new Promise(capture);
    const resolve = capturedResolve!;
    const reject = capturedReject!;
    if (this.#freeCount === 0) {
      this.#waiting.push({ op, position, target, resolve, reject });
    } else {
      this.#stage(op, position, target, resolve, reject);
    }
    return promise;
  }

  /** Resolves once everything started so far has completed. */
  drain(): Promise<void> {
    this.flush();
    if (this.#ring.inflight === 0 && this.#ring.staged === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  close(): void {
    this.#ring.native.close();
  }

  poll(): void {
    this.#ring.poll();
  }

  /** Submits what is staged. A failure to submit (SPDK stopped) rejects the staged I/O. */
  flush(): void {
    const ring = this.#ring;
    const n = ring.staged;
    if (n === 0) return;
    unflushed.delete(this);
    try {
      ring.submit(this.#target);
    } catch (error) {
      for (let i = 0; i < n; i++) this.#settle(ring.stagedSlot(i), 0, error);
      ring.dropStaged();
      this.#fillFreedSlots();
      this.#checkDrained();
    }
  }

  #stage(op: number, position: number, target: Uint8Array, resolve: Settle, reject: Fail): void {
    const slot = this.#free[--this.#freeCount]!;
    this.#resolve[slot] = resolve;
    this.#reject[slot] = reject;
    this.#target[slot] = target;
    this.#op[slot] = op;
    this.#position[slot] = position;
    this.#ring.stage(op, slot, position, target.byteLength, dmaAddressOf(target));
    if (this.#ring.staged === 1) {
      unflushed.add(this);
      busy.add(this);
      if (!flushQueued) {
        flushQueued = true;
        queueMicrotask(flushAll);
      }
    }
  }

  #complete(count: number, slots: Uint32Array, results: Int32Array): void {
    for (let i = 0; i < count; i++) this.#settle(slots[i]!, results[i]!, undefined);
    this.#fillFreedSlots();
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#ring.inflight !== 0 || this.#ring.staged !== 0 || this.#waiting.length !== 0) return;
    busy.delete(this);
    if (this.#drained.length > 0) for (const done of this.#drained.splice(0)) done();
  }

  // Settles a slot's promise (with `error` if given, else by `result`) and frees the slot.
  #settle(slot: number, result: number, error: unknown): void {
    const resolve = this.#resolve[slot]!;
    const reject = this.#reject[slot]!;
    const target = this.#target[slot]!;
    this.#resolve[slot] = undefined;
    this.#reject[slot] = undefined;
    this.#target[slot] = undefined;
    this.#free[this.#freeCount++] = slot;
    const op = this.#op[slot]!;
    if (error !== undefined) {
      // A failure to submit, as the error of this I/O's own operation.
      reject(withOperation(error, this.operation(op)));
    } else if (result === 0) {
      resolve(op === OP_READ ? target : undefined);
    } else {
      reject(this.error(op, this.#position[slot]!, target.byteLength, result));
    }
  }

  #fillFreedSlots(): void {
    const waiting = this.#waiting;
    let taken = 0;
    while (taken < waiting.length && this.#freeCount > 0) {
      const w = waiting[taken++]!;
      this.#stage(w.op, w.position, w.target, w.resolve, w.reject);
    }
    if (taken > 0) waiting.splice(0, taken);
  }

  /** Slots of this ring (more concurrent I/O waits in JS for one). */
  get depth(): number {
    return this.#depth;
  }
}
