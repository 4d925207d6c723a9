// The batched I/O path (on an I/O ring, src/io/ring.ts and native/io/ring.h): stage many reads and writes, submit them with one
// crossing, get completions back in bulk. For programs that need SPDK's speed from Node; the
// Promise APIs are simpler and fast enough for most. RingQueue is the mechanism, shared by the
// bdev queue (IoQueue, here) and the NVMe namespace queue (NvmeQueue, nvme/queue.ts), which
// differ only in how an I/O's place is given (byte offset or LBA) and checked.
import { SpdkError } from '../errors';
import { asyncDispose } from '../dispose';
import type { NativeBdev } from '../addon';
import { drainWithinGrace, resetOverdueBdev } from './close-grace';
import { checkSpinUs, OP_READ, OP_WRITE, Ring, type NativeIoRingConstructor } from './ring';

/** Options of a queue: `bdev.createQueue()` and `ns.createQueue()`. */
export interface IoQueueOptions {
  /** Most I/Os in flight at once; also the number of slots. Default 128, at most 4096. */
  depth?: number;
  /** Bytes of DMA memory per slot: the largest I/O the queue does. Default 4096. */
  ioSize?: number;
  /**
   * With I/O in flight, how long the JS thread busy-waits for the next completions before it
   * sleeps until SPDK wakes it, in microseconds. Waking costs both sides several microseconds, so
   * a fast device goes about three times as fast with the default (50); 0 never spins. At most
   * 1 ms of completions is handled in one go, so timers and other I/O still run.
   */
  spinUs?: number;
}

/**
 * Called with each batch of completions: `slots[i]` finished with `results[i]` for i < count.
 * A result is 0, a negative errno (-5 EIO, -9 EBADF, -19 ENODEV, -6 ENXIO: the connection to an
 * NVMe controller was lost...), or for an NVMe device that failed the command, its positive NVMe
 * status: `sct << 8 | sc` (nvmeStatusNames() names it).
 * The arrays are reused: read them during the call.
 */
export type CompletionHandler = (count: number, slots: Uint32Array, results: Int32Array) => void;

// Queues not yet closed, so that stop() can let their I/O in flight complete first.
const openQueues = new Set<RingQueue>();
let stopping = false;

/**
 * @internal For stop(): from now on queues refuse new submissions (ESHUTDOWN), and this resolves
 * once every queue's I/O in flight has completed and been delivered to its onCompletions.
 */
export function settleQueues(): Promise<void> {
  stopping = true;
  const queues = [...openQueues];
  openQueues.clear(); // SPDK is going: nothing to wait for at the next stop
  return Promise.all(queues.map((q) => q.drain())).then(() => undefined);
}

/** @internal For a new instance after stop(). */
export function allowQueues(): void {
  stopping = false;
}

/**
 * The slots, DMA memory, submission and completion handling of a queue; IoQueue and NvmeQueue
 * add the prep methods of their device.
 */
export abstract class RingQueue implements AsyncDisposable {
  readonly depth: number;
  readonly ioSize: number;
  /** Called with every batch of completions. */
  onCompletions: CompletionHandler | null = null;
  readonly #ring: Ring;
  readonly #busy: Uint8Array;
  readonly #memory: Buffer;
  #closed = false;
  #drained: Array<() => void> = [];

  /** @internal `where`: the API that makes it (for errors); `blockSize`: ioSize is a multiple of it. */
  constructor(where: string, ctor: NativeIoRingConstructor, nativeTarget: unknown, blockSize: number, options: IoQueueOptions = {}, owner?: object) {
    const depth = options.depth ?? 128;
    const ioSize = options.ioSize ?? Math.max(4096, blockSize);
    if (!Number.isInteger(depth) || depth < 1 || depth > 4096) throw new RangeError(`${where}: depth must be an integer from 1 to 4096, got ${String(depth)}`);
    if (!Number.isInteger(ioSize) || ioSize < blockSize || ioSize % blockSize !== 0 || ioSize > 1 << 20) {
      throw new RangeError(`${where}: ioSize must be a multiple of the block size (${blockSize}) up to 1 MiB, got ${String(ioSize)}`);
    }
    const spinUs = checkSpinUs(where, options.spinUs);
    this.depth = depth;
    this.ioSize = ioSize;
    this.#busy = new Uint8Array(depth);
    this.#ring = new Ring(ctor, nativeTarget, depth, ioSize, spinUs, true, (count, slots, results) => this.#complete(count, slots, results), owner);
    this.#memory = Buffer.from(this.#ring.native.memory!);
    openQueues.add(this);
  }

