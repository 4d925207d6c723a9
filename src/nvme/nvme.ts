// `spdk.nvme`: attaching NVMe controllers with SPDK's own NVMe driver, local (PCIe) or over a
// fabric (TCP, RDMA), including NVMe-oF targets served by this same process.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { addon } from '../addon';
import { describe, integer, options } from './check';
import { NvmeController } from './controller';
import type { NativeNvmeConnectOptions } from './native';
import { DISCOVERY_NQN, formatTransportId, normalizeTransportId, type TransportId } from './transport-id';
import { SpdkError, errnoValue } from '../errors';
import { checkPcieUsable } from '../devices/usable';
import type { RpcClient } from '../rpc/client';
import { bdevNvmeHolders, pciKey, sameController } from './bdev-holders';

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

/** A local controller SPDK's PCIe driver can attach, as nvme.list() finds it. */
export interface NvmeListEntry {
  /** `{ trtype: 'PCIe', traddr }`: what connect() takes. */
  transportId: TransportId;
  /**
   * What in this process holds it (`'an NvmeController from nvme.connect()'`), or null when it is
   * free. connect() to a held controller fails with EBUSY.
   */
  heldBy: string | null;
}

/** @internal What the Spdk instance tells its Nvme. */
export interface NvmeContext {
  /** SPDK was started with PCI access (`pci` start option). */
  pci: boolean;
  /** The instance's RPC client, to name bdev_nvme controllers that hold a controller. */
  rpc?: () => RpcClient | null;
}

const DEFAULT_KEEP_ALIVE_MS = 5000;
const DEFAULT_ACK_TIMEOUT_MS = 4096;
const DEFAULT_FABRICS_COMMAND_TIMEOUT_MS = 10_000;

export class Nvme {
  readonly #context: NvmeContext;

  /** @internal Use `spdk.nvme`. */
  constructor(context: NvmeContext = { pci: true }) {
    this.#context = context;
  }

