// Options shared by the commands that start SPDK in this process, and starting it for them.
import { readFileSync } from 'node:fs';
import { Spdk, type SpdkConfig, type SpdkStartOptions } from '../index';
import { UsageError, type CliIo } from './command';

export const spdkOptionSpecs = {
  config: { type: 'string' },
  hugepages: { type: 'string' },
  'mem-size': { type: 'string' },
  'cpu-mask': { type: 'string' },
} as const;

export const spdkOptionsUsage = [
  '  --config FILE       SPDK JSON config to start with (as spdk_tgt --json takes)',
  '  --hugepages MODE    auto (default), on, off',
  '  --mem-size MB       memory SPDK reserves (default: as needed with hugepages, 1536 without)',
  '  --cpu-mask MASK     reactor cores, e.g. 0x2 or [1] (default: the last core)',
];

export interface SpdkOptionValues {
  config?: string;
  hugepages?: string;
  'mem-size'?: string;
  'cpu-mask'?: string;
}

export function readConfig(path: string): SpdkConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --config ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as SpdkConfig;
  } catch (error) {
    throw new UsageError(`--config ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

export function startOptions(values: SpdkOptionValues, config?: SpdkConfig): SpdkStartOptions {
  const options: SpdkStartOptions = { logLevel: 'error' };
  const cfg = config ?? (values.config !== undefined ? readConfig(values.config) : undefined);
  if (cfg !== undefined) options.config = cfg;
  if (values.hugepages !== undefined) {
    const map: Record<string, boolean | 'auto'> = { auto: 'auto', on: true, off: false };
    const mode = map[values.hugepages];
    if (mode === undefined) throw new UsageError(`--hugepages must be auto, on or off, not '${values.hugepages}'`);
    options.hugepages = mode;
  }
  if (values['mem-size'] !== undefined) {
    const mb = Number(values['mem-size']);
    if (!Number.isInteger(mb)) throw new UsageError(`--mem-size must be a whole number of MB, not '${values['mem-size']}'`);
    options.memSizeMb = mb;
  }
  if (values['cpu-mask'] !== undefined) options.cpuMask = values['cpu-mask'];
  return options;
}

/** Starts SPDK, runs `work`, stops SPDK (also when `work` throws). */
export async function withSpdk<T>(options: SpdkStartOptions, io: CliIo, work: (spdk: Spdk) => Promise<T>): Promise<T> {
  io.err('starting SPDK...\n');
  const spdk = await Spdk.start(options);
  try {
    return await work(spdk);
  } finally {
    await spdk.stop();
  }
}
