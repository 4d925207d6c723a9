// The JSON-RPC management surface against a real SPDK: in-process (spdk.rpc) and another
// process (RpcClient.connect).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RpcClient, RpcError, Spdk, type RpcTypes } from '../../src';
import { describeSpdk } from './support';

/** A result shape from scripts/rpc-facts.json, the source of src/rpc/results.generated.ts. */
interface ResultShape {
  kind: string;
  element?: ResultShape;
  fields?: Record<string, { optional: boolean; type: ResultShape }>;
  index?: ResultShape;
  of?: ResultShape[];
}
const documentedResults = (JSON.parse(readFileSync(join(__dirname, '../../scripts/rpc-facts.json'), 'utf8')) as {
  results: Record<string, { result?: ResultShape }>;
}).results;

/** Where a JSON value departs from a documented result shape: missing required fields, other kinds. */
function departures(shape: ResultShape, value: unknown, where: string): string[] {
  const kinds = shape.kind === 'union' ? (shape.of ?? []).map((member) => member.kind) : [shape.kind];
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  if (kinds.includes('never') || kinds.includes('any')) return [];
  if (!kinds.includes(actual)) return [`${where}: ${kinds.join(' | ')} expected, got ${actual}`];
  const matched = shape.kind === 'union' ? shape.of!.find((member) => member.kind === actual)! : shape;
  if (Array.isArray(value)) return value.flatMap((item, i) => departures(matched.element!, item, `${where}[${i}]`));
  if (actual !== 'object') return [];
  const object = value as Record<string, unknown>;
  const found: string[] = [];
  for (const [name, field] of Object.entries(matched.fields ?? {})) {
    if (name in object) found.push(...departures(field.type, object[name], `${where}.${name}`));
    else if (!field.optional) found.push(`${where}.${name}: missing`);
  }
  if (matched.index) {
    for (const name of Object.keys(object).filter((key) => !(key in (matched.fields ?? {})))) {
      found.push(...departures(matched.index, object[name], `${where}.${name}`));
    }
  }
  return found;
}