  /**
   * Connects to (attaches) one controller: a PCIe address, or a fabrics address and subsystem.
   * `trid` is SPDK's string form or an object.
   *
   * A PCIe controller must be bound to a user-space driver first (`spdk-node devices bind ADDR`,
   * bindDevices()); one the kernel holds fails with ENODEV saying so. A controller this process
   * already holds (an NvmeController from connect() or probe(), or a bdev_nvme controller) fails
   * with EBUSY naming the holder: one handle per controller.
   */
  connect(trid: string | TransportId, opts?: NvmeConnectOptions): Promise<NvmeController> {
    try {
      const t = normalizeTransportId(trid, 'nvme.connect', 'connect');
      if (t.subnqn === DISCOVERY_NQN) {
        throw new TypeError(`nvme.connect: connecting to a discovery controller is not offered (SPDK's driver does it synchronously, which would block its reactor); connect to a subsystem NQN`);
      }
      if (t.trtype === 'PCIe') this.#checkPcie('nvme.connect', t.traddr);
      const native = nativeOptions('nvme.connect', t, opts);
      return resolveTraddr(t, 'nvme.connect').then((resolved) =>
        addon().nvmeConnect(formatTransportId(resolved), native).then(
          (c) => new NvmeController(c),
          (error: unknown) => this.#nameBdevHolder(error, resolved, native.hostnqn),
        ),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Finds the local PCIe controllers (bound to vfio-pci or uio; all of them, or the one at
   * `traddr`) and attaches every one this process does not hold yet; an empty list when there
   * are none. To see them without attaching, use list().
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
      this.#checkPcie('nvme.probe', t.traddr);
      const native = nativeOptions('nvme.probe', t, opts);
      return addon().nvmeProbe(formatTransportId(t), native).then(
        (list) => list.map((c) => new NvmeController(c)),
        (error: unknown) => this.#nameBdevHolder(error, t, native.hostnqn),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The local PCIe controllers SPDK's driver can attach (bound to vfio-pci or uio; all of them,
   * or the one at `traddr`), without attaching any: SPDK probes the bus and its probe callback
   * answers "no" to each. Those this process holds are listed too, with `heldBy` naming the
   * holder: an NvmeController, or a bdev_nvme controller by name (found through the instance's
   * RPC; without one, `rpcSocket: false`, only when asked for by `traddr`, unnamed). Nothing is
   * held afterwards, so connect() to any free one works. (listDevices() shows every NVMe
   * controller on the machine, whatever its driver, without SPDK.)
   */
  list(trid: string | TransportId = { trtype: 'PCIe' }): Promise<NvmeListEntry[]> {
    try {
      const t = normalizeTransportId(trid, 'nvme.list', 'probe');
      if (t.trtype !== 'PCIe') {
        throw new TypeError(`nvme.list: listing enumerates local PCIe controllers, not ${t.trtype}; SPDK's NVMe-oF discovery would block its reactor`);
      }
      this.#checkPcie('nvme.list', t.traddr);
      // The whole bus, filtered here: SPDK's probe of one address that its callback declines
      // fails in DPDK ("cannot attach the device"), which a listing must not (found in the PCIe rig).
      const wholeBus: TransportId = { trtype: 'PCIe' };
      const native = nativeOptions('nvme.list', wholeBus, undefined);
      return addon().nvmeList(formatTransportId(wholeBus), native).then(async (list) => {
        const entries: NvmeListEntry[] = list
          .filter((e) => t.traddr === undefined || pciKey(e.traddr) === pciKey(t.traddr))
          .map((e) => ({ transportId: { trtype: 'PCIe', traddr: e.traddr }, heldBy: e.heldBy }));
        // SPDK's enumeration skips the devices bdev_nvme holds: name them (and replace the vaguer
        // answer the native side gives for one asked for by address).
        for (const holder of await bdevNvmeHolders(this.#context.rpc?.() ?? null)) {
          if (holder.trtype.toLowerCase() !== 'pcie' || (t.traddr !== undefined && !sameController(holder, t, undefined))) continue;
          const heldBy = `the bdev_nvme controller '${holder.name}'`;
          const known = entries.find((e) => sameController(holder, e.transportId, undefined));
          if (known) known.heldBy = heldBy;
          else entries.push({ transportId: { trtype: 'PCIe', traddr: holder.traddr }, heldBy });
        }
        return entries.sort((a, b) => (a.transportId.traddr! < b.transportId.traddr! ? -1 : a.transportId.traddr! > b.transportId.traddr! ? 1 : 0));
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** An EBUSY for a controller another user of SPDK's driver holds: if bdev_nvme does, say which controller. */
  async #nameBdevHolder(error: unknown, trid: TransportId, hostnqn: string): Promise<never> {
    if (!(error instanceof SpdkError) || error.code !== 'EBUSY' || !error.reason.includes('bdev_nvme')) throw error;
    const holder = (await bdevNvmeHolders(this.#context.rpc?.() ?? null)).find((h) => sameController(h, trid, hostnqn));
    if (holder === undefined) throw error;
    throw new SpdkError(`${formatTransportId(trid)} is already attached in this process: the bdev_nvme controller '${holder.name}' holds it (its bdevs are ${holder.name}n1...): use them, or release it first (bdev_nvme_detach_controller({ name: '${holder.name}' }))`, {
      operation: error.operation, errno: error.errno, log: error.log, cause: error,
    });
  }

  #checkPcie(operation: string, traddr: string | undefined): void {
    if (!this.#context.pci) {
      throw new SpdkError('SPDK was started without PCI access (the pci start option is false, its default when not root): start SPDK as root, or with { pci: true }', {
        operation, errno: 19,
      });
    }
    if (traddr !== undefined) checkPcieUsable(traddr, operation);
  }

  /** Is a transport ('PCIe', 'TCP', 'RDMA'...) built into this SPDK? */
  transportAvailable(trtype: string): boolean {
    if (typeof trtype !== 'string' || trtype.includes('\0')) throw new TypeError(`nvme.transportAvailable: trtype must be a string without NUL characters, got ${describe(trtype)}`);
    return addon().nvmeTransportAvailable(trtype);
  }
}

/**
 * A fabrics traddr that is a host name, resolved here (on libuv's thread pool): SPDK would resolve
 * it with a blocking getaddrinfo() on its app thread, stalling every bdev and queue meanwhile, and
 * report a name that does not resolve as EPERM.
 */
async function resolveTraddr(t: TransportId, operation: string): Promise<TransportId> {
  if ((t.trtype !== 'TCP' && t.trtype !== 'RDMA') || t.traddr === undefined || isIP(t.traddr) !== 0) return t;
  if (t.adrfam !== 'IPv4' && t.adrfam !== 'IPv6') return t;
  try {
    const { address } = await lookup(t.traddr, { family: t.adrfam === 'IPv6' ? 6 : 4 });
    return { ...t, traddr: address };
  } catch (error) {
    throw new SpdkError(`cannot resolve '${t.traddr}' to an ${t.adrfam} address (${(error as Error).message}); give the target's IP address, or the right adrfam`, {
      operation,
      errno: errnoValue('EHOSTUNREACH') ?? 113,
      cause: error,
    });
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
