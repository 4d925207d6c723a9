// The bdev Promise API's reads and writes, on a Promise ring (src/io/promise-ring.ts).
import { NvmeError, SpdkError } from '../errors';
import { nvmeStatusNames } from '../nvme/status';
import { PromiseRing } from '../io/promise-ring';
import { OP_READ, OP_WRITE, type NativeIoRingConstructor } from '../io/ring';

export { flushAll, settleAll } from '../io/promise-ring';

// Slots per bdev. More concurrent I/O than this waits in JS for a slot.
const DEPTH = 1024;

/** @internal */
export class BdevIo extends PromiseRing {
  readonly #name: string;

  constructor(ctor: NativeIoRingConstructor, nativeBdev: unknown, name: string, spinUs: number) {
    super(ctor, nativeBdev, DEPTH, spinUs);
    this.#name = name;
  }

  /** Reads target.byteLength bytes at offset into target; resolves with target. Arguments checked by Bdev. */
  read<T extends Uint8Array>(offset: number, target: T): Promise<T> {
    return this.start(OP_READ, offset, target) as Promise<T>;
  }

  write(offset: number, source: Uint8Array): Promise<void> {
    return this.start(OP_WRITE, offset, source) as Promise<void>;
  }

  protected operation(op: number): string {
    return op === OP_READ ? 'bdev.read' : 'bdev.write';
  }

  protected error(op: number, offset: number, length: number, result: number): Error {
    const operation = this.operation(op);
    if (result > 0) {
      const sct = (result >> 8) & 0x7;
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
}

// What a bdev's failure means, for the errnos native/bdev/bdev.cc's FailureOf() reports.
function bdevFailure(result: number): string {
  switch (result) {
    case -5: return 'the bdev reported an I/O error';
    case -12: return 'out of memory (a DMA bounce buffer or an SPDK request)';
    case -125: return 'the I/O was aborted';
    case -84: return 'the data did not match (miscompare)';
    default: return `the bdev failed it (errno ${-result})`;
  }
}
