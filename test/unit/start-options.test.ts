// Spdk.start() options: defaults and validation, before anything reaches native code.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { normalizeStartOptions } from '../../src/start-options';

describe('Spdk.start options', () => {
  it('defaults to the last core, a private RPC socket and warnings', () => {
    const o = normalizeStartOptions();
    expect(o.cpuMask).toBe(`[${availableParallelism() - 1}]`);
    expect(o.rpcSocket).toMatch(new RegExp(`spdk-node-${process.pid}-\\d+\\.sock$`));
    expect(o.logLevel).toBe(1);
    expect(o.interruptMode).toBe(false);
    expect(o.lockCores).toBe(false);
  });

  it('gives every instance its own RPC socket path', () => {
    expect(normalizeStartOptions().rpcSocket).not.toBe(normalizeStartOptions().rpcSocket);
  });

  it('without hugepages reserves 1536 MB unless told otherwise', () => {
    expect(normalizeStartOptions({ hugepages: false }).memSizeMb).toBe(1536);
    expect(normalizeStartOptions({ hugepages: false, memSizeMb: 512 }).memSizeMb).toBe(512);
    expect(normalizeStartOptions({ hugepages: true }).memSizeMb).toBe(0); // as needed
  });

  it('accepts cpuMask as a mask string, a list string, core numbers or a bitmask', () => {
    expect(normalizeStartOptions({ cpuMask: '0x1' }).cpuMask).toBe('0x1');
    expect(normalizeStartOptions({ cpuMask: '[0]' }).cpuMask).toBe('[0]');
    expect(normalizeStartOptions({ cpuMask: [0] }).cpuMask).toBe('[0]');
    expect(normalizeStartOptions({ cpuMask: 1 }).cpuMask).toBe('0x1');
  });

  it('accepts SPDK log level names in any case, including SPDK\'s "warn"', () => {
    expect(normalizeStartOptions({ logLevel: 'WARN' }).logLevel).toBe(1);
    expect(normalizeStartOptions({ logLevel: 'debug' }).logLevel).toBe(4);
    expect(normalizeStartOptions({ logLevel: 'none' }).logLevel).toBe(-1);
  });

  it('turns the config object into SPDK JSON, and rpcSocket: false into no socket', () => {
    const config = { subsystems: [{ subsystem: 'bdev', config: [] }] };
    expect(JSON.parse(normalizeStartOptions({ config }).jsonConfig)).toEqual(config);
    expect(normalizeStartOptions({ rpcSocket: false }).rpcSocket).toBe('');
  });

  it.each([
    [{ cpuMask: 'all' }, TypeError],
    [{ cpuMask: [] }, RangeError],
    [{ cpuMask: [1024] }, RangeError],
    [{ cpuMask: 0 }, TypeError],
    [{ cpuMask: 2 ** 40 }, RangeError],
    [{ memSizeMb: 1.5 }, TypeError],
    [{ memSizeMb: 10 }, RangeError],
    [{ hugepages: 'yes' }, TypeError],
    [{ logLevel: 'toString' }, TypeError],
    [{ logLevel: 3 }, TypeError],
    [{ config: { subsystem: [] } }, TypeError],
    [{ config: null }, TypeError],
    [{ rpcSocket: '' }, TypeError],
    [{ rpcSocket: `/tmp/${'x'.repeat(120)}` }, RangeError],
    [{ interruptMode: 'true' }, TypeError],
    [{ name: 'has spaces' }, TypeError],
  ])('rejects %j', (options, kind) => {
    expect(() => normalizeStartOptions(options as never)).toThrow(kind);
  });
});
