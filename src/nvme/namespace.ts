// A namespace of an NVMe controller, and the NVM commands on it. LBAs and counts are in logical
// blocks. Arguments are checked here; failures come back as rejected promises, never throws:
// NvmeError when the controller answered with an error status (an LBA past the end of the
// namespace is LBA_OUT_OF_RANGE: the controller, not this layer, knows the namespace's size),
// SpdkError when the command never got an answer (ENXIO: the connection was lost).
import { addon } from '../addon';
import { SpdkError, withOperation } from '../errors';
import type { IoQueueOptions } from '../io/queue';
import { OP_COMPARE, OP_READ, OP_WRITE } from '../io/ring';
import { bytes, describe, integer } from './check';
import type { NvmeController } from './controller';
import { NativeIoKind, type NativeNvmeNamespace, type NativeNvmeQpair } from './native';
import { IoQpair } from './qpair';
import { NvmeQueue } from './queue';

/** A range of logical blocks, for deallocate(). */
export interface LbaRange {
  lba: number;
  /** Number of blocks, 1 to 2^32 - 1. */
  count: number;
}

// NLB is a 16-bit, 0's based field; Dataset Management takes up to 256 ranges.
const MAX_BLOCKS_PER_COMMAND = 65536;
const MAX_DSM_RANGES = 256;
const MAX_DSM_RANGE_BLOCKS = 0xffffffff;

export class NvmeNamespace {
  readonly controller: NvmeController;
  /** Namespace ID (1 and up). */
  readonly id: number;
  /** Size in logical blocks. */
  readonly numSectors: number;
  /** Data bytes per logical block. */
  readonly sectorSize: number;
  /** Bytes per logical block including metadata interleaved with the data (extended LBA), else equal to sectorSize. */
  readonly extendedSectorSize: number;
  /** Metadata bytes per logical block (0: none). */
  readonly metadataSize: number;
  /** Metadata is transferred interleaved with the data (so buffers hold extendedSectorSize per block). */
  readonly extendedLba: boolean;
  /** End-to-end protection information type (0: none). */
  readonly protectionInfoType: number;
  /** Size in bytes (numSectors × sectorSize). */
  readonly sizeBytes: number;
  /** Largest transfer of one command, bytes. */
  readonly maxTransferSize: number;
  /** Optimal I/O boundary, blocks (0: none reported). */
  readonly optimalIoBoundary: number;
  readonly supportsCompare: boolean;
  /** Namespace UUID, or null where the namespace has none. */
  readonly uuid: string | null;
  /** Namespace globally unique identifier (hex), or null. */
  readonly nguid: string | null;
  /** IEEE extended unique identifier (hex), or null. */
  readonly eui64: string | null;

  /** @internal Use `controller.namespaces()`. */
  constructor(controller: NvmeController, info: NativeNvmeNamespace) {
    this.controller = controller;
    this.id = info.id;
    this.numSectors = info.numSectors;
    this.sectorSize = info.sectorSize;
    this.extendedSectorSize = info.extendedSectorSize;
    this.metadataSize = info.metadataSize;
    this.extendedLba = info.extendedLba;
    this.protectionInfoType = info.protectionInfoType;
    this.sizeBytes = info.numSectors * info.sectorSize;
    this.maxTransferSize = info.maxTransferSize;
    this.optimalIoBoundary = info.optimalIoBoundary;
    this.supportsCompare = info.supportsCompare;
    this.uuid = info.uuid;
    this.nguid = info.nguid;
    this.eui64 = info.eui64;
  }

  /** Bytes one logical block takes in a data buffer. */
  get blockSize(): number {
    return this.extendedLba ? this.extendedSectorSize : this.sectorSize;
  }

