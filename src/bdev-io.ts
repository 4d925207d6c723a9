// The Promise API's reads and writes, on an I/O ring (src/ring.ts): each call takes a slot and
// stages a row; everything staged in one turn of the microtask queue is submitted with one call
// into native code, and completions settle their promises in batches. No N-API call, native
// object or promise handle per I/O.
import { NvmeError, SpdkError, withOperation } from './errors';
import { nvmeStatusNames } from './nvme/status';
import { dmaAddressOf } from './dma-memory';
import { OP_READ, OP_WRITE, Ring, type NativeIoRingConstructor } from './ring';

// Slots per bdev. More concurrent I/O than this waits in JS for a slot.
const DEPTH = 1024;

type Settle = (value: unknown) => void;
type Fail = (reason: unknown) => void;

interface Waiting {
  op: number;
  offset: number;
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
const unflushed = new Set<BdevIo>();
let flushQueued = false;
// Rings with I/O submitted or staged, for settle().
const busy = new Set<BdevIo>();

/** @internal Submits every ring's staged I/O now. */
export function flushAll(): void {
  flushQueued = false;
  let last: BdevIo | undefined;
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

/** @internal */
export class BdevIo {
  readonly #ring: Ring;
  readonly #name: string;
  readonly #free: Int32Array;
  #freeCount: number;
  readonly #resolve: (Settle | undefined)[];
  readonly #reject: (Fail | undefined)[];
  readonly #target: (Uint8Array | undefined)[];
  readonly #op: Uint8Array;
  readonly #offset: Float64Array;
  readonly #waiting: Waiting[] = [];
  readonly #drained: (() => void)[] = [];

  constructor(ctor: NativeIoRingConstructor, nativeBdev: unknown, name: string, spinUs: number) {
    this.#name = name;
    this.#ring = new Ring(ctor, nativeBdev, DEPTH, 0, spinUs, false, (count, slots, results) => this.#complete(count, slots, results));
    this.#free = new Int32Array(DEPTH);
    for (let i = 0; i < DEPTH; i++) this.#free[i] = DEPTH - 1 - i;
    this.#freeCount = DEPTH;
    this.#resolve = new Array<Settle | undefined>(DEPTH).fill(undefined);
    this.#reject = new Array<Fail | undefined>(DEPTH).fill(undefined);
    this.#target = new Array<Uint8Array | undefined>(DEPTH).fill(undefined);
    this.#op = new Uint8Array(DEPTH);
    this.#offset = new Float64Array(DEPTH);
  }

  /** Reads target.byteLength bytes at offset into target; resolves with target. Arguments checked by Bdev. */
  read<T extends Uint8Array>(offset: number, target: T): Promise<T> {
    return this.#start(OP_READ, offset, target) as Promise<T>;
  }

  write(offset: number, source: Uint8Array): Promise<void> {
    return this.#start(OP_WRITE, offset, source) as Promise<void>;
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
    try {
      ring.submit(this.#target);
    } catch (error) {
      for (let i = 0; i < n; i++) this.#settle(ring.stagedSlot(i), 0, error);
      ring.dropStaged();
      this.#fillFreedSlots();
      this.#checkDrained();
    }
  }

  #start(op: number, offset: number, target: Uint8Array): Promise<unknown> {
    const promise = new Promise(capture);
    const resolve = capturedResolve!;
    const reject = capturedReject!;
    if (this.#freeCount === 0) {
      this.#waiting.push({ op, offset, target, resolve, reject });
    } else {
      this.#stage(op, offset, target, resolve, reject);
    }
    return promise;
  }

  #stage(op: number, offset: number, target: Uint8Array, resolve: Settle, reject: Fail): void {
    const slot = this.#free[--this.#freeCount]!;
    this.#resolve[slot] = resolve;
    this.#reject[slot] = reject;
    this.#target[slot] = target;
    this.#op[slot] = op;
    this.#offset[slot] = offset;
    this.#ring.stage(op, slot, offset, target.byteLength, dmaAddressOf(target));
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
    if (error !== undefined) {
      reject(this.#rename(error, this.#op[slot]!));
    } else if (result === 0) {
      resolve(this.#op[slot] === OP_READ ? target : undefined);
    } else {
      reject(this.#error(this.#op[slot]!, this.#offset[slot]!, target.byteLength, result));
    }
  }

  #fillFreedSlots(): void {
    const waiting = this.#waiting;
    let taken = 0;
    while (taken < waiting.length && this.#freeCount > 0) {
      const w = waiting[taken++]!;
      this.#stage(w.op, w.offset, w.target, w.resolve, w.reject);
    }
    if (taken > 0) waiting.splice(0, taken);
  }

  #error(op: number, offset: number, length: number, result: number): Error {
    const operation = op === OP_READ ? 'bdev.read' : 'bdev.write';
    if (result > 0) {
      const sct = (result >> 8) & 0xff;
      const sc = result & 0xff;
      return new NvmeError(operation, { sct, sc, ...nvmeStatusNames(sct, sc) });
    }
    const what =
      result === -9 ? `bdev '${this.#name}' is closed`
      : result === -19 ? `bdev '${this.#name}' was removed`
      : result === -22 ? `the Buffer of this ${op === OP_READ ? 'read' : 'write'} was detached or shrank (transferred, resized) before the I/O was done with it`
      : `${op === OP_READ ? 'read' : 'write'} of ${length} bytes at offset ${offset} on '${this.#name}' failed: ${bdevFailure(result)}`;
    return new SpdkError(what, { operation, errno: -result });
  }

  // A failure to submit, as the error of this I/O's own operation.
  #rename(error: unknown, op: number): unknown {
    return withOperation(error, op === OP_READ ? 'bdev.read' : 'bdev.write');
  }
}

// What a bdev's failure means, for the errnos native/bdev.cc's FailureOf() reports.
function bdevFailure(result: number): string {
  switch (result) {
    case -5: return 'the bdev reported an I/O error';
    case -12: return 'out of memory (a DMA bounce buffer or an SPDK request)';
    case -125: return 'the I/O was aborted';
    case -84: return 'the data did not match (miscompare)';
    default: return `the bdev failed it (errno ${-result})`;
  }
}