describeSpdk('JSON-RPC', () => {
  let spdk: Spdk;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spdk-node-rpc-'));
    spdk = await Spdk.start();
  });

  afterAll(async () => {
    await spdk?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates malloc, null and aio bdevs through RPC and does I/O on them at once', async () => {
    writeFileSync(join(dir, 'aio.img'), Buffer.alloc(4 << 20));
    expect(await spdk.rpc.bdev_malloc_create({ name: 'RpcMalloc', num_blocks: 2048, block_size: 4096 })).toBe('RpcMalloc');
    expect(await spdk.rpc.bdev_null_create({ name: 'RpcNull', num_blocks: 2048, block_size: 4096 })).toBe('RpcNull');
    expect(await spdk.rpc.bdev_aio_create({ name: 'RpcAio', filename: join(dir, 'aio.img'), block_size: 4096 })).toBe('RpcAio');
    for (const name of ['RpcMalloc', 'RpcAio']) {
      await using bdev = await spdk.openBdev(name, { write: true });
      const data = Buffer.alloc(8192, name.length);
      await bdev.write(4096, data);
      expect((await bdev.read(4096, 8192)).equals(data)).toBe(true);
    }
    await using nul = await spdk.openBdev('RpcNull');
    expect(await nul.read(0, 4096)).toHaveLength(4096);
    const [info] = await spdk.rpc.bdev_get_bdevs({ name: 'RpcMalloc' });
    expect(info).toMatchObject({ name: 'RpcMalloc', block_size: 4096, num_blocks: 2048 });
  });

  it('creates a raid0 over malloc bdevs with bdev_raid_create called as typed (base_bdevs: string[])', async () => {
    // Typed as the generated params (test/unit/rpc-gen.test.ts type-checks this file): SPDK's decoder
    // takes an array of names; the schema said "string".
    const params: RpcTypes.BdevRaidCreateParams = { name: 'RpcRaid0', raid_level: '0', strip_size_kb: 64, base_bdevs: ['RaidBase0', 'RaidBase1'] };
    for (const name of params.base_bdevs) {
      expect(await spdk.rpc.bdev_malloc_create({ name, num_blocks: 2048, block_size: 512 })).toBe(name);
    }
    const created: boolean = await spdk.rpc.bdev_raid_create(params);
    expect(created).toBe(true);
    const [raid] = await spdk.rpc.bdev_raid_get_bdevs({ category: 'online' });
    expect(raid).toMatchObject({ name: 'RpcRaid0', raid_level: 'raid0', strip_size_kb: 64, num_base_bdevs: 2, num_base_bdevs_discovered: 2 });
    expect(raid?.base_bdevs_list.map((base) => base.name)).toEqual(['RaidBase0', 'RaidBase1']);
    {
      await using bdev = await spdk.openBdev('RpcRaid0', { write: true });
      expect(bdev.numBlocks).toBe(4096);
      // 128 KiB from the first strip across both base bdevs.
      const data = Buffer.alloc(128 * 1024);
      for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
      await bdev.write(0, data);
      expect((await bdev.read(0, data.length)).equals(data)).toBe(true);
    }
    // What the schema's type asked for, a whitespace-separated string, is refused by SPDK's decoder.
    const asString = { name: 'RpcRaidString', raid_level: '0', strip_size_kb: 64, base_bdevs: 'RaidBase0 RaidBase1' };
    // @ts-expect-error base_bdevs is string[]
    const refused = await spdk.rpc.bdev_raid_create(asString).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RpcError);
    expect(refused).toMatchObject({ code: -32700, method: 'bdev_raid_create' });
    expect(await spdk.rpc.bdev_raid_delete({ name: 'RpcRaid0' })).toBe(true);
    for (const name of params.base_bdevs) await spdk.rpc.bdev_malloc_delete({ name });
  });

  it('answers the getters whose result types come from SPDK\'s examples with results of those types', async () => {
    // Methods without a hand-written result type that need no setup; each result is checked against
    // the shape the generated type was rendered from (required fields present, kinds as typed).
    const nqn = 'nqn.2016-06.io.spdk:shaped';
    await spdk.rpc.bdev_malloc_create({ name: 'Shaped', num_blocks: 256, block_size: 512 });
    await spdk.rpc.bdev_malloc_create({ name: 'ShapedStore', num_blocks: 16384, block_size: 512 });
    await spdk.rpc.bdev_lvol_create_lvstore({ bdev_name: 'ShapedStore', lvs_name: 'shaped_lvs', cluster_sz: 1 << 20 });
    await spdk.rpc.bdev_lvol_create({ lvol_name: 'shaped_lv', size_in_mib: 1, lvs_name: 'shaped_lvs' });
    await spdk.rpc.bdev_enable_histogram({ name: 'Shaped', enable: true });
    await spdk.rpc.nvmf_create_transport({ trtype: 'TCP' });
    await spdk.rpc.nvmf_create_subsystem({ nqn, allow_any_host: true });
    await spdk.rpc.nvmf_subsystem_add_ns({ nqn, namespace: { bdev_name: 'Shaped' } });
    await spdk.rpc.iscsi_create_initiator_group({ tag: 2, initiators: ['ANY'], netmasks: ['ANY'] });
    await spdk.rpc.iscsi_create_auth_group({ tag: 3, secrets: [{ user: 'user', secret: 'secretsecret' }] });
    const calls: Array<[string, object?]> = [
      ['bdev_get_histogram', { name: 'Shaped' }], ['bdev_lvol_get_lvols'], ['iscsi_get_auth_groups'], ['iscsi_get_initiator_groups'],
      ['nvmf_subsystem_get_controllers', { nqn }], ['nvmf_subsystem_get_listeners', { nqn }], ['nvmf_subsystem_get_qpairs', { nqn }],
      ['accel_get_module_info'], ['accel_get_opc_assignments'], ['accel_get_stats'], ['framework_get_config', { name: 'bdev' }],
      ['framework_get_governor'], ['framework_get_scheduler'], ['iobuf_get_stats'], ['iscsi_get_options'], ['keyring_get_keys'],
      ['log_get_flags'], ['log_get_level'], ['log_get_print_level'], ['nvmf_get_stats'], ['sock_get_default_impl'],
      ['sock_impl_get_options', { impl_name: 'posix' }], ['thread_get_io_channels'], ['trace_get_info'], ['trace_get_tpoint_group_mask'],
    ];
    const found: string[] = [];
    for (const [method, params] of calls) {
      const shape = documentedResults[method]?.result;
      expect(shape, method).toBeDefined();
      found.push(...departures(shape!, await spdk.rpc.call(method, params), method));
    }
    expect(found).toEqual([]);
    await spdk.rpc.nvmf_delete_subsystem({ nqn });
    await spdk.rpc.iscsi_delete_initiator_group({ tag: 2 });
    await spdk.rpc.iscsi_delete_auth_group({ tag: 3 });
    await spdk.rpc.bdev_lvol_delete_lvstore({ lvs_name: 'shaped_lvs' });
    await spdk.rpc.bdev_malloc_delete({ name: 'ShapedStore' });
    await spdk.rpc.bdev_malloc_delete({ name: 'Shaped' });
  });

  it('fails I/O on an open bdev that RPC deletes with ENODEV, without a crash', async () => {
    await spdk.rpc.bdev_malloc_create({ name: 'Doomed', num_blocks: 1024, block_size: 4096 });
    const bdev = await spdk.openBdev('Doomed', { write: true });
    await bdev.write(0, Buffer.alloc(4096, 1));
    await spdk.rpc.bdev_malloc_delete({ name: 'Doomed' });
    await expect(bdev.read(0, 4096)).rejects.toMatchObject({ name: 'SpdkError', code: 'ENODEV' });
    await bdev.close();
    expect(spdk.bdevs().some((b) => b.name === 'Doomed')).toBe(false);
  });

  it('answers an unknown method with RpcError -32601 and bad params with an RpcError', async () => {
    const unknown = await spdk.rpc.call('no_such_method_anywhere').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(RpcError);
    expect(unknown).toMatchObject({ code: -32601, method: 'no_such_method_anywhere' });
    const bad = await spdk.rpc.bdev_malloc_create({ num_blocks: 0, block_size: 4096 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(RpcError);
    const dup = await spdk.rpc.bdev_null_create({ name: 'RpcNull', num_blocks: 8, block_size: 4096 }).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(RpcError);
    expect((dup as RpcError).message).toMatch(/exist/i);
  });

  it('handles 1,000 concurrent requests and a response listing over a thousand bdevs', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `Many${i}`);
    const created = await Promise.all(names.map((name) => spdk.rpc.bdev_null_create({ name, num_blocks: 16, block_size: 512 })));
    expect(created).toEqual(names);
    const all = await spdk.rpc.bdev_get_bdevs();
    expect(all.length).toBeGreaterThanOrEqual(1000);
    expect(spdk.bdevs().filter((b) => b.name.startsWith('Many'))).toHaveLength(1000);
    await Promise.all(names.map((name) => spdk.rpc.bdev_null_delete({ name })));
    expect(spdk.bdevs().some((b) => b.name.startsWith('Many'))).toBe(false);
  });

  it('reports framework state through typed results', async () => {
    const reactors = await spdk.rpc.framework_get_reactors();
    expect(reactors.reactors[0]?.lcore).toBe(spdk.mainCore);
    const stats = await spdk.rpc.thread_get_stats();
    expect(stats.threads.some((t) => t.name === 'app_thread')).toBe(true);
    const version = await spdk.rpc.spdk_get_version();
    expect(version.version).toContain(spdk.version);
  });

  it('drives another Node process running spdk-node through RpcClient', async () => {
    const socket = join(dir, 'other.sock');
    const script = `
      const { Spdk } = require(${JSON.stringify(join(__dirname, '..', '..', 'lib'))});
      Spdk.start({ rpcSocket: ${JSON.stringify(socket)}, logLevel: 'error' }).then((s) => {
        console.log('ready');
        process.stdin.once('data', () => s.stop().then(() => console.log('stopped')));
      });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
    try {
      expect(await next()).toBe('ready');
      await using client = await RpcClient.connect(socket);
      expect(await client.bdev_malloc_create({ name: 'Remote', num_blocks: 256, block_size: 512 })).toBe('Remote');
      const bdevs = await client.bdev_get_bdevs();
      expect(bdevs.map((b) => b.name)).toContain('Remote');
      // The other process's bdevs are not this process's.
      expect(spdk.bdevs().some((b) => b.name === 'Remote')).toBe(false);
      const stopped = next();
      child.stdin!.write('stop\n');
      expect(await stopped).toBe('stopped');
      await expect(client.spdk_get_version()).rejects.toMatchObject({ name: 'SpdkError' });
    } finally {
      child.kill();
    }
  });

  it('says what is wrong when no SPDK listens on a socket', async () => {
    await expect(RpcClient.connect(join(dir, 'nobody.sock'))).rejects.toMatchObject({ name: 'SpdkError', code: 'ENOENT' });
  });
});
