// Reads, writes and compares of the NVMe Promise API, on a Promise ring (src/io/promise-ring.ts)
// per namespace and queue pair: no request object, promise handle or N-API call per command.
// The ring's row carries the LBA; the native device (native/nvme/nvme_ring.cc) submits the command on
// the queue pair, whose poller reaps it on SPDK's app thread.
import { addon } from '../addon';
import { NvmeError, SpdkError } from '../errors';
import { PromiseRing } from '../io/promise-ring';
import { OP_COMPARE, OP_READ, type NativeIoRingConstructor } from '../io/ring';
import type { NativeNvmeQpair } from './native';
import { nvmeStatusNames } from './status';

// Slots per namespace and queue pair. More concurrent commands wait in JS for a slot; SPDK
// queues what the queue pair has no room for.
const DEPTH = 1024;

/** What an NVMe command's negative result means, for its error's message. */
export function describeNvmeErrno(errno: number, qpairId: number, nsid: number): string {
  const qp = `queue pair ${qpairId}`;
  switch (errno) {
    case 9: return `${qp} was freed, or its controller detached`;
    case 6:
      return `${qp} is disconnected: the controller failed (the connection to it was lost, or the device was ` +
        "removed) and the command's outcome is unknown; detach the controller and connect again";
    case 110:
      return `the controller failed: a command on ${qp} got no answer within the command timeout (is the ` +
        "target hung?) and this command's outcome is unknown; detach the controller and connect again";
    case 19: return `namespace ${nsid} is not active on this controller`;
    case 95:
      return `namespace ${nsid} keeps its metadata in a separate buffer, which spdk-node does not support; ` +
        'format it with metadata interleaved (extended LBA) or without metadata';
    case 34: return `the command no longer fits namespace ${nsid}: it was reformatted or resized; list ctrlr.namespaces() again`;
    case 12: return 'no DMA memory left for a bounce buffer; use smaller I/O or buffers from spdk.allocBuffer()';
    case 22: return "SPDK refused the command's parameters, or its Buffer was detached before the command started";
    default: return 'the command could not be submitted';
  }
}

/** The error of an NVMe command that ended with ring result `result` (see native/io/ring.h). */
export function nvmeResultError(operation: string, result: number, qpairId: number, nsid: number): Error {
  if (result > 0) {
    const sct = (result >> 8) & 0x7;
    const sc = result & 0xff;
    return new NvmeError(operation, { sct, sc, ...nvmeStatusNames(sct, sc), dnr: (result & 0x8000) !== 0 });
  }
  return new SpdkError(describeNvmeErrno(-result, qpairId, nsid), { operation, errno: -result });
}

/** @internal */
export class NvmeIo extends PromiseRing {
  readonly #qpairId: number;
  readonly #nsid: number;

  constructor(qp: NativeNvmeQpair, nsid: number, blockSize: number, spinUs: number) {
    super(addon().IoRing as NativeIoRingConstructor, qp.ringDevice(nsid, blockSize), DEPTH, spinUs, qp);
    this.#qpairId = qp.id;
    this.#nsid = nsid;
  }

  /** Arguments checked by NvmeNamespace. */
  io(op: number, lba: number, buffer: Uint8Array): Promise<unknown> {
    return this.start(op, lba, buffer);
  }

  protected operation(op: number): string {
    return op === OP_READ ? 'ns.read' : op === OP_COMPARE ? 'ns.compare' : 'ns.write';
  }

  protected error(op: number, _lba: number, _length: number, result: number): Error {
    return nvmeResultError(this.operation(op), result, this.#qpairId, this.#nsid);
  }
}
