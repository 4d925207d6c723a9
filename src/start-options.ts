// Spdk.start() options: validated and given their defaults here, once, before anything crosses
// into native code.
import { accessSync, constants as fsConstants } from 'node:fs';
import { availableParallelism, cpus as osCpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPoolFreeMb, probeHugepages } from './doctor/hugepages';
import type { NativeStartOptions } from './addon';
import type { RpcMethodName, RpcParamsMap } from './rpc/methods.generated';

/** SPDK's log levels, most to least severe (`'warn'`, SPDK's own spelling, means `'warning'`). */
export type SpdkLogLevel = 'none' | 'error' | 'warning' | 'warn' | 'notice' | 'info' | 'debug';

/**
 * One call of an SPDK JSON configuration: an RPC method and its parameters, typed as
 * `RpcClient.call` types them (from SPDK's schema), so that a misspelt method or parameter is a
 * compile error. A configuration read from a file (JSON.parse) is not checked until SPDK loads it.
 */
export type SpdkConfigEntry = {
  [M in RpcMethodName]: { method: M; params?: [RpcParamsMap[M]] extends [void] ? Record<string, unknown> : RpcParamsMap[M] };
}[RpcMethodName];

/** An SPDK JSON configuration, as `spdk_tgt --json` takes it (and `save_config` writes it). */
export interface SpdkConfig {
  subsystems: Array<{ subsystem: string; config: SpdkConfigEntry[] | null }>;
}

export interface SpdkStartOptions {
  /** SPDK JSON configuration applied at start (bdevs, NVMe-oF targets...). */
  config?: SpdkConfig;
  /**
   * Cores for SPDK's reactors: a mask (`'0x2'`), a list (`'[1,2]'`) or core numbers (`[1]`).
   * Default: the last core, leaving the others to Node. The first core runs SPDK's app thread.
   */
  cpuMask?: string | number | number[];
  /**
   * Memory SPDK reserves at start, in MB. Default with hugepages: none reserved up front, SPDK
   * takes hugepages as it needs them. Default without: 1536 (SPDK with every subsystem linked in
   * needs about 1.5 GB of anonymous memory; a library built with `./build.sh --lean` less).
   */
  memSizeMb?: number;
  /**
   * Use hugepages (`true`), anonymous memory (`false`), or decide from what is free (`'auto'`,
   * the default: hugepages when at least 1 GiB of them is free and this process can write to a
   * hugetlbfs mount).
   */
  hugepages?: boolean | 'auto';
  /** hugetlbfs mount to use (default: DPDK finds one). */
  hugeDir?: string;
  /**
   * Unix socket path for SPDK's JSON-RPC server, so other processes (spdk's rpc.py, RpcClient)
   * can manage this instance. Default: a private socket in the temp directory, used by
   * `spdk.rpc`. `false`: no RPC server (and no `spdk.rpc`).
   */
  rpcSocket?: string | false;
  /** Reactors sleep when idle instead of polling (saves CPU; adds wake-up latency). */
  interruptMode?: boolean;
  /** Which SPDK messages are printed to stderr (all warnings and errors are kept for errors). Default 'warning'. */
  logLevel?: SpdkLogLevel;
  /** Claim the cores with lock files in /var/tmp, as spdk_tgt does. Default false, so several processes can share cores. */
  lockCores?: boolean;
  /** Let DPDK scan and use PCI devices (local NVMe SSDs). Default: true when running as root. */
  pci?: boolean;
  /** Name of this SPDK instance (its DPDK file prefix is unique per process regardless). */
  name?: string;
}

// SPDK's enum spdk_log_level values.
const logLevels: Record<SpdkLogLevel, number> = { none: -1, error: 0, warning: 1, warn: 1, notice: 2, info: 3, debug: 4 };

export const DEFAULT_NO_HUGE_MEM_MB = 1536;
const AUTO_HUGEPAGES_MIN_MB = 1024;

function fail(option: string, expected: string, got: unknown): never {
  throw new TypeError(`Spdk.start: option '${option}' must be ${expected}, got ${typeof got === 'string' ? `'${got}'` : String(got)}`);
}

function cpuMaskOf(value: SpdkStartOptions['cpuMask']): string {
  const cores = availableParallelism();
  if (value === undefined) return `[${Math.max(0, cores - 1)}]`;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value <= 0) fail('cpuMask', 'a positive bitmask of cores', value);
    if (value >= 2 ** cores) throw new RangeError(`Spdk.start: cpuMask 0x${value.toString(16)} names cores this machine lacks (cores 0-${cores - 1})`);
    return `0x${value.toString(16)}`;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) throw new RangeError('Spdk.start: cpuMask lists no cores');
    for (const c of value) {
      if (!Number.isInteger(c) || c < 0) fail('cpuMask', 'core numbers (non-negative integers)', c);
      if (c >= cores) throw new RangeError(`Spdk.start: cpuMask core ${c} does not exist (this machine has cores 0-${cores - 1})`);
    }
    return `[${value.join(',')}]`;
  }
  if (typeof value !== 'string') fail('cpuMask', "a mask string ('0x2'), a list string ('[1]') or an array of core numbers", value);
  if (!/^(0x[0-9a-fA-F]+|[0-9a-fA-F]+|\[[0-9,\- \t]*\])$/.test(value)) {
    fail('cpuMask', "a hex mask ('0x2') or a core list ('[1,2]')", value);
  }
  checkMaskString(value);
  return value;
}

