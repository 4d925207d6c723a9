// An I/O queue pair of an NVMe controller. Commands are submitted on it through a namespace
// (`ns.read(qp, ...)`); SPDK polls it on its app thread, never on Node's.
import { asyncDispose } from '../dispose';
import type { NvmeController } from './controller';
import { NvmeIo } from './io';
import type { NativeNvmeQpair } from './native';

export interface IoQpairOptions {
  /**
   * Queue depth: how many commands the controller queue holds (at most `controller.maxQueueDepth`).
   * More may be submitted: SPDK queues the excess until entries free up. Default 128, or the
   * controller's maximum if that is smaller.
   */
  depth?: number;
  /** SPDK request objects for this queue pair (a command larger than the transfer limit uses several). Default: twice the depth, at least SPDK's default. */
  requests?: number;
  /**
   * For ns.read()/write()/compare() on this queue pair: how long the JS thread busy-waits for
   * completions before it sleeps until SPDK wakes it, in microseconds (see IoQueueOptions.spinUs).
   * Default 50. Use 0 when the JS thread shares its core with a busy thread (an NVMe-oF target or
   * SPDK's reactor on a 2-core machine): spinning then only takes time from the work it waits for.
   */
  spinUs?: number;
}

export class IoQpair implements AsyncDisposable {
  /** The controller this queue pair belongs to. */
  readonly controller: NvmeController;
  /** @internal */
  readonly native: NativeNvmeQpair;
  #freeing: Promise<void> | undefined;
  // The Promise API's ring of each namespace used on this queue pair, made on first use.
  readonly #rings = new Map<number, NvmeIo>();

  readonly #spinUs: number;

  /** @internal Use `controller.allocIoQpair()`. */
  constructor(controller: NvmeController, native: NativeNvmeQpair, spinUs: number) {
    this.controller = controller;
    this.native = native;
    this.#spinUs = spinUs;
  }

  /** Queue ID (1 and up). */
  get id(): number {
    return this.native.id;
  }

  get depth(): number {
    return this.native.depth;
  }

  /** Was free() called (or the controller detached)? */
  get freed(): boolean {
    return this.#freeing !== undefined || this.controller.detached;
  }

  /**
   * Frees the queue pair once the commands in flight on it have completed. Idempotent; later
   * commands on it are rejected with EBADF. Detaching the controller or stopping SPDK frees it too.
   */
  free(): Promise<void> {
    if (this.#freeing === undefined) {
      // Commands started before free() still run: submit them now, ahead of the free.
      this.flush();
      this.#freeing = this.native.free();
    }
    return this.#freeing;
  }

  /** @internal The Promise ring for namespace `nsid`. */
  ioFor(nsid: number, blockSize: number): NvmeIo {
    let io = this.#rings.get(nsid);
    if (io === undefined) {
      io = new NvmeIo(this.native, nsid, blockSize, this.#spinUs);
      this.#rings.set(nsid, io);
    }
    return io;
  }

  /** @internal Submits what the Promise rings have staged. */
  flush(): void {
    for (const io of this.#rings.values()) io.flush();
  }

  [asyncDispose](): Promise<void> {
    return this.free();
  }
}
