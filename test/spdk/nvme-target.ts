// NVMe-oF TCP targets for the NVMe tests: malloc bdevs exported by an SPDK nvmf subsystem on a free
// loopback port, either in the test's own SPDK (through Spdk.start's config) or in a child
// spdk_tgt process that a test can kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { RpcClient, type SpdkConfig } from '../../src';
import { describeSpdk, spdkToolsDir } from './support';

export const SPDK_TGT = join(spdkToolsDir, 'spdk_tgt');

export interface TargetSpec {
  port: number;
  nqn: string;
  serial: string;
  model: string;
  /** Malloc bdevs, or, with `file`, aio bdevs over that file (whose data outlives the target). */
  bdevs: Array<{ name: string; numBlocks: number; blockSize: number; file?: string }>;
  /** Addresses it listens on (default 127.0.0.1), each at `port`. */
  traddrs?: string[];
  /** A network namespace to run it in (ip netns exec), for addresses that exist only there. */
  netns?: string;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The SPDK JSON config of a target: malloc bdevs, one TCP subsystem exporting them all. */
export function targetConfig(t: TargetSpec): SpdkConfig {
  return {
    subsystems: [
      {
        subsystem: 'bdev',
        config: t.bdevs.map((b) => b.file === undefined
          ? { method: 'bdev_malloc_create', params: { name: b.name, num_blocks: b.numBlocks, block_size: b.blockSize } }
          : { method: 'bdev_aio_create', params: { name: b.name, filename: b.file, block_size: b.blockSize } }),
      },
      {
        subsystem: 'nvmf',
        config: [
          { method: 'nvmf_create_transport', params: { trtype: 'TCP' } },
          {
            method: 'nvmf_create_subsystem',
            params: { nqn: t.nqn, allow_any_host: true, serial_number: t.serial, model_number: t.model },
          },
          ...t.bdevs.map((b) => ({ method: 'nvmf_subsystem_add_ns', params: { nqn: t.nqn, namespace: { bdev_name: b.name } } })),
          ...(t.traddrs ?? ['127.0.0.1']).map((traddr) => ({
            method: 'nvmf_subsystem_add_listener',
            params: { nqn: t.nqn, listen_address: { trtype: 'TCP', adrfam: 'IPv4', traddr, trsvcid: String(t.port) } },
          })),
        ],
      },
    ],
  };
}

export function tridOf(t: TargetSpec): string {
  return `trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:${t.port} subnqn:${t.nqn}`;
}

export interface ChildTarget {
  readonly process: ChildProcess;
  readonly output: () => string;
  /** SIGKILL, and wait for the process to be gone. */
  kill(): Promise<void>;
}

/**
 * Runs spdk_tgt with the target config on core 0 (the test's SPDK uses the last core), without
 * hugepages, with its own RPC socket; resolves once its subsystems are initialised.
 */
export async function startChildTarget(t: TargetSpec): Promise<ChildTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'spdk-node-tgt-'));
  const configPath = join(dir, 'config.json');
  const rpcSocket = join(dir, 'rpc.sock');
  writeFileSync(configPath, JSON.stringify(targetConfig(t)));
  const args = [SPDK_TGT, '-m', '0x1', '--json', configPath, '-r', rpcSocket, '--no-huge', '-s', '1024', '--disable-cpumask-locks', '--no-pci', '--silence-noticelog', '--num-trace-entries', '0'];
  // ip netns exec execs the target in place: the child's pid is the target's.
  const command = t.netns === undefined ? args : ['ip', 'netns', 'exec', t.netns, ...args];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const target: ChildTarget = {
    process: child,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const deadline = Date.now() + 30_000;
    while (!existsSync(rpcSocket)) {
      if (child.exitCode !== null) throw new Error(`spdk_tgt exited with ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`spdk_tgt did not start within 30 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const rpc = await RpcClient.connect(rpcSocket);
    try {
      await rpc.call('framework_wait_init');
    } finally {
      await rpc.close();
    }
    return target;
  } catch (error) {
    await target.kill();
    throw error;
  }
}

/** `describeSpdk` for suites that need SPDK's spdk_tgt (installed by build.sh) as a separate target. */
export function describeRemote(name: string, body: () => void): void {
  if (existsSync(SPDK_TGT)) {
    describeSpdk(name, body);
  } else {
    describe.skip(`${name} [skipped: ${SPDK_TGT} is not installed; ./build.sh installs it]`, body);
  }
}
