// The native addon's surface as the TypeScript layer sees it, loaded once with its handlers
// registered. Nothing outside src/ sees these types: the public API wraps them.
import { isMainThread } from 'node:worker_threads';
import { SpdkError, NvmeError } from './errors';
import { loadNative } from './native';
import { nvmeStatusNames } from './nvme/status';
import type { BdevInfo } from './bdev/info';
import type { NativeNvme } from './nvme/native';
import type { NativeIoRingConstructor } from './io/ring';

export interface NativeStartOptions {
  name: string;
  cpuMask: string;
  rpcSocket: string;
  jsonConfig: string;
  hugeDir: string;
  memSizeMb: number;
  hugepages: boolean;
  interruptMode: boolean;
  lockCores: boolean;
  pci: boolean;
  logLevel: number;
}

export interface NativeStartInfo {
  version: string;
  cores: number;
  mainCore: number;
}

export interface NativeBdev {
  readonly name: string;
  readonly writable: boolean;
  readonly blockSize: number;
  readonly numBlocks: number;
  readonly bufAlign: number;
  flush(offset: number, length: number): Promise<void>;
  unmap(offset: number, length: number): Promise<void>;
  writeZeroes(offset: number, length: number): Promise<void>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface NativeAddon extends NativeNvme {
  start(options: NativeStartOptions): Promise<NativeStartInfo>;
  stop(): Promise<void>;
  state(): 'idle' | 'starting' | 'running' | 'stopping';
  setHandlers(handlers: { makeError: (...args: unknown[]) => Error; onStopped: () => void }): void;
  recentLog(): string[];
  /** The status the process exits with, for an exit that must skip the remaining exit handlers. */
  setExitCode(code: number): void;
  readonly libraryVersion: string;
  readonly addonVersion: string;
  allocDma(size: number, align: number): ArrayBuffer;
  dmaAddress(memory: ArrayBuffer): number;
  openBdev(name: string, write: boolean): Promise<NativeBdev>;
  listBdevs(): BdevInfo[];
  IoRing: NativeIoRingConstructor;
}

const stoppedListeners = new Set<() => void>();

/** Called (on the JS thread) when SPDK stops without stop() being called. */
export function onUnexpectedStop(listener: () => void): () => void {
  stoppedListeners.add(listener);
  return () => stoppedListeners.delete(listener);
}

function makeError(kind: unknown, operation: unknown, a: unknown, b: unknown, c: unknown): Error {
  if (kind === 'nvme') {
    const s = a as { sct: number; sc: number; dnr: boolean };
    return new NvmeError(String(operation), { ...s, ...nvmeStatusNames(s.sct, s.sc) });
  }
  return new SpdkError(String(b), { operation: String(operation), errno: Number(a), log: (c as string[]) ?? [] });
}

let loaded: NativeAddon | undefined;

/** The addon, loaded and checked on first use (throws SpdkLoadError with the doctor's findings). */
export function addon(): NativeAddon {
  if (loaded === undefined) {
    const native = loadNative<NativeAddon>();
    native.setHandlers({
      makeError: makeError as (...args: unknown[]) => Error,
      onStopped: () => {
        for (const l of [...stoppedListeners]) l();
      },
    });
    // If SPDK cannot be stopped in time at exit, the addon ends the process itself: with this status.
    if (isMainThread) process.on('exit', (code) => native.setExitCode(code));
    loaded = native;
  }
  return loaded;
}