  /** Reads `count` blocks at `lba` into a new Buffer, or fills `into` (a whole number of blocks). */
  read(qp: IoQpair, lba: number, count: number): Promise<Buffer>;
  read<T extends Uint8Array>(qp: IoQpair, lba: number, into: T): Promise<T>;
  read(qp: IoQpair, lba: number, countOrInto: number | Uint8Array): Promise<Uint8Array> {
    return this.#run('read', qp, (native) => {
      let target: Uint8Array;
      if (typeof countOrInto === 'number') {
        const count = this.#count('read', countOrInto, true);
        target = Buffer.allocUnsafe(count * this.blockSize);
      } else if (countOrInto instanceof Uint8Array) {
        target = countOrInto;
      } else {
        throw new TypeError(`ns.read: the third argument must be a block count or a Buffer/Uint8Array to read into, got ${describe(countOrInto)}`);
      }
      const at = this.#lba('read', lba);
      this.#blocksOf('read', target);
      return this.#ring('read', qp).io(OP_READ, at, target) as Promise<Uint8Array>;
    });
  }

  /** Writes all of `data` (a whole number of blocks) at `lba`. Do not change `data` until the promise settles. */
  write(qp: IoQpair, lba: number, data: Uint8Array): Promise<void> {
    return this.#transfer('write', OP_WRITE, qp, lba, data);
  }

  /** Compares `data` with the blocks at `lba`; a mismatch rejects with NvmeError COMPARE_FAILURE. */
  compare(qp: IoQpair, lba: number, data: Uint8Array): Promise<void> {
    return this.#transfer('compare', OP_COMPARE, qp, lba, data);
  }

  /**
   * A batched queue of reads, writes and compares on this namespace through `qp` (see NvmeQueue):
   * `depth` slots of `ioSize` bytes of DMA memory each (default 128 slots of 4096 bytes, or one
   * block if blocks are larger). Close it before freeing the queue pair.
   */
  createQueue(qp: IoQpair, options: IoQueueOptions = {}): NvmeQueue {
    this.#check('createQueue', qp);
    const o = options as unknown;
    if (o === null || typeof o !== 'object') throw new TypeError(`ns.createQueue: options must be an object, got ${describe(o)}`);
    try {
      return new NvmeQueue(addon().IoRing, qp.native.ringDevice(this.id, this.blockSize), qp.native, this.blockSize, this.maxTransferSize, options);
    } catch (error) {
      throw withOperation(error, 'ns.createQueue');
    }
  }

  /** Writes zeroes to `count` blocks at `lba` without transferring data. */
  writeZeroes(qp: IoQpair, lba: number, count: number): Promise<void> {
    return this.#run('writeZeroes', qp, (native) =>
      native.io(NativeIoKind.WriteZeroes, this.id, this.#lba('writeZeroes', lba), this.#count('writeZeroes', count, false)) as Promise<unknown> as Promise<void>,
    );
  }

  /** Deallocates (TRIMs) the given ranges: one Dataset Management command, up to 256 ranges. */
  deallocate(qp: IoQpair, ranges: readonly LbaRange[]): Promise<void> {
    return this.#run('deallocate', qp, (native) => {
      if (!Array.isArray(ranges)) throw new TypeError(`ns.deallocate: ranges must be an array of { lba, count }, got ${describe(ranges)}`);
      if (ranges.length === 0 || ranges.length > MAX_DSM_RANGES) {
        throw new RangeError(`ns.deallocate: between 1 and ${MAX_DSM_RANGES} ranges per command, got ${ranges.length}`);
      }
      const encoded = Buffer.alloc(16 * ranges.length);
      ranges.forEach((r, i) => {
        if (r === null || typeof r !== 'object') throw new TypeError(`ns.deallocate: ranges[${i}] must be { lba, count }, got ${describe(r)}`);
        const count = integer('ns.deallocate', `ranges[${i}].count`, r.count, 1, MAX_DSM_RANGE_BLOCKS);
        // struct spdk_nvme_dsm_range: context attributes, length in blocks, starting LBA.
        encoded.writeUInt32LE(0, 16 * i);
        encoded.writeUInt32LE(count, 16 * i + 4);
        encoded.writeBigUInt64LE(BigInt(this.#lba('deallocate', r.lba)), 16 * i + 8);
      });
      return native.deallocate(this.id, encoded);
    });
  }

  /** Makes data in the controller's volatile write cache durable. */
  flush(qp: IoQpair): Promise<void> {
    return this.#run('flush', qp, (native) => native.io(NativeIoKind.Flush, this.id, 0, 0) as Promise<unknown> as Promise<void>);
  }

  #transfer(op: string, code: number, qp: IoQpair, lba: number, data: Uint8Array): Promise<void> {
    return this.#run(op, qp, () => {
      const source = bytes(`ns.${op}`, 'data', data);
      const at = this.#lba(op, lba);
      this.#blocksOf(op, source);
      return this.#ring(op, qp).io(code, at, source) as Promise<void>;
    });
  }

  // The queue pair's Promise ring for this namespace (made on first use; SPDK must be running).
  #ring(op: string, qp: IoQpair) {
    try {
      return qp.ioFor(this.id, this.blockSize);
    } catch (error) {
      throw withOperation(error, `ns.${op}`);
    }
  }

  #check(op: string, qp: IoQpair): void {
    if (!(qp instanceof IoQpair)) {
      throw new TypeError(`ns.${op}: the first argument must be an IoQpair from controller.allocIoQpair(), got ${describe(qp)}`);
    }
    if (qp.controller !== this.controller) throw new TypeError(`ns.${op}: queue pair ${qp.id} belongs to another controller`);
    if (this.controller.detached) {
      throw new SpdkError('the controller was detached; connect to it again', { operation: `ns.${op}`, errno: 9 /* EBADF */ });
    }
    if (qp.freed) throw new SpdkError(`queue pair ${qp.id} was freed; allocate another`, { operation: `ns.${op}`, errno: 9 /* EBADF */ });
  }

  #run<T>(op: string, qp: IoQpair, submit: (native: NativeNvmeQpair) => Promise<T>): Promise<T> {
    try {
      this.#check(op, qp);
      return submit(qp.native);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #lba(op: string, lba: unknown): number {
    if (typeof lba !== 'number' || !Number.isSafeInteger(lba)) throw new TypeError(`ns.${op}: lba must be an integer, got ${describe(lba)}`);
    if (lba < 0) throw new RangeError(`ns.${op}: lba must not be negative, got ${lba}`);
    return lba;
  }

  /** A block count for one command; data commands are also bounded by the transfer limit. */
  #count(op: string, count: unknown, transfers: boolean): number {
    const max = transfers ? Math.min(MAX_BLOCKS_PER_COMMAND, Math.floor(this.maxTransferSize / this.blockSize)) : MAX_BLOCKS_PER_COMMAND;
    if (typeof count !== 'number' || !Number.isSafeInteger(count)) throw new TypeError(`ns.${op}: count must be an integer number of blocks, got ${describe(count)}`);
    if (count < 1) throw new RangeError(`ns.${op}: count must be at least 1 block, got ${count}`);
    if (count > max) {
      throw new RangeError(
        `ns.${op}: ${count} blocks is more than one command may carry (${max} blocks` +
          (transfers ? ` = ${max * this.blockSize} bytes, the controller's maximum transfer size` : '') +
          '); split the I/O',
      );
    }
    return count;
  }

  #blocksOf(op: string, buffer: Uint8Array): number {
    const bs = this.blockSize;
    if (buffer.byteLength === 0 || buffer.byteLength % bs !== 0) {
      throw new RangeError(`ns.${op}: the buffer is ${buffer.byteLength} bytes, not a whole positive number of ${bs}-byte blocks`);
    }
    return this.#count(op, buffer.byteLength / bs, true);
  }
}
