// An attached NVMe controller: its identify data, namespaces, I/O queue pairs and admin commands.
// Arguments are checked here; failures come back as rejected promises.
import { SpdkError } from '../errors';
import { flushAll } from '../io/promise-ring';
import { checkSpinUs } from '../io/ring';
import { asyncDispose } from '../dispose';
import { bytes, describe, integer, options } from './check';
import { decodeHealthLog, HEALTH_LOG_ID, HEALTH_LOG_SIZE, type NvmeHealthLog } from './health';
import { decodeControllerData, type NvmeControllerData } from './identify';
import type { NativeNvmeController } from './native';
import { NvmeNamespace } from './namespace';
import { IoQpair, type IoQpairOptions } from './qpair';
import type { NvmeAddressFamily, NvmeTransportType, TransportId } from './transport-id';

/** An admin command for adminRaw(): the submission queue entry's fields (each dword unsigned 32-bit). */
export interface NvmeCommand {
  /** Opcode. Its two low bits give the data direction: 01 to the controller, 10 from it. */
  opc: number;
  nsid?: number;
  cdw2?: number;
  cdw3?: number;
  cdw10?: number;
  cdw11?: number;
  cdw12?: number;
  cdw13?: number;
  cdw14?: number;
  cdw15?: number;
}

/** What a successful command returned besides its data. */
export interface NvmeCompletion {
  /** Command specific result. */
  cdw0: number;
  cdw1: number;
}

export interface IdentifyOptions {
  /** Namespace ID for namespace-specific CNS values. Default 0. */
  nsid?: number;
  /** Controller ID (CDW10 CNTID) for the CNS values that use it. Default 0. */
  cntid?: number;
}

export interface GetLogPageOptions {
  /** Namespace ID; default 0xFFFFFFFF (the controller as a whole). */
  nsid?: number;
  /** Bytes to read, a multiple of 4. Default 4096. */
  size?: number;
  /** Byte offset into the log page, a multiple of 4. Default 0. */
  offset?: number;
}

const OPC_IDENTIFY = 0x06;
const GLOBAL_NSID = 0xffffffff;
const U32 = 0xffffffff;
// Admin opcodes that would break the driver's own state: queue management and asynchronous
// events belong to SPDK, fabrics commands (Connect, Property Get/Set) too.
const RESERVED_OPCODES = new Map<number, string>([
  [0x00, 'Delete I/O Submission Queue'],
  [0x01, 'Create I/O Submission Queue'],
  [0x04, 'Delete I/O Completion Queue'],
  [0x05, 'Create I/O Completion Queue'],
  [0x0c, 'Asynchronous Event Request'],
  [0x7f, 'Fabrics commands'],
]);
// Get / Set Features move data for some features only: a buffer is optional for them.
const OPTIONAL_DATA_OPCODES = new Set([0x09, 0x0a]);
const OPC_SET_FEATURES = 0x09;
const OPC_GET_FEATURES = 0x0a;
// Features whose Get and Set Features both move a data structure (NVMe base specification,
// Feature Identifiers): without a buffer the controller would read or write through a null pointer.
const DATA_FEATURES = new Map<number, string>([
  [0x03, 'LBA Range Type'],
  [0x0c, 'Autonomous Power State Transition'],
  [0x0e, 'Timestamp'],
  [0x16, 'Host Behavior Support'],
  [0x81, 'Host Identifier'],
]);
// ...and those for which only Get Features returns one.
const GET_DATA_FEATURES = new Map<number, string>([[0x0d, 'Host Memory Buffer']]);
// Admin opcodes that change a namespace's format or erase the media under the driver, which
// caches namespace geometry and has I/O in flight: not through adminRaw().
const FORMAT_OPCODES = new Map<number, string>([
  [0x80, 'Format NVM'],
  [0x84, 'Sanitize'],
]);

export class NvmeController implements AsyncDisposable {
  /** Where the controller is. */
  readonly transportId: TransportId;
  /** Identify Controller data, as of the attach. */
  readonly data: NvmeControllerData;
  /** Largest data transfer of one command, bytes. */
  readonly maxTransferSize: number;
  /** Largest I/O queue depth the controller allows (CAP.MQES + 1). */
  readonly maxQueueDepth: number;
  /** Attached over a fabric (TCP, RDMA...) rather than PCIe. */
  readonly fabrics: boolean;
  readonly #native: NativeNvmeController;
  #detaching: Promise<void> | undefined;

