// An open bdev. Offsets and lengths are bytes, block-aligned; everything is checked here before
// it crosses into native code, and failures come back as rejected promises, never throws.
import { SpdkError, withOperation } from '../errors';
import { addon, type NativeBdev } from '../addon';
import { BdevIo } from './io';
import { IoQueue, type IoQueueOptions } from '../io/queue';
import { asyncDispose } from '../dispose';
import { CLOSE_GRACE_MS, drainWithinGrace, resetOverdueBdev } from '../io/close-grace';

export interface OpenBdevOptions {
  /** Open for writing as well as reading. Default false. */
  write?: boolean;
  /**
   * With reads or writes in flight, how long the JS thread busy-waits for their completions
   * before it sleeps until SPDK wakes it, in microseconds (default 50; 0 never spins). See
   * IoQueueOptions.spinUs.
   */
  spinUs?: number;
}

export class Bdev implements AsyncDisposable {
  readonly #native: NativeBdev;
  // Copied out of the native object once: it is in dictionary mode (its properties were added
  // from C++), so reading them on every I/O costs a slow property lookup each time.
  readonly #name: string;
  readonly #blockSize: number;
  readonly #writable: boolean;
  readonly #sizeBytes: number;
  #closing: Promise<void> | undefined;
  #io: BdevIo | undefined;
  readonly #spinUs: number;

  /** @internal Use `spdk.openBdev()`. */
  constructor(native: NativeBdev, spinUs: number) {
    this.#native = native;
    this.#spinUs = spinUs;
    this.#name = native.name;
    this.#blockSize = native.blockSize;
    this.#writable = native.writable;
    this.#sizeBytes = native.numBlocks * native.blockSize;
  }

  get name(): string {
    return this.#name;
  }
  /** Logical block size in bytes: offsets and lengths are multiples of it. */
  get blockSize(): number {
    return this.#blockSize;
  }
  get numBlocks(): number {
    return this.#native.numBlocks;
  }
  get sizeBytes(): number {
    return this.#sizeBytes;
  }
  get writable(): boolean {
    return this.#writable;
  }
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Reads `length` bytes at `offset` into a new Buffer, or fills `into` (its whole length).
   * Buffers from `spdk.allocBuffer()` are used without a copy.
   */
  read(offset: number, length: number): Promise<Buffer>;
  read<T extends Uint8Array>(offset: number, into: T): Promise<T>;
  read(offset: number, lengthOrInto: number | Uint8Array): Promise<Uint8Array> {
    try {
      let target: Uint8Array;
      if (typeof lengthOrInto === 'number') {
        this.#checkRange('read', offset, lengthOrInto);
        target = Buffer.allocUnsafe(lengthOrInto);
      } else if (lengthOrInto instanceof Uint8Array) {
        this.#checkRange('read', offset, lengthOrInto.byteLength);
        target = lengthOrInto;
      } else {
        throw new TypeError(`bdev.read: the second argument must be a length in bytes or a Buffer/Uint8Array to read into, got ${describe(lengthOrInto)}`);
      }
      return this.#ringFor('bdev.read').read(offset, target);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Writes all of `data` at `offset`. The data is copied (or, for allocBuffer memory, used in place) before the promise settles: do not change it until then. */
  write(offset: number, data: Uint8Array): Promise<void> {
    try {
      if (!(data instanceof Uint8Array)) {
        throw new TypeError(`bdev.write: data must be a Buffer or Uint8Array, got ${describe(data)}`);
      }
      this.#checkRange('write', offset, data.byteLength);
      this.#checkWritable('write');
      return this.#ringFor('bdev.write').write(offset, data);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Makes data written in the range durable. Bdevs that have no flush (SPDK says so for those
   * with nothing to flush, such as the io_uring bdev, which writes with O_DIRECT) succeed at once.
   */
  flush(offset = 0, length: number = this.#sizeBytes - offset): Promise<void> {
    return this.#range('flush', offset, length, false, (o, l) =>
      this.#native.flush(o, l).catch((error: unknown) => {
        if (error instanceof SpdkError && error.code === 'ENOTSUP') return;
        throw error;
      }));
  }

