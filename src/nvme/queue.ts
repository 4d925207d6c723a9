// The batched path on an NVMe namespace: a RingQueue (src/io/queue.ts) whose rows carry LBAs and
// whose device submits the commands on one I/O queue pair (native/nvme/nvme_ring.cc).
import { OP_COMPARE, OP_READ, OP_WRITE, type NativeIoRingConstructor } from '../io/ring';
import { RingQueue, type IoQueueOptions } from '../io/queue';

/**
 * A queue of reads, writes and compares on a namespace, through one I/O queue pair, shaped like
 * the bdev IoQueue: each slot owns `ioSize` bytes of DMA memory (`buffer(slot)`); stage with
 * `prepRead`/`prepWrite`, `submit()` all staged with one crossing, and get completions in
 * batches in `onCompletions`. A result is 0, a negative errno (-6 ENXIO: the connection was
 * lost, -110 ETIMEDOUT: the controller failed on a timeout, -9 EBADF: the queue pair was freed
 * or the controller detached), or the NVMe status the controller answered with: `sct << 8 | sc`
 * (an LBA past the end is 0x80, LBA_OUT_OF_RANGE). Completions are reaped on SPDK's thread by
 * the queue pair's poller, which stops while nothing is in flight.
 *
 * ```ts
 * const q = ns.createQueue(qp, { depth: 128 });
 * q.onCompletions = (n, slots, results) => { for (let i = 0; i < n; i++) q.prepRead(slots[i], nextLba()); q.submit(); };
 * for (let s = 0; s < q.depth; s++) q.prepRead(s, nextLba());
 * q.submit();
 * ```
 */
export class NvmeQueue extends RingQueue {
  readonly #blockSize: number;
  readonly #maxBlocks: number;

  /** @internal Use `ns.createQueue()`. */
  constructor(ctor: NativeIoRingConstructor, device: unknown, owner: object, blockSize: number, maxTransferSize: number, options: IoQueueOptions = {}) {
    super('ns.createQueue', ctor, device, blockSize, options, owner);
    if (this.ioSize > maxTransferSize) {
      // Closing gives nothing back to SPDK yet (nothing was submitted); the memory goes with GC.
      void this.close();
      throw new RangeError(`ns.createQueue: ioSize ${this.ioSize} is more than the controller's maximum transfer size (${maxTransferSize})`);
    }
    this.#blockSize = blockSize;
    this.#maxBlocks = this.ioSize / blockSize;
  }

  /** @internal Nothing to do: every command ends by the queue pair's command timeout (ETIMEDOUT) at the latest. */
  protected closeOverdue(): Promise<void> {
    return Promise.resolve();
  }

  /** Blocks a slot holds (ioSize / block size): the default count. */
  get blocksPerSlot(): number {
    return this.#maxBlocks;
  }

  /** Stage a read of `count` blocks at `lba` into the slot's buffer. */
  prepRead(slot: number, lba: number, count: number = this.#maxBlocks): void {
    this.#prep(OP_READ, slot, lba, count);
  }

  /** Stage a write of the slot's first `count` blocks to `lba`. */
  prepWrite(slot: number, lba: number, count: number = this.#maxBlocks): void {
    this.#prep(OP_WRITE, slot, lba, count);
  }

  /** Stage a compare of the slot's first `count` blocks with those at `lba` (a mismatch: status 0x285, COMPARE_FAILURE). */
  prepCompare(slot: number, lba: number, count: number = this.#maxBlocks): void {
    this.#prep(OP_COMPARE, slot, lba, count);
  }

  #prep(op: number, slot: number, lba: number, count: number): void {
    if (!Number.isSafeInteger(lba) || lba < 0) throw new RangeError(`queue: lba ${String(lba)} is not a non-negative integer`);
    if (!Number.isInteger(count) || count < 1 || count > this.#maxBlocks) {
      throw new RangeError(`queue: count ${String(count)} must be a whole number of blocks from 1 to ${this.#maxBlocks} (ioSize / block size)`);
    }
    this.stage(op, slot, lba, count * this.#blockSize);
  }
}