  /** @internal Use `spdk.nvme.connect()` or `spdk.nvme.probe()`. */
  constructor(native: NativeNvmeController) {
    this.#native = native;
    const t = native.transportId;
    this.transportId = { trtype: t.trtype as NvmeTransportType };
    if (t.adrfam !== undefined) this.transportId.adrfam = t.adrfam as NvmeAddressFamily;
    if (t.traddr !== undefined) this.transportId.traddr = t.traddr;
    if (t.trsvcid !== undefined) this.transportId.trsvcid = t.trsvcid;
    if (t.subnqn !== undefined) this.transportId.subnqn = t.subnqn;
    this.data = decodeControllerData(native.identifyData);
    this.maxTransferSize = native.maxTransferSize;
    this.maxQueueDepth = native.maxQueueDepth;
    this.fabrics = native.fabrics;
  }

  /** Was detach() called? */
  get detached(): boolean {
    return this.#detaching !== undefined;
  }

  /** The active namespaces, now (a short synchronous query of SPDK's app thread). */
  namespaces(): NvmeNamespace[] {
    this.#checkAttached('ctrlr.namespaces');
    return this.#native.namespaces().map((info) => new NvmeNamespace(this, info));
  }

  /** The active namespace `id`, or undefined. */
  namespace(id: number): NvmeNamespace | undefined {
    integer('ctrlr.namespace', 'id', id, 1, U32 - 1);
    return this.namespaces().find((ns) => ns.id === id);
  }

