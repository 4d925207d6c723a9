// The CLI fed random argument vectors (fast-check): every one ends in an exit status (0, 1 or 2)
// with its message on stderr, never an exception out of main(). Nothing real is touched: SPDK's
// start is replaced by one that checks the options it was given (normalizeStartOptions, as the real
// one does first) and then fails with an SpdkError; RPC connections go to a socket path where
// nothing listens; the devices commands run over a fake machine.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { commands as realCommands } from '../../src/cli/commands';
import { devicesCommands } from '../../src/cli/devices';
import { Spdk } from '../../src/spdk';
import { RpcClient } from '../../src/rpc';
import { SpdkError } from '../../src/errors';
import { normalizeStartOptions, type SpdkStartOptions } from '../../src/start-options';
import { FakeMachine } from './fake-devices';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spdk-node-fuzz-cli-'));
const goodConfig = path.join(dir, 'good.json');
const badConfig = path.join(dir, 'bad.json');
fs.writeFileSync(goodConfig, JSON.stringify({ subsystems: [{ subsystem: 'bdev', config: [] }] }));
fs.writeFileSync(badConfig, '{"subsystems": [');
const nowhere = path.join(dir, 'nothing-listens.sock');

const started: SpdkStartOptions[] = [];
let machine: FakeMachine;
beforeAll(() => {
  vi.spyOn(Spdk, 'start').mockImplementation(async (options?: SpdkStartOptions) => {
    started.push(options ?? {});
    normalizeStartOptions({ ...options, hugepages: options?.hugepages === 'auto' || options?.hugepages === undefined ? false : options.hugepages });
    throw new SpdkError('not started: this is a fuzz test', { operation: 'Spdk.start', errno: 19 });
  });
  const realConnect = RpcClient.connect.bind(RpcClient);
  vi.spyOn(RpcClient, 'connect').mockImplementation((_path, options) => realConnect(nowhere, options));
  machine = new FakeMachine();
  machine.addNvme('0000:00:04.0', { serial: 'F1' });
  machine.addNvme('0000:00:05.0', { serial: 'F2' });
});
afterEach(() => {
  started.length = 0;
});
afterAll(() => {
  machine.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

function commands() {
  return [...realCommands.filter((c) => !c.name.startsWith('devices')), ...devicesCommands(() => machine)];
}

async function run(argv: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t) }, commands());
  return { status, out, err };
}

describe('spdk-node demo sizes', () => {
  it('--size-mb up to 4096 gives a malloc bdev of that size (32-bit shifts overflowed from 2048 on)', async () => {
    for (const mb of [1, 64, 2047, 2048, 4096]) {
      const r = await run(['demo', '--size-mb', String(mb), '--hugepages', 'off']);
      expect(r.status).toBe(1); // start refused by the stand-in
      const config = started.at(-1)?.config;
      const params = config?.subsystems[0]?.config?.[0]?.params as { num_blocks: number; block_size: number };
      expect(params.num_blocks * params.block_size).toBe(mb * 1024 * 1024);
    }
  });
});

describe('spdk-node with random arguments (fast-check)', () => {
  const words = ['doctor', 'demo', 'devices', 'bind', 'unbind', 'bdev', 'list', 'perf', 'nvme', 'identify', 'rpc', 'help'];
  const flags = [
    '--json', '--all', '--driver', '--user', '--allow-data', '--config', '--hugepages', '--mem-size', '--cpu-mask', '--size-mb',
    '--rpc', '--socket', '--timeout', '--workload', '--qd', '--io-size', '--time', '--help', '-h', '-V', '--version', '--', '-x', '--nope', '-',
    '--config=', '--mem-size=-1', '--timeout=0', '--hugepages=maybe',
  ];
  const values = [
    goodConfig, badConfig, path.join(dir, 'missing.json'), dir, nowhere, 'on', 'off', 'auto', '0', '-1', '1', '64', '2048', '4097', '1e3', 'NaN',
    'Infinity', '0x1', '[0]', '[99]', '0x0', 'randread', 'randwrite', 'mixed', 'vfio-pci', 'igb_uio', 'root', '0000:00:04.0', '00:05.0', 'nvme0',
    '{}', '[]', '{"name":1}', '"x"', 'null', '{nope', 'bdev_get_bdevs', 'trtype:TCP traddr:127.0.0.1 trsvcid:1 subnqn:nqn.x', 'trtype:PCIe traddr:zz',
  ];
  const arg = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...flags) },
    { weight: 3, arbitrary: fc.constantFrom(...values) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  );
  const argv = fc.tuple(fc.array(fc.constantFrom(...words), { maxLength: 2 }), fc.array(arg, { maxLength: 7 })).map(([a, b]) => [...a, ...b]);

  it('every argv ends in exit status 0, 1 or 2, with a message for 1 and 2; none throws', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        // Never let the property bind or unbind anything real (it runs over the fake machine anyway).
        const r = await run(args);
        expect([0, 1, 2]).toContain(r.status);
        seen.add(r.status);
        if (r.status !== 0) expect(r.err.length).toBeGreaterThan(0);
        if (r.status === 2) expect(r.err).toMatch(/Usage|usage|Commands:|Subcommands:/);
        // A start that happened saw options the library validates itself; the stand-in threw a
        // typed error for bad ones, which main turned into status 1.
      }),
      {
        numRuns: 400,
        // Besides the random ones: a run that reaches the (stand-in) start, help, and a usage error.
        examples: [[['demo', '--hugepages', 'off']], [['bdev', 'list', '--config', goodConfig]], [['--help']], [['devices', 'bind', 'nvme0']]],
      },
    );
    // Not vacuous: the runs reached help, usage errors, and commands that went as far as starting.
    expect([...seen].sort()).toEqual([0, 1, 2]);
    expect(started.length).toBeGreaterThan(0);
  });
});

describe('spdk-node rpc --timeout', () => {
  it('a timeout too long for a timer is a usage error naming --timeout (exit 2), not an internal RangeError', async () => {
    for (const t of ['1e10', '3000000']) {
      const r = await run(['rpc', 'spdk_get_version', '--timeout', t]);
      expect(r.status).toBe(2);
      expect(r.err).toMatch(/--timeout/);
    }
  });
});
