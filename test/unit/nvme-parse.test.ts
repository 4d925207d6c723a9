// What needs no SPDK: transport IDs and the decoding of identify data and the health log page.
import { describe, expect, it } from 'vitest';
import { decodeControllerData, decodeHealthLog, formatTransportId, parseTransportId } from '../../src';

describe('transport IDs', () => {
  it('parses the string form, keys and transport names case-insensitively', () => {
    expect(parseTransportId('TrType:tcp adrfam:ipv4 traddr:10.0.0.1 trsvcid:4420 subnqn:nqn.2016-06.io.spdk:cnode1')).toEqual({
      trtype: 'TCP', adrfam: 'IPv4', traddr: '10.0.0.1', trsvcid: '4420', subnqn: 'nqn.2016-06.io.spdk:cnode1',
    });
  });

  it('accepts key=value, extra whitespace and a host NQN', () => {
    expect(parseTransportId('  trtype=TCP   traddr=::1 trsvcid=4420\tsubnqn=nqn.a hostnqn=nqn.h ')).toEqual({
      trtype: 'TCP', adrfam: 'IPv6', traddr: '::1', trsvcid: '4420', subnqn: 'nqn.a', hostnqn: 'nqn.h',
    });
  });

  it('expands a short PCI address', () => {
    expect(parseTransportId('trtype:PCIe traddr:01:00.0')).toEqual({ trtype: 'PCIe', traddr: '0000:01:00.0' });
  });

  it('formats SPDK\'s string form, which parses back to the same ID', () => {
    const trid = parseTransportId('trtype:RDMA adrfam:IPv4 traddr:192.168.1.2 trsvcid:4420 subnqn:nqn.x priority:2');
    expect(formatTransportId(trid)).toBe('trtype:RDMA adrfam:IPv4 traddr:192.168.1.2 trsvcid:4420 subnqn:nqn.x priority:2');
    expect(parseTransportId(formatTransportId(trid))).toEqual(trid);
  });

  it.each([
    ['', /empty/],
    ['traddr:1.2.3.4', /no trtype/],
    ['trtype:TCP traddr', /malformed/],
    ['trtype:TCP traddr:', /malformed/],
    ['trtype:TCP foo:bar', /unknown transport ID key 'foo'/],
    ['trtype:FOO', /unknown trtype 'FOO'/],
    ['trtype:TCP adrfam:IPX', /unknown adrfam/],
    ['trtype:TCP trtype:RDMA', /appears twice/],
    ['trtype:TCP subnqn:cnode1', /qualified name/],
    ['trtype:PCIe traddr:localhost', /PCI address/],
    ['trtype:TCP priority:high', /priority/],
  ])('rejects %j with a TypeError', (text, message) => {
    expect(() => parseTransportId(text)).toThrow(TypeError);
    expect(() => parseTransportId(text)).toThrow(message);
  });

  it('rejects a port out of range with a RangeError', () => {
    expect(() => parseTransportId('trtype:TCP traddr:1.2.3.4 trsvcid:0')).toThrow(RangeError);
    expect(() => parseTransportId('trtype:TCP traddr:1.2.3.4 trsvcid:65536')).toThrow(RangeError);
  });
});

describe('identify controller data', () => {
  it('decodes the fields at their specified offsets', () => {
    const b = Buffer.alloc(4096);
    b.writeUInt16LE(0x144d, 0);
    b.writeUInt16LE(0x1234, 2);
    b.write('S4EVNX0N123456      ', 4, 'latin1');
    b.write('Samsung SSD 980 PRO 1TB'.padEnd(40), 24, 'latin1');
    b.write('5B2QGXA7', 64, 'latin1');
    b.writeUInt8(9, 77);
    b.writeUInt16LE(6, 78);
    b.writeUInt32LE(0x00010400, 80);
    b.writeUInt16LE(0x5f, 520);
    b.writeUInt32LE(32, 516);
    b.writeBigUInt64LE(1000204886016n, 280);
    b.write('nqn.2014.08.org.nvmexpress:144d144dS4EVNX0N123456', 768, 'latin1');
    const d = decodeControllerData(b);
    expect(d).toMatchObject({
      vid: 0x144d, ssvid: 0x1234, sn: 'S4EVNX0N123456', mn: 'Samsung SSD 980 PRO 1TB', fr: '5B2QGXA7', mdts: 9, cntlid: 6,
      ver: { major: 1, minor: 4, tertiary: 0 }, nn: 32, tnvmcap: 1000204886016n, subnqn: 'nqn.2014.08.org.nvmexpress:144d144dS4EVNX0N123456',
    });
    expect(d.optionalCommands).toMatchObject({ compare: true, writeUncorrectable: true, datasetManagement: true, writeZeroes: true, saveSelect: true, reservations: false, timestamp: true });
  });

  it('refuses a short buffer', () => {
    expect(() => decodeControllerData(Buffer.alloc(100))).toThrow(RangeError);
  });
});

describe('health information log page', () => {
  it('decodes temperatures, percentages and 128-bit counters', () => {
    const b = Buffer.alloc(512);
    b.writeUInt8(0x05, 0);
    b.writeUInt16LE(310, 1);
    b.writeUInt8(100, 3);
    b.writeUInt8(10, 4);
    b.writeUInt8(3, 5);
    b.writeBigUInt64LE(0xffffffffffffffffn, 32);
    b.writeBigUInt64LE(1n, 40);
    b.writeBigUInt64LE(4242n, 128);
    b.writeUInt32LE(7, 192);
    b.writeUInt16LE(305, 200);
    const h = decodeHealthLog(b);
    expect(h).toMatchObject({
      criticalWarning: 5, temperatureKelvin: 310, availableSparePercent: 100, availableSpareThresholdPercent: 10, percentageUsed: 3,
      dataUnitsRead: 2n ** 65n - 1n, powerOnHours: 4242n, warningTemperatureTimeMinutes: 7,
    });
    expect(h.criticalWarnings).toMatchObject({ availableSpare: true, temperature: false, reliability: true });
    expect(h.temperatureSensorsKelvin).toEqual([305, null, null, null, null, null, null, null]);
  });
});