/**
 * The string forms get the checks the number and array forms get (at least one core, every core
 * on this machine), read as SPDK's spdk_cpuset_parse reads them; otherwise DPDK fails to start
 * with only "Unable to initialize SPDK env".
 */
function checkMaskString(value: string): void {
  const machineCores = osCpus().length || availableParallelism();
  const lacks = (core: number | bigint): never => {
    throw new RangeError(`Spdk.start: cpuMask '${value}' names core ${core}, which this machine lacks (cores 0-${machineCores - 1})`);
  };
  if (!value.startsWith('[')) {
    const bits = BigInt(value.startsWith('0x') ? value : `0x${value}`);
    if (bits === 0n) throw new RangeError(`Spdk.start: cpuMask '${value}' names no cores`);
    const highest = bits.toString(2).length - 1;
    if (highest >= machineCores) lacks(highest);
    return;
  }
  const body = value.slice(1, -1);
  if (body.trim() === '') throw new RangeError(`Spdk.start: cpuMask '${value}' lists no cores`);
  for (const part of body.split(',')) {
    const m = /^[ \t]*(\d+)[ \t]*(?:-[ \t]*(\d+)[ \t]*)?$/.exec(part);
    if (m === null) throw new RangeError(`Spdk.start: cpuMask '${value}' is not a core list such as '[0,2-3]' (at '${part}')`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first) throw new RangeError(`Spdk.start: cpuMask '${value}' has the range ${first}-${last}, which runs backwards`);
    if (last >= machineCores) lacks(last);
  }
}

function useHugepages(value: SpdkStartOptions['hugepages']): boolean {
  if (value === undefined || value === 'auto') {
    const hugepages = probeHugepages();
    if (defaultPoolFreeMb(hugepages) < AUTO_HUGEPAGES_MIN_MB) return false;
    // DPDK creates its page files in a hugetlbfs mount: one this process cannot write to (a
    // root-owned /dev/hugepages, for a non-root user) is as good as none.
    return hugepages.mounts.some((m) => writable(m.path));
  }
  if (typeof value !== 'boolean') fail('hugepages', "true, false or 'auto'", value);
  return value;
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

let socketCounter = 0;

export function normalizeStartOptions(options: SpdkStartOptions = {}): NativeStartOptions {
  if (options === null || typeof options !== 'object') fail('options', 'an object', options);
  const hugepages = useHugepages(options.hugepages);

  let memSizeMb = hugepages ? 0 : DEFAULT_NO_HUGE_MEM_MB;
  if (options.memSizeMb !== undefined) {
    if (!Number.isInteger(options.memSizeMb)) fail('memSizeMb', 'an integer number of MB', options.memSizeMb);
    if (options.memSizeMb < 64 || options.memSizeMb > 1024 * 1024) {
      throw new RangeError(`Spdk.start: memSizeMb must be between 64 and 1048576, got ${options.memSizeMb}`);
    }
    memSizeMb = options.memSizeMb;
  }

  let jsonConfig = '';
  if (options.config !== undefined) {
    const c = options.config as unknown;
    if (c === null || typeof c !== 'object' || !Array.isArray((c as SpdkConfig).subsystems)) {
      fail('config', 'an SPDK JSON config object ({ subsystems: [...] })', c);
    }
    jsonConfig = JSON.stringify(c);
  }

  let rpcSocket = '';
  if (options.rpcSocket === undefined) {
    rpcSocket = join(tmpdir(), `spdk-node-${process.pid}-${socketCounter++}.sock`);
  } else if (options.rpcSocket !== false) {
    if (typeof options.rpcSocket !== 'string' || options.rpcSocket === '') fail('rpcSocket', 'a socket path or false', options.rpcSocket);
    // C reads the path up to its first NUL: a different path than the one given.
    if (options.rpcSocket.includes('\0')) fail('rpcSocket', 'a socket path without NUL characters', JSON.stringify(options.rpcSocket));
    // sockaddr_un.sun_path holds 108 bytes including the terminator.
    if (Buffer.byteLength(options.rpcSocket) > 107) throw new RangeError(`Spdk.start: rpcSocket path is longer than 107 bytes: ${options.rpcSocket}`);
    rpcSocket = options.rpcSocket;
  }

  const logLevel = typeof options.logLevel === 'string' ? options.logLevel.toLowerCase() : (options.logLevel ?? 'warning');
  if (typeof logLevel !== 'string' || !Object.hasOwn(logLevels, logLevel)) {
    fail('logLevel', Object.keys(logLevels).map((l) => `'${l}'`).join(', '), options.logLevel);
  }

  for (const key of ['interruptMode', 'lockCores', 'pci'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') fail(key, 'a boolean', options[key]);
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || !/^[\w.-]{1,64}$/.test(options.name))) {
    fail('name', 'a short name of letters, digits, ".", "_" or "-"', options.name);
  }
  if (options.hugeDir !== undefined && (typeof options.hugeDir !== 'string' || options.hugeDir.includes('\0'))) {
    fail('hugeDir', 'a directory path (without NUL characters)', typeof options.hugeDir === 'string' ? JSON.stringify(options.hugeDir) : options.hugeDir);
  }

  return {
    name: options.name ?? 'spdk-node',
    cpuMask: cpuMaskOf(options.cpuMask),
    rpcSocket,
    jsonConfig,
    hugeDir: options.hugeDir ?? '',
    memSizeMb,
    hugepages,
    interruptMode: options.interruptMode ?? false,
    lockCores: options.lockCores ?? false,
    pci: options.pci ?? process.getuid?.() === 0,
    logLevel: logLevels[logLevel as SpdkLogLevel],
  };
}
