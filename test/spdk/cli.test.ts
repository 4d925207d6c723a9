// The spdk-node CLI against a real SPDK: each command that starts SPDK runs as its own process.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';
import { runChild } from '../child';
import { freePort, SPDK_TGT, startChildTarget, tridOf } from './nvme-target';
import { describeSpdk } from './support';

const cli = join(__dirname, '..', '..', 'lib', 'cli.js');
const run = (...args: string[]) => runChild(process.execPath, [cli, ...args], { timeout: 120_000 });

describeSpdk('spdk-node CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spdk-node-cli-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    subsystems: [{ subsystem: 'bdev', config: [{ method: 'bdev_null_create', params: { name: 'Null0', num_blocks: 65536, block_size: 4096 } }] }],
  }));

  it('demo writes, reads back and verifies a malloc bdev', async () => {
    const r = await run('demo', '--size-mb', '8');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/verified: every byte read back matches/);
  });

  it('bdev list shows the bdevs of a config, as text and JSON', async () => {
    const text = await run('bdev', 'list', '--config', config);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/Null0\s+256\.0 MiB\s+4096\s+Null disk/);
    const json = await run('bdev', 'list', '--config', config, '--json');
    expect(JSON.parse(json.stdout)).toEqual([{ name: 'Null0', product: 'Null disk', blockSize: 4096, numBlocks: 65536 }]);
  });

  it('bdev perf measures a bdev and reports IOPS with progress', async () => {
    const r = await run('bdev', 'perf', 'Null0', '--config', config, '--time', '2', '--qd', '32');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Null0 randread qd=32 io=4096B: [\d,]+ IOPS, [\d.]+ MiB\/s, 0 errors/);
    expect(r.stderr).toMatch(/1s: \d+K IOPS/);
  });

  it('bdev perf on an unknown bdev fails with ENODEV and exit status 1', async () => {
    const r = await run('bdev', 'perf', 'Nope', '--config', config, '--time', '1');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no bdev named 'Nope' \(ENODEV\)/);
  });

  it('rpc calls a method on a running spdk-node and bdev list --rpc lists its bdevs', async () => {
    const socket = join(dir, 'app.sock');
    const lib = join(__dirname, '..', '..', 'lib');
    const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(lib)}).Spdk.start({ rpcSocket: ${JSON.stringify(socket)}, logLevel: 'error' }).then((s) => { console.log('ready'); process.stdin.once('data', () => s.stop()); });`], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
      const created = await run('rpc', 'bdev_malloc_create', '{"name":"CliM","num_blocks":1024,"block_size":512}', '--socket', socket);
      expect(created.status).toBe(0);
      expect(JSON.parse(created.stdout)).toBe('CliM');
      const listed = await run('bdev', 'list', '--rpc', socket);
      expect(listed.stdout).toMatch(/CliM/);
      const bad = await run('rpc', 'bdev_malloc_create', '{"name":"CliM","num_blocks":1024,"block_size":512}', '--socket', socket);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/JSON-RPC code/);
    } finally {
      child.stdin!.write('x');
      child.kill('SIGTERM');
    }
  });

  const withTarget = existsSync(SPDK_TGT) ? it : it.skip;
  withTarget(`nvme identify connects to an NVMe-oF target and prints its identity, namespaces and health${existsSync(SPDK_TGT) ? '' : ` [skipped: ${SPDK_TGT} is not installed]`}`, async () => {
    const spec = { port: await freePort(), nqn: 'nqn.2016-06.io.spdk:cli-identify', serial: 'CLI0001', model: 'spdk-node CLI test', bdevs: [{ name: 'CliNs', numBlocks: 8192, blockSize: 512 }] };
    const target = await startChildTarget(spec);
    try {
      const text = await run('nvme', 'identify', tridOf(spec));
      expect(text.status).toBe(0);
      expect(text.stdout).toMatch(/spdk-node CLI test \(serial CLI0001/);
      expect(text.stdout).toMatch(/namespace 1 {2}8192 sectors of 512 bytes/);
      expect(text.stdout).toMatch(/health/);
      const json = await run('nvme', 'identify', tridOf(spec), '--json');
      const parsed = JSON.parse(json.stdout) as { data: { sn: string; subnqn: string }; namespaces: unknown[] };
      expect(parsed.data.sn.trim()).toBe('CLI0001');
      expect(parsed.data.subnqn).toBe(spec.nqn);
      expect(parsed.namespaces).toHaveLength(1);
    } finally {
      await target.kill();
    }
  });

  it('nvme identify fails cleanly on a malformed transport ID and on an address with no target', async () => {
    const bad = await run('nvme', 'identify', 'trtype:NOPE traddr:x');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/trtype|transport/i);
    const port = await freePort();
    const none = await run('nvme', 'identify', `trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:${port} subnqn:nqn.2016-06.io.spdk:none`);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/nvme|connect/i);
  });
});