  /** Tells the device the range is no longer needed (TRIM / deallocate). */
  unmap(offset: number, length: number): Promise<void> {
    return this.#range('unmap', offset, length, true, (o, l) => this.#native.unmap(o, l));
  }

  writeZeroes(offset: number, length: number): Promise<void> {
    return this.#range('writeZeroes', offset, length, true, (o, l) => this.#native.writeZeroes(o, l));
  }

  /** Resets the bdev (for an NVMe bdev, the controller), failing what is in flight. */
  reset(): Promise<void> {
    try {
      return this.#native.reset();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A queue for batched I/O on this bdev: many I/Os per crossing into SPDK, completions in bulk.
   * See IoQueue. Close the queue before the bdev.
   */
  createQueue(options: IoQueueOptions = {}): IoQueue {
    this.#checkOpen('bdev.createQueue');
    return new IoQueue(addon().IoRing, this.#native, this.#blockSize, this.#sizeBytes, options);
  }

  /**
   * Closes the bdev once its in-flight I/O has completed. Idempotent; later I/O is rejected
   * with EBADF. Stopping SPDK closes every bdev too.
   *
   * A device that stops answering must not hold the close forever: I/O still in flight
   * {@link CLOSE_GRACE_MS} after close() is aborted by a reset of the bdev (it then fails with
   * ECANCELED, or the device's abort status), with a process warning saying so.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      const io = this.#io;
      // Reads and writes started before close() complete first; they wait in JS for one turn of
      // the microtask queue, so the native close must not overtake them.
      this.#closing = io === undefined ? this.#native.close() : drainWithinGrace(io.drain(), () => resetOverdueBdev(`bdev '${this.#name}'`, this.#native)).then(() => {
        io.close();
        return this.#native.close();
      });
    }
    return this.#closing;
  }

  [asyncDispose](): Promise<void> {
    return this.close();
  }

  // The ring reads and writes go through, made on first use.
  #ringFor(operation: string): BdevIo {
    this.#checkOpen(operation);
    if (this.#io === undefined) {
      try {
        this.#io = new BdevIo(addon().IoRing, this.#native, this.#name, this.#spinUs);
      } catch (error) {
        throw withOperation(error, operation);
      }
    }
    return this.#io;
  }

  #range(op: string, offset: number, length: number, write: boolean, run: (o: number, l: number) => Promise<void>): Promise<void> {
    try {
      this.#checkRange(op, offset, length);
      if (write) this.#checkWritable(op);
      return run(offset, length);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #checkRange(op: string, offset: number, length: number): void {
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset)) {
      throw new TypeError(`bdev.${op}: offset must be an integer number of bytes, got ${describe(offset)}`);
    }
    if (typeof length !== 'number' || !Number.isSafeInteger(length)) {
      throw new TypeError(`bdev.${op}: length must be an integer number of bytes, got ${describe(length)}`);
    }
    const bs = this.#blockSize;
    if (offset < 0 || offset % bs !== 0) {
      throw new RangeError(`bdev.${op}: offset ${offset} is not a non-negative multiple of the block size (${bs}) of '${this.name}'`);
    }
    if (length <= 0 || length % bs !== 0) {
      throw new RangeError(`bdev.${op}: length ${length} is not a positive multiple of the block size (${bs}) of '${this.name}'`);
    }
    if (offset + length > this.#sizeBytes) {
      throw new RangeError(`bdev.${op}: ${length} bytes at offset ${offset} run past the end of '${this.name}' (${this.#sizeBytes} bytes)`);
    }
  }

  #checkOpen(operation: string): void {
    if (this.#closing !== undefined) throw new SpdkError(`bdev '${this.#name}' is closed`, { operation, errno: 9 }); // EBADF
  }

  #checkWritable(op: string): void {
    if (!this.#writable) {
      throw new SpdkError(`'${this.name}' was opened read-only; open it with { write: true } to ${op}`, {
        operation: `bdev.${op}`,
        errno: 9, // EBADF, as a write to a read-only file descriptor
      });
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return `${typeof value} ${String(value)}`;
}
