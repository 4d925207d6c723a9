// The batched I/O path (see native/queue.h): stage many reads and writes, submit them with one
// crossing, get completions back in bulk. For programs that need SPDK's speed from Node; the
// Promise API on Bdev is simpler and fast enough for most.
import { SpdkError } from './errors';
import { asyncDispose } from './dispose';

export interface IoQueueOptions {
  /** Most I/Os in flight at once; also the number of slots. Default 128, at most 4096. */
  depth?: number;
  /** Bytes of DMA memory per slot: the largest I/O the queue does. Default 4096. */
  ioSize?: number;
}

/**
 * Called with each batch of completions: `slots[i]` finished with `results[i]` (0, or a negative
 * errno), for i < count. The arrays are reused: read them during the call.
 */
export type CompletionHandler = (count: number, slots: Uint32Array, results: Int32Array) => void;

/** @internal The native queue object. */
export interface NativeIoQueue {
  readonly memory: ArrayBuffer;
  submit(count: number): number;
  close(): void;
}

/** @internal */
export type NativeIoQueueConstructor = new (
  bdev: unknown, depth: number, ioSize: number, sq: Float64Array, cqSlots: Uint32Array, cqResults: Int32Array, onCompletions: (count: number) => void,
) => NativeIoQueue;

const READ = 0;
const WRITE = 1;

/**
 * An I/O queue on an open bdev. Each slot owns `ioSize` bytes of DMA memory (`buffer(slot)`):
 * write data there before `prepWrite`, read it there after a read completes.
 *
 * ```ts
 * const q = bdev.createQueue({ depth: 128 });
 * q.onCompletions = (n, slots, results) => { for (let i = 0; i < n; i++) q.prepRead(slots[i], nextOffset()); q.submit(); };
 * for (let s = 0; s < q.depth; s++) q.prepRead(s, nextOffset());
 * q.submit();
 * ```
 */
export class IoQueue implements AsyncDisposable {
  readonly depth: number;
  readonly ioSize: number;
  /** Called with every batch of completions. */
  onCompletions: CompletionHandler | null = null;
  readonly #native: NativeIoQueue;
  readonly #sq: Float64Array;
  readonly #cqSlots: Uint32Array;
  readonly #cqResults: Int32Array;
  readonly #busy: Uint8Array;
  readonly #memory: Buffer;
  readonly #blockSize: number;
  readonly #sizeBytes: number;
  #staged = 0;
  #inflight = 0;
  #closed = false;
  #drained: Array<() => void> = [];

  /** @internal Use `bdev.createQueue()`. */
  constructor(ctor: NativeIoQueueConstructor, nativeBdev: unknown, blockSize: number, sizeBytes: number, options: IoQueueOptions = {}) {
    const depth = options.depth ?? 128;
    const ioSize = options.ioSize ?? 4096;
    if (!Number.isInteger(depth) || depth < 1 || depth > 4096) throw new RangeError(`createQueue: depth must be an integer from 1 to 4096, got ${String(depth)}`);
    if (!Number.isInteger(ioSize) || ioSize < blockSize || ioSize % blockSize !== 0 || ioSize > 1 << 20) {
      throw new RangeError(`createQueue: ioSize must be a multiple of the block size (${blockSize}) up to 1 MiB, got ${String(ioSize)}`);
    }
    this.depth = depth;
    this.ioSize = ioSize;
    this.#blockSize = blockSize;
    this.#sizeBytes = sizeBytes;
    this.#sq = new Float64Array(depth * 4);
    this.#cqSlots = new Uint32Array(depth);
    this.#cqResults = new Int32Array(depth);
    this.#busy = new Uint8Array(depth);
    this.#native = new ctor(nativeBdev, depth, ioSize, this.#sq, this.#cqSlots, this.#cqResults, (count) => this.#complete(count));
    this.#memory = Buffer.from(this.#native.memory);
  }

  /** The DMA memory of a slot (ioSize bytes). Empty once SPDK has stopped. */
  buffer(slot: number): Buffer {
    this.#checkSlot(slot);
    return this.#memory.subarray(slot * this.ioSize, (slot + 1) * this.ioSize);
  }

  /** I/Os submitted and not yet completed. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Stage a read of `length` bytes at `offset` into the slot's buffer. */
  prepRead(slot: number, offset: number, length: number = this.ioSize): void {
    this.#prep(READ, slot, offset, length);
  }

  /** Stage a write of the first `length` bytes of the slot's buffer to `offset`. */
  prepWrite(slot: number, offset: number, length: number = this.ioSize): void {
    this.#prep(WRITE, slot, offset, length);
  }

  /** Submits everything staged with one crossing into SPDK. Returns how many. */
  submit(): number {
    const n = this.#staged;
    if (n === 0) return 0;
    this.#staged = 0;
    this.#inflight += n;
    return this.#native.submit(n);
  }

  /** Resolves once nothing is in flight. */
  drain(): Promise<void> {
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Stops accepting I/O and resolves when what is in flight has completed. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#staged = 0;
      this.#native.close();
    }
    await this.drain();
  }

  [asyncDispose](): Promise<void> {
    return this.close();
  }

  #prep(op: number, slot: number, offset: number, length: number): void {
    if (this.#closed) throw new SpdkError('the queue is closed', { operation: 'queue.prep', errno: 9 });
    this.#checkSlot(slot);
    if (this.#busy[slot] !== 0) throw new RangeError(`queue: slot ${slot} already has an I/O staged or in flight`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset % this.#blockSize !== 0) {
      throw new RangeError(`queue: offset ${String(offset)} is not a non-negative multiple of the block size (${this.#blockSize})`);
    }
    if (!Number.isInteger(length) || length <= 0 || length > this.ioSize || length % this.#blockSize !== 0) {
      throw new RangeError(`queue: length ${String(length)} must be a positive multiple of the block size up to ioSize (${this.ioSize})`);
    }
    if (offset + length > this.#sizeBytes) throw new RangeError(`queue: ${length} bytes at offset ${offset} run past the end of the bdev`);
    const row = this.#staged * 4;
    this.#sq[row] = op;
    this.#sq[row + 1] = slot;
    this.#sq[row + 2] = offset;
    this.#sq[row + 3] = length;
    this.#busy[slot] = 1;
    this.#staged++;
  }

  #checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.depth) throw new RangeError(`queue: slot must be an integer from 0 to ${this.depth - 1}, got ${String(slot)}`);
  }

  #complete(count: number): void {
    for (let i = 0; i < count; i++) this.#busy[this.#cqSlots[i]!] = 0;
    this.#inflight -= count;
    this.onCompletions?.(count, this.#cqSlots, this.#cqResults);
    if (this.#inflight === 0 && this.#drained.length > 0) {
      const waiters = this.#drained;
      this.#drained = [];
      for (const w of waiters) w();
    }
  }
}