  /** The DMA memory of a slot (ioSize bytes). Empty once SPDK has stopped. */
  buffer(slot: number): Buffer {
    this.#checkSlot(slot);
    // stop() took the memory back (its ArrayBuffer is detached: every view is empty).
    if (this.#memory.length === 0) return Buffer.alloc(0);
    return this.#memory.subarray(slot * this.ioSize, (slot + 1) * this.ioSize);
  }

  /** I/Os submitted and not yet completed. */
  get inflight(): number {
    return this.#ring.inflight;
  }

  /**
   * Submits everything staged with one crossing into SPDK. Returns how many. Once stop() has begun
   * it throws SpdkError ESHUTDOWN (stop() waits for what is in flight, not for new I/O).
   */
  submit(): number {
    const ring = this.#ring;
    const n = ring.staged;
    try {
      if (stopping && n > 0) throw new SpdkError('SPDK is stopping: the queue takes no new I/O (what was in flight completes)', { operation: 'queue.submit', errno: 108 });
      return ring.submit();
    } catch (error) {
      // Nothing was submitted: the staged slots are free again.
      for (let i = 0; i < n; i++) this.#busy[ring.stagedSlot(i)] = 0;
      throw error;
    }
  }

  /** Resolves once nothing is in flight. */
  drain(): Promise<void> {
    if (this.#ring.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Stops accepting I/O and resolves when what is in flight has completed. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (let i = 0; i < this.#ring.staged; i++) this.#busy[this.#ring.stagedSlot(i)] = 0;
      this.#ring.dropStaged();
      this.#ring.native.close();
    }
    await drainWithinGrace(this.drain(), () => this.closeOverdue());
    openQueues.delete(this);
  }

  /** @internal close() waited CLOSE_GRACE_MS for the device: abort what it holds (close-grace.ts). */
  protected abstract closeOverdue(): Promise<void>;

  [asyncDispose](): Promise<void> {
    return this.close();
  }

  /** @internal Stages an I/O whose place and length the subclass has checked (see ring.h). */
  protected stage(op: number, slot: number, position: number, length: number): void {
    if (this.#closed) throw new SpdkError('the queue is closed', { operation: 'queue.prep', errno: 9 });
    this.#checkSlot(slot);
    if (this.#busy[slot] !== 0) throw new RangeError(`queue: slot ${slot} already has an I/O staged or in flight`);
    this.#ring.stage(op, slot, position, length, 0);
    this.#busy[slot] = 1;
  }

  #checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.depth) throw new RangeError(`queue: slot must be an integer from 0 to ${this.depth - 1}, got ${String(slot)}`);
  }

  #complete(count: number, slots: Uint32Array, results: Int32Array): void {
    const busy = this.#busy;
    for (let i = 0; i < count; i++) {
      busy[slots[i]!] = 0;
      // The ring marks NVMe's Do Not Retry above the status (ring.h); results are sct << 8 | sc.
      const r = results[i]!;
      if (r > 0x7ff) results[i] = r & 0x7ff;
    }
    this.onCompletions?.(count, slots, results);
    if (this.#ring.inflight === 0 && this.#drained.length > 0) {
      const waiters = this.#drained;
      this.#drained = [];
      for (const w of waiters) w();
    }
  }
}

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
export class IoQueue extends RingQueue {
  readonly #blockSize: number;
  readonly #sizeBytes: number;

  readonly #nativeBdev: NativeBdev;

  /** @internal Use `bdev.createQueue()`. */
  constructor(ctor: NativeIoRingConstructor, nativeBdev: NativeBdev, blockSize: number, sizeBytes: number, options: IoQueueOptions = {}) {
    super('createQueue', ctor, nativeBdev, blockSize, options);
    this.#blockSize = blockSize;
    this.#sizeBytes = sizeBytes;
    this.#nativeBdev = nativeBdev;
  }

  /** @internal A reset of the bdev aborts what its module holds. */
  protected closeOverdue(): Promise<void> {
    return resetOverdueBdev(`IoQueue on bdev '${this.#nativeBdev.name}'`, this.#nativeBdev);
  }

  /** Stage a read of `length` bytes at `offset` into the slot's buffer. */
  prepRead(slot: number, offset: number, length: number = this.ioSize): void {
    this.#prep(OP_READ, slot, offset, length);
  }

  /** Stage a write of the first `length` bytes of the slot's buffer to `offset`. */
  prepWrite(slot: number, offset: number, length: number = this.ioSize): void {
    this.#prep(OP_WRITE, slot, offset, length);
  }

  #prep(op: number, slot: number, offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset % this.#blockSize !== 0) {
      throw new RangeError(`queue: offset ${String(offset)} is not a non-negative multiple of the block size (${this.#blockSize})`);
    }
    if (!Number.isInteger(length) || length <= 0 || length > this.ioSize || length % this.#blockSize !== 0) {
      throw new RangeError(`queue: length ${String(length)} must be a positive multiple of the block size up to ioSize (${this.ioSize})`);
    }
    if (offset + length > this.#sizeBytes) throw new RangeError(`queue: ${length} bytes at offset ${offset} run past the end of the bdev`);
    this.stage(op, slot, offset, length);
  }
}
