// `spdk.nvme`: attaching NVMe controllers with SPDK's own NVMe driver, local (PCIe) or over a
// fabric (TCP, RDMA), including NVMe-oF targets served by this same process.
import { addon } from '../addon';
import { describe, integer, options } from './check';
import { NvmeController } from './controller';
import type { NativeNvmeConnectOptions } from './native';
import { DISCOVERY_NQN, formatTransportId, normalizeTransportId, type TransportId } from './transport-id';

export interface NvmeConnectOptions {
  /** Host NQN to connect as (fabrics). Default: SPDK's, derived from the host's UUID. */
  hostnqn?: string;
  /**
   * Keep Alive timeout, ms (fabrics). The host sends a keep-alive every half of it, and the
   * target drops a host it does not hear from. 0 disables. Default 5000.
   */
  keepAliveTimeoutMs?: number;
  /**
   * NVMe/TCP: how long sent data may stay unacknowledged before the connection is declared dead
   * (TCP_USER_TIMEOUT), ms, rounded up to a power of two. With keep-alives, this bounds how long
   * a target that vanished without closing its connections goes unnoticed. 0: the system's
   * default (minutes). Default 4096.
   */
  ackTimeoutMs?: number;
  /** Timeout of the fabrics Connect command, ms. Default: SPDK's. */
  connectTimeoutMs?: number;
  /**
   * A command outstanding longer than this, ms, fails the controller: everything outstanding on
   * it rejects with ETIMEDOUT, and it must be detached. This catches a target that stopped
   * answering but kept its connections open (keep-alives time out after keepAliveTimeoutMs the
   * same way). At least keepAliveTimeoutMs; 0 disables. Default: 10000 over fabrics, 0 for PCIe
   * (where admin commands such as Format NVM may legitimately take long).
   */
  commandTimeoutMs?: number;
  /** NVMe/TCP header and data digests (CRC32C). Default false. */
  headerDigest?: boolean;
  dataDigest?: boolean;
}

const DEFAULT_KEEP_ALIVE_MS = 5000;
const DEFAULT_ACK_TIMEOUT_MS = 4096;
const DEFAULT_FABRICS_COMMAND_TIMEOUT_MS = 10_000;

export class Nvme {
  /**
   * Connects to (attaches) one controller: a PCIe address, or a fabrics address and subsystem.
   * `trid` is SPDK's string form or an object.
   */
  connect(trid: string | TransportId, opts?: NvmeConnectOptions): Promise<NvmeController> {
    try {
      const t = normalizeTransportId(trid, 'nvme.connect', 'connect');
      if (t.subnqn === DISCOVERY_NQN) {
        throw new TypeError(`nvme.connect: connecting to a discovery controller is not offered (SPDK's driver does it synchronously, which would block its reactor); connect to a subsystem NQN`);
      }
      const native = nativeOptions('nvme.connect', t, opts);
      return addon().nvmeConnect(formatTransportId(t), native).then((c) => new NvmeController(c));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Finds the local PCIe controllers (bound to vfio-pci or uio; all of them, or the one at
   * `traddr`) and attaches every one; an empty list when there are none.
   *
   * NVMe-oF discovery is not offered: SPDK's driver connects to a discovery controller
   * synchronously, which would stall SPDK's reactor (and deadlock with a target in this
   * process). connect() to a subsystem NQN instead.
   */
  probe(trid: string | TransportId = { trtype: 'PCIe' }, opts?: NvmeConnectOptions): Promise<NvmeController[]> {
    try {
      const t = normalizeTransportId(trid, 'nvme.probe', 'probe');
      if (t.trtype !== 'PCIe') {
        throw new TypeError(`nvme.probe: probing enumerates local PCIe controllers, not ${t.trtype}; SPDK's NVMe-oF discovery would block its reactor, so connect() to the subsystem NQN instead`);
      }
      const native = nativeOptions('nvme.probe', t, opts);
      return addon().nvmeProbe(formatTransportId(t), native).then((list) => list.map((c) => new NvmeController(c)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Is a transport ('PCIe', 'TCP', 'RDMA'...) built into this SPDK? */
  transportAvailable(trtype: string): boolean {
    if (typeof trtype !== 'string') throw new TypeError(`nvme.transportAvailable: trtype must be a string, got ${describe(trtype)}`);
    return addon().nvmeTransportAvailable(trtype);
  }
}

function nativeOptions(op: string, trid: TransportId, opts: NvmeConnectOptions | undefined): NativeNvmeConnectOptions {
  const o = options(op, opts);
  const hostnqn = o.hostnqn ?? trid.hostnqn ?? '';
  if (hostnqn !== '') normalizeTransportId({ trtype: 'PCIe', hostnqn }, op, 'any');
  const keepAliveTimeoutMs = integer(op, 'keepAliveTimeoutMs', o.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_MS, 0, 3_600_000);
  const ackTimeoutMs = integer(op, 'ackTimeoutMs', o.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS, 0, 2 ** 31);
  const connectTimeoutMs = integer(op, 'connectTimeoutMs', o.connectTimeoutMs ?? 0, 0, 600_000);
  const defaultCommandTimeoutMs = trid.trtype === 'PCIe' ? 0 : Math.max(DEFAULT_FABRICS_COMMAND_TIMEOUT_MS, keepAliveTimeoutMs);
  const commandTimeoutMs = integer(op, 'commandTimeoutMs', o.commandTimeoutMs ?? defaultCommandTimeoutMs, 0, 3_600_000);
  if (commandTimeoutMs > 0 && commandTimeoutMs < keepAliveTimeoutMs) {
    throw new RangeError(`${op}: commandTimeoutMs (${commandTimeoutMs}) must be at least keepAliveTimeoutMs (${keepAliveTimeoutMs}), or 0`);
  }
  for (const key of ['headerDigest', 'dataDigest'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') throw new TypeError(`${op}: ${key} must be a boolean, got ${describe(o[key])}`);
  }
  return {
    hostnqn,
    keepAliveTimeoutMs,
    // The exponent means 2^n ms only for TCP (RDMA counts in 4.096 us units): leave RDMA's alone.
    ackTimeoutExponent: trid.trtype === 'TCP' && ackTimeoutMs > 0 ? Math.min(31, Math.ceil(Math.log2(ackTimeoutMs))) : 0,
    connectTimeoutMs,
    commandTimeoutMs,
    headerDigest: o.headerDigest ?? false,
    dataDigest: o.dataDigest ?? false,
  };
}
