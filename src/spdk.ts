// A running SPDK instance inside this Node process: start, bdevs, DMA buffers, RPC, stop.
import { addon, onUnexpectedStop } from './addon';
import { Bdev, type OpenBdevOptions } from './bdev/bdev';
import { CLOSE_GRACE_MS, settlesWithinGrace } from './io/close-grace';
import { settleAll } from './bdev/io';
import { checkSpinUs } from './io/ring';
import { allowQueues, settleQueues } from './io/queue';
import { allocDmaBuffer } from './dma-memory';
import type { BdevInfo } from './bdev/info';
import { SpdkError } from './errors';
import { Nvme } from './nvme/nvme';
import { RpcClient } from './rpc/client';
import { installSignalHandlers, uninstall as uninstallSignalHandlers } from './signals';
import { explainStartFailure } from './start-failure';
import { removeStaleRuntimeDirs } from './stale-runtime-dirs';
import { normalizeStartOptions, type SpdkStartOptions } from './start-options';
import { unlinkSync } from 'node:fs';
import { asyncDispose } from './dispose';

export interface AllocBufferOptions {
  /** Alignment of the buffer's start, in bytes: a power of two. Default 4096. */
  align?: number;
}

const MAX_BUFFER = 2 ** 30;

/**
 * In interrupt mode an idle instance should sleep; a poller that cannot (the iSCSI target's,
 * when the library has every subsystem linked in) keeps a core busy. Say which, and the fix.
 */
async function warnAboutBusyPollers(rpc: RpcClient): Promise<void> {
  try {
    const { threads } = await rpc.thread_get_pollers();
    const busy = threads.flatMap((t) => t.active_pollers.map((p) => `${p.name} (thread ${t.name})`));
    if (busy.length > 0) {
      process.emitWarning(
        `SPDK was started in interrupt mode, but these pollers cannot sleep and keep a core busy: ${busy.join(', ')}. ` +
          'Build the library without the subsystems they belong to (./build.sh --lean) for an idle instance.',
        { code: 'SPDK_NODE_BUSY_POLLERS' },
      );
    }
  } catch {
    // A warning is best effort; the instance works either way.
  }
}

export class Spdk implements AsyncDisposable {
  /** SPDK's version as the running library reports it, e.g. `'v26.01'`. */
  readonly version: string;
  /** Number of reactor cores. */
  readonly cores: number;
  /** The core that runs SPDK's app thread. */
  readonly mainCore: number;
  /** The JSON-RPC socket of this instance, or null when started with `rpcSocket: false`. */
  readonly rpcSocket: string | null;
  readonly #rpc: RpcClient | null;
  #stopping: Promise<void> | undefined;
  #stopped = false;
  readonly #forgetUnexpectedStop: () => void;
  #nvme: Nvme | undefined;

  readonly #pci: boolean;

  private constructor(version: string, cores: number, mainCore: number, rpcSocket: string | null, rpc: RpcClient | null, pci: boolean) {
    this.#pci = pci;
    this.version = version;
    this.cores = cores;
    this.mainCore = mainCore;
    this.rpcSocket = rpcSocket;
    this.#rpc = rpc;
    this.#forgetUnexpectedStop = onUnexpectedStop(() => this.#markStopped());
  }

  /**
   * Starts SPDK in this process: its reactors run on their own threads (by default on the last
   * core), never on Node's. One instance per process (DPDK initialises once); a second start
   * while one runs is refused with EALREADY.
   */
  static async start(options: SpdkStartOptions = {}): Promise<Spdk> {
    const native = normalizeStartOptions(options);
    const lib = addon();
    removeStaleRuntimeDirs();
    let info;
    try {
      info = await lib.start(native);
      allowQueues();
    } catch (error) {
      throw error instanceof SpdkError && error.operation === 'Spdk.start' && error.code === 'EIO'
        ? explainStartFailure(error, native)
        : error;
    }
    let rpc: RpcClient | null = null;
    if (native.rpcSocket !== '') {
      try {
        rpc = await RpcClient.connect(native.rpcSocket);
      } catch (error) {
        await lib.stop();
        throw error;
      }
    }
    const version = /v\d+\.\d+(\.\d+)?\S*/.exec(info.version)?.[0] ?? info.version;
    const spdk = new Spdk(version, info.cores, info.mainCore, native.rpcSocket || null, rpc, native.pci);
    installSignalHandlers(() => spdk.stop());
    if (native.interruptMode && rpc !== null) void warnAboutBusyPollers(rpc);
    return spdk;
  }