  /** Allocates and connects an I/O queue pair. */
  allocIoQpair(opts?: IoQpairOptions): Promise<IoQpair> {
    return this.#run('ctrlr.allocIoQpair', () => {
      const o = options('ctrlr.allocIoQpair', opts);
      const depth = integer('ctrlr.allocIoQpair', 'depth', o.depth ?? Math.min(128, this.maxQueueDepth), 2, this.maxQueueDepth);
      const requests = integer('ctrlr.allocIoQpair', 'requests', o.requests ?? 2 * depth, 1, 1 << 20);
      const spinUs = checkSpinUs('ctrlr.allocIoQpair', o.spinUs);
      return this.#native.allocIoQpair(depth, requests).then((native) => new IoQpair(this, native, spinUs));
    });
  }

  /** Identify (CNS `cns`): resolves with the 4096-byte data structure. */
  identify(cns: number, opts?: IdentifyOptions): Promise<Buffer> {
    return this.#run('ctrlr.identify', () => {
      integer('ctrlr.identify', 'cns', cns, 0, 0xff);
      const o = options('ctrlr.identify', opts);
      const nsid = integer('ctrlr.identify', 'nsid', o.nsid ?? 0, 0, U32);
      const cntid = integer('ctrlr.identify', 'cntid', o.cntid ?? 0, 0, 0xffff);
      const data = Buffer.alloc(4096);
      const command = encodeCommand({ opc: OPC_IDENTIFY, nsid, cdw10: (cns | (cntid << 16)) >>> 0 });
      return this.#native.adminRaw('ctrlr.identify', command, data).then(() => data);
    });
  }

  /** Get Log Page `lid`: resolves with the bytes read. */
  getLogPage(lid: number, opts?: GetLogPageOptions): Promise<Buffer> {
    return this.#logPage('ctrlr.getLogPage', lid, opts);
  }

  /** The SMART / health information log page, decoded. */
  healthLog(): Promise<NvmeHealthLog> {
    return this.#logPage('ctrlr.healthLog', HEALTH_LOG_ID, { nsid: GLOBAL_NSID, size: HEALTH_LOG_SIZE }).then(decodeHealthLog);
  }

  /**
   * Sends an admin command as given (SPDK fills in the command ID and the data pointer). Data
   * moves through `buffer`: from it for opcodes ending in binary 01, into it for 10; such
   * opcodes need one (Get/Set Features only for features that transfer data). Commands whose
   * opcode belongs to the driver (queue management, AER, fabrics) are refused.
   */
  adminRaw(cmd: NvmeCommand, buffer?: Uint8Array): Promise<NvmeCompletion> {
    return this.#run('ctrlr.adminRaw', () => {
      if (cmd === null || typeof cmd !== 'object') throw new TypeError(`ctrlr.adminRaw: cmd must be an object such as { opc, nsid, cdw10 }, got ${describe(cmd)}`);
      const opc = integer('ctrlr.adminRaw', 'cmd.opc', cmd.opc, 0, 0xff);
      const reserved = RESERVED_OPCODES.get(opc);
      if (reserved !== undefined) {
        throw new RangeError(`ctrlr.adminRaw: opcode 0x${opc.toString(16)} (${reserved}) is managed by SPDK's driver; use allocIoQpair()/free() and detach()`);
      }
      const destructive = FORMAT_OPCODES.get(opc);
      if (destructive !== undefined) {
        throw new RangeError(
          `ctrlr.adminRaw: opcode 0x${opc.toString(16)} (${destructive}) reformats or erases namespaces under SPDK's driver, ` +
            'which keeps their geometry and I/O in flight; detach, run it with a management tool (nvme-cli), then connect again',
        );
      }
      const direction = opc & 3;
      if (buffer === undefined && (opc === OPC_SET_FEATURES || opc === OPC_GET_FEATURES)) {
        const fid = (cmd.cdw10 ?? 0) & 0xff;
        const feature = DATA_FEATURES.get(fid) ?? (opc === OPC_GET_FEATURES ? GET_DATA_FEATURES.get(fid) : undefined);
        if (feature !== undefined) {
          throw new TypeError(`ctrlr.adminRaw: ${opc === OPC_GET_FEATURES ? 'Get' : 'Set'} Features of feature 0x${fid.toString(16)} (${feature}) transfers data, so it needs a buffer`);
        }
      }
      if (buffer !== undefined) {
        bytes('ctrlr.adminRaw', 'buffer', buffer);
        if (direction === 0) throw new TypeError(`ctrlr.adminRaw: opcode 0x${opc.toString(16)} transfers no data, so it takes no buffer`);
        this.#checkSize('ctrlr.adminRaw', buffer.byteLength);
      } else if (direction !== 0 && !OPTIONAL_DATA_OPCODES.has(opc)) {
        throw new TypeError(`ctrlr.adminRaw: opcode 0x${opc.toString(16)} transfers data ${direction === 1 ? 'to' : 'from'} the controller, so it needs a buffer`);
      }
      return this.#native.adminRaw('ctrlr.adminRaw', encodeCommand(cmd), buffer);
    });
  }

  /**
   * Frees the queue pairs (after their commands complete), then detaches the controller.
   * Idempotent. Stopping SPDK detaches every controller too.
   */
  detach(): Promise<void> {
    if (this.#detaching === undefined) {
      // Commands started before detach() still run: submit them now, ahead of the detach.
      flushAll();
      this.#detaching = this.#native.detach();
    }
    return this.#detaching;
  }

  [asyncDispose](): Promise<void> {
    return this.detach();
  }

  #logPage(op: string, lid: number, opts: GetLogPageOptions | undefined): Promise<Buffer> {
    return this.#run(op, () => {
      integer(op, 'lid', lid, 0, 0xff);
      const o = options(op, opts);
      const nsid = integer(op, 'nsid', o.nsid ?? GLOBAL_NSID, 0, U32);
      const size = integer(op, 'size', o.size ?? 4096, 4, U32);
      const offset = integer(op, 'offset', o.offset ?? 0, 0, Number.MAX_SAFE_INTEGER);
      if (size % 4 !== 0 || offset % 4 !== 0) throw new RangeError(`${op}: size and offset must be multiples of 4 bytes, got ${size} and ${offset}`);
      this.#checkSize(op, size);
      return this.#native.getLogPage(op, lid, nsid, offset, Buffer.alloc(size));
    });
  }

  #checkSize(op: string, size: number): void {
    if (size > this.maxTransferSize) {
      throw new RangeError(`${op}: ${size} bytes is more than the controller transfers in one command (${this.maxTransferSize} bytes)`);
    }
  }

  #checkAttached(op: string): void {
    if (this.#detaching !== undefined) {
      throw new SpdkError('the controller was detached; connect to it again', { operation: op, errno: 9 /* EBADF */ });
    }
  }

  #run<T>(op: string, submit: () => Promise<T>): Promise<T> {
    try {
      this.#checkAttached(op);
      return submit();
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** The 64-byte submission queue entry (command ID and data pointer are SPDK's to fill). */
function encodeCommand(cmd: NvmeCommand): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt8(cmd.opc, 0);
  const dword = (name: keyof NvmeCommand, offset: number): void => {
    const v = cmd[name];
    if (v !== undefined) b.writeUInt32LE(integer('ctrlr.adminRaw', `cmd.${name}`, v, 0, U32), offset);
  };
  dword('nsid', 4);
  dword('cdw2', 8);
  dword('cdw3', 12);
  dword('cdw10', 40);
  dword('cdw11', 44);
  dword('cdw12', 48);
  dword('cdw13', 52);
  dword('cdw14', 56);
  dword('cdw15', 60);
  return b;
}