  /** Is this instance running (not stopped, not stopping)? */
  get running(): boolean {
    return !this.#stopped && this.#stopping === undefined;
  }

  /** Typed JSON-RPC to this instance (every SPDK RPC method). */
  get rpc(): RpcClient {
    if (this.#rpc === null) {
      throw new SpdkError('this instance was started with rpcSocket: false, so it has no RPC server', {
        operation: 'Spdk.rpc',
        errno: 107, // ENOTCONN
      });
    }
    return this.#rpc;
  }

  /** NVMe controllers through SPDK's NVMe driver: connect (fabrics, PCIe) and probe. */
  get nvme(): Nvme {
    this.#nvme ??= new Nvme({ pci: this.#pci, rpc: () => this.#rpc });
    return this.#nvme;
  }

  /** Every bdev SPDK has now (a short synchronous query of SPDK's app thread). */
  bdevs(): BdevInfo[] {
    return addon().listBdevs();
  }

  /** Opens a bdev by name (or alias) for I/O. */
  openBdev(name: string, options: OpenBdevOptions = {}): Promise<Bdev> {
    try {
      if (typeof name !== 'string' || name === '') throw new TypeError(`Spdk.openBdev: name must be a non-empty string, got ${String(name)}`);
      // SPDK would look up the name up to its first NUL, which names another bdev.
      if (name.includes('\0')) throw new TypeError(`Spdk.openBdev: name must not contain a NUL character, got ${JSON.stringify(name)}`);
      if (options === null || typeof options !== 'object') throw new TypeError('Spdk.openBdev: options must be an object');
      if (options.write !== undefined && typeof options.write !== 'boolean') throw new TypeError('Spdk.openBdev: options.write must be a boolean');
      const spinUs = checkSpinUs('Spdk.openBdev', options.spinUs);
      return addon().openBdev(name, options.write ?? false).then((native) => new Bdev(native, spinUs));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * DMA-safe memory as a Buffer, zero-filled. I/O on it needs no copy. It belongs to SPDK:
   * when SPDK stops, the Buffer becomes empty (length 0) rather than pointing at freed memory.
   */
  allocBuffer(size: number, options: AllocBufferOptions = {}): Buffer {
    if (typeof size !== 'number' || !Number.isSafeInteger(size)) throw new TypeError(`Spdk.allocBuffer: size must be an integer number of bytes, got ${String(size)}`);
    if (size <= 0 || size > MAX_BUFFER) throw new RangeError(`Spdk.allocBuffer: size must be between 1 and ${MAX_BUFFER} bytes, got ${size}`);
    const align = options.align ?? 4096;
    if (typeof align !== 'number' || !Number.isSafeInteger(align) || align <= 0 || (align & (align - 1)) !== 0 || align > 2 ** 21) {
      throw new RangeError(`Spdk.allocBuffer: align must be a power of two up to 2 MiB, got ${String(align)}`);
    }
    return allocDmaBuffer(size, align);
  }

  /**
   * Stops SPDK: waits for in-flight I/O, closes every bdev, shuts SPDK's subsystems down.
   * Idempotent. Buffers from allocBuffer() become empty.
   */
  stop(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#stopping ??= (async () => {
      uninstallSignalHandlers();
      // Reads and writes already started are submitted and complete before SPDK goes. I/O a
      // device never completes must not hold stop() forever: after CLOSE_GRACE_MS, stopping goes
      // on, and closing each bdev natively resets one that still has I/O in flight (it then fails).
      const settling = Promise.all([settleAll(), settleQueues()]);
      if (await settlesWithinGrace(settling)) await settling;
      else process.emitWarning(`Spdk.stop(): I/O still in flight ${CLOSE_GRACE_MS / 1000} s after stop(); stopping anyway (bdevs with I/O in flight are reset)`, { code: 'SPDK_NODE_STOP_RESET' });
      await this.#rpc?.close().catch(() => undefined);
      await addon().stop();
      this.#markStopped();
    })();
    return this.#stopping;
  }

  [asyncDispose](): Promise<void> {
    return this.stop();
  }

  #markStopped(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#forgetUnexpectedStop();
    uninstallSignalHandlers();
    void this.#rpc?.close().catch(() => undefined);
    if (this.rpcSocket !== null) {
      // SPDK removes its socket on a clean shutdown; after a crash-stop it may not have.
      try {
        unlinkSync(this.rpcSocket);
      } catch {
        // already gone
      }
    }
  }
}
