// Property tests (fast-check) of the entry points that need no SPDK: start options, transport IDs,
// PCI addresses, the identify and health decoders, the RPC JSON stream splitter. Each asserts only
// that an input gives a valid result or a clean TypeError / RangeError (the splitter: SyntaxError,
// its documented refusal), never another exception or a hang.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as os from 'node:os';
import { normalizeStartOptions, type SpdkStartOptions } from '../../src/start-options';
import { formatTransportId, normalizeTransportId, parseTransportId, type TransportId } from '../../src/nvme/transport-id';
import { canonicalPciAddress } from '../../src/devices/address';
import { decodeControllerData, IDENTIFY_CONTROLLER_SIZE } from '../../src/nvme/identify';
import { decodeHealthLog, HEALTH_LOG_SIZE } from '../../src/nvme/health';
import { JsonValueSplitter, JsonValueTooLargeError } from '../../src/rpc/json-stream';

type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

/** Runs `f`; an exception must be one of `allowed`, anything else fails the property. */
function attempt<T>(f: () => T, allowed: Array<new (...args: never[]) => Error> = [TypeError, RangeError]): Outcome<T> {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    if (!allowed.some((type) => error instanceof type)) throw new Error(`unexpected exception ${String(error)}`, { cause: error });
    return { ok: false, error: error as Error };
  }
}

/** Any JS value, including the awkward ones (symbols, bigints, null-prototype objects, functions). */
const anyValue = fc.oneof(
  fc.anything({ withBigInt: true, withNullPrototype: true, withObjectString: true, withBoxedValues: true, withSparseArray: true }),
  fc.constantFrom(Symbol('s'), () => 1, Number.NaN, Infinity, -Infinity, -0, 2 ** 53, Number.MAX_VALUE, Object.create(null) as object),
);

describe('normalizeStartOptions (fast-check)', () => {
  const optionValue = fc.oneof(
    anyValue,
    fc.constantFrom('0x1', '[0]', '0x0', '[0,1]', '[-]', '[,]', 'ff', '0xffffffffffffffffffffffff', 'auto', 'warn', 'DEBUG', 'none', '', 'a'.repeat(200)),
    fc.integer({ min: -5, max: 2 ** 20 }),
    fc.array(fc.integer({ min: -2, max: 300 }), { maxLength: 4 }),
    fc.record({ subsystems: fc.array(fc.record({ subsystem: fc.string(), config: fc.constant(null) }), { maxLength: 2 }) }),
  );
  const keys = ['config', 'cpuMask', 'memSizeMb', 'hugepages', 'hugeDir', 'rpcSocket', 'interruptMode', 'logLevel', 'lockCores', 'pci', 'name'];

  it('returns native options or throws TypeError/RangeError for any options object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys, 'bogus'), optionValue, { maxKeys: 5 }), (options) => {
        // hugepages 'auto' probes the machine; keep the property about validation.
        const o = { hugepages: false, ...options } as SpdkStartOptions;
        const r = attempt(() => normalizeStartOptions(o));
        if (r.ok) {
          const n = r.value;
          expect(typeof n.cpuMask).toBe('string');
          expect(Number.isInteger(n.memSizeMb)).toBe(true);
          expect([-1, 0, 1, 2, 3, 4]).toContain(n.logLevel);
          expect(typeof n.hugepages).toBe('boolean');
          if (n.jsonConfig !== '') expect(() => JSON.parse(n.jsonConfig) as unknown).not.toThrow();
        }
      }),
      { numRuns: 400 },
    );
  });

  it('non-object options are a TypeError', () => {
    fc.assert(
      fc.property(anyValue.filter((v) => v === null || (typeof v !== 'object' && v !== undefined)), (v) => {
        const r = attempt(() => normalizeStartOptions(v as SpdkStartOptions));
        expect(r.ok).toBe(false);
        expect((r as { error: Error }).error).toBeInstanceOf(TypeError);
      }),
      { numRuns: 100 },
    );
  });
});

// Valid transport IDs, built field by field.
const hex = (n: number): fc.Arbitrary<string> => fc.array(fc.constantFrom(...'0123456789abcdefABCDEF'), { minLength: n, maxLength: n }).map((a) => a.join(''));
const pciAddress = fc.tuple(fc.option(hex(4), { nil: undefined }), hex(2), hex(2), fc.integer({ min: 0, max: 7 })).map(([d, b, s, f]) => `${d === undefined ? '' : `${d}:`}${b}:${s}.${f}`);
const token = fc.stringMatching(/^[A-Za-z0-9._:\-[\]]{1,40}$/);
const nqn = token.map((t) => `nqn.${t}`.slice(0, 223));
const fabricsTrid = fc.record(
  {
    trtype: fc.constantFrom('TCP', 'tcp', 'RDMA', 'rdma'),
    adrfam: fc.constantFrom('IPv4', 'ipv6', 'IB', 'FC', 'INTRA_HOST'),
    traddr: token,
    trsvcid: fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }).map(String)),
    subnqn: nqn,
    priority: fc.nat(),
    hostnqn: nqn,
  },
  { requiredKeys: ['trtype'] },
);
const otherTrid = fc.record(
  {
    trtype: fc.constantFrom('FC', 'VFIOUSER', 'CUSTOM', 'fc'),
    traddr: token,
    trsvcid: fc.stringMatching(/^[A-Za-z0-9._-]{1,32}$/),
    subnqn: nqn,
    priority: fc.nat(),
  },
  { requiredKeys: ['trtype'] },
);
const pcieTrid = fc.record({ trtype: fc.constantFrom('PCIe', 'pcie', 'PCIE'), traddr: pciAddress, priority: fc.nat() }, { requiredKeys: ['trtype'] });
const validTrid = fc.oneof(fabricsTrid, otherTrid, pcieTrid) as fc.Arbitrary<TransportId>;

describe('transport IDs (fast-check)', () => {
  it('valid IDs normalize idempotently and survive format -> parse (without hostnqn, which is not part of the address)', () => {
    fc.assert(
      fc.property(validTrid, (input) => {
        const t = normalizeTransportId(input, 'fuzz', 'any');
        expect(normalizeTransportId(t, 'fuzz', 'any')).toEqual(t);
        const { hostnqn: _ignored, ...address } = t;
        expect(parseTransportId(formatTransportId(t))).toEqual(address);
      }),
      { numRuns: 500 },
    );
  });

  it('random strings parse to a valid ID or throw TypeError/RangeError, and what parses round-trips', () => {
    const words = fc.constantFrom('trtype', 'adrfam', 'traddr', 'trsvcid', 'subnqn', 'priority', 'hostnqn', 'TrType', 'foo');
    const values = fc.oneof(fc.constantFrom('TCP', 'PCIe', 'RDMA', 'FC', 'IPv4', 'IPv6', '127.0.0.1', '::1', '01:00.0', '4420', '0', '65536', 'nqn.x', 'nqn.', ''), fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 8 }));
    const field = fc.tuple(words, fc.constantFrom(':', '=', '', '::'), values).map(([k, s, v]) => `${k}${s}${v}`);
    const text = fc.oneof(
      fc.array(field, { maxLength: 7 }).chain((fields) => fc.constantFrom(' ', '\t', '  ', '\n').map((sep) => fields.join(sep))),
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
    );
    fc.assert(
      fc.property(text, fc.constantFrom('connect' as const, 'probe' as const, 'any' as const), (s, purpose) => {
        const r = attempt(() => parseTransportId(s));
        if (r.ok) {
          const { hostnqn: _ignored, ...address } = r.value;
          expect(parseTransportId(formatTransportId(r.value))).toEqual(address);
        }
        attempt(() => normalizeTransportId(s, 'fuzz', purpose));
      }),
      { numRuns: 1000 },
    );
  });

  it('any value as an object form is a valid ID or a TypeError/RangeError', () => {
    const field = fc.oneof(anyValue, fc.constantFrom('TCP', 'PCIe', '127.0.0.1', '0000:01:00.0', '4420', 'nqn.x', 1, 4420, 70000));
    fc.assert(
      fc.property(
        fc.oneof(anyValue, fc.dictionary(fc.constantFrom('trtype', 'adrfam', 'traddr', 'trsvcid', 'subnqn', 'priority', 'hostnqn', 'other'), field, { maxKeys: 6 })),
        fc.constantFrom('connect' as const, 'probe' as const, 'any' as const),
        (input, purpose) => {
          attempt(() => normalizeTransportId(input as TransportId, 'fuzz', purpose));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('canonicalPciAddress (fast-check)', () => {
  it('valid addresses canonicalize to domain:bus:device.function in lower case, idempotently', () => {
    fc.assert(
      fc.property(pciAddress, fc.constantFrom('', ' ', '\t'), (a, pad) => {
        const c = canonicalPciAddress(`${pad}${a}${pad}`, 'fuzz');
        expect(c).toMatch(/^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
        expect(canonicalPciAddress(c, 'fuzz')).toBe(c);
        expect(c.endsWith(a.slice(-7).toLowerCase())).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('anything else is a TypeError (not a string) or a RangeError', () => {
    fc.assert(
      fc.property(fc.oneof(anyValue, fc.string({ maxLength: 20 }), fc.stringMatching(/^[0-9a-fA-F:.]{0,16}$/)), (v) => {
        const r = attempt(() => canonicalPciAddress(v, 'fuzz'));
        if (!r.ok) expect(r.error).toBeInstanceOf(typeof v === 'string' ? RangeError : TypeError);
      }),
      { numRuns: 500 },
    );
  });
});

describe('NVMe decoders fed random bytes (fast-check)', () => {
  // Random lengths around and below the structures' sizes, random contents.
  const bytes = (size: number): fc.Arbitrary<Buffer> =>
    fc.oneof(
      fc.integer({ min: 0, max: size + 64 }),
      fc.constantFrom(0, 1, size - 1, size, size + 1),
    ).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }).map((a) => Buffer.from(a.buffer, a.byteOffset, a.length)));

  it('decodeControllerData returns a decoded structure or throws a RangeError for short data', () => {
    fc.assert(
      fc.property(bytes(IDENTIFY_CONTROLLER_SIZE), (b) => {
        const r = attempt(() => decodeControllerData(b));
        expect(r.ok).toBe(b.length >= IDENTIFY_CONTROLLER_SIZE);
        if (r.ok) {
          expect(r.value.vid).toBe(b.readUInt16LE(0));
          expect(r.value.nn).toBe(b.readUInt32LE(516));
          expect(typeof r.value.sn).toBe('string');
          expect(r.value.tnvmcap >= 0n).toBe(true);
        } else {
          expect(r.error).toBeInstanceOf(RangeError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('decodeHealthLog returns a decoded page or throws a RangeError for short data', () => {
    fc.assert(
      fc.property(bytes(HEALTH_LOG_SIZE), (b) => {
        const r = attempt(() => decodeHealthLog(b));
        expect(r.ok).toBe(b.length >= HEALTH_LOG_SIZE);
        if (r.ok) {
          expect(r.value.criticalWarning).toBe(b[0]);
          expect(r.value.temperatureSensorsKelvin).toHaveLength(8);
          expect(r.value.powerOnHours >= 0n).toBe(true);
        } else {
          expect(r.error).toBeInstanceOf(RangeError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('non-Buffer input is a TypeError or RangeError, never a crash', () => {
    fc.assert(
      fc.property(anyValue, (v) => {
        attempt(() => decodeControllerData(v as Buffer));
        attempt(() => decodeHealthLog(v as Buffer));
      }),
      { numRuns: 300 },
    );
  });
});

describe('JsonValueSplitter (fast-check)', () => {
  /** Cuts `bytes` at the given sizes, cycling through them. */
  function chunk(bytes: Buffer, sizes: number[]): Buffer[] {
    const out: Buffer[] = [];
    for (let at = 0, k = 0; at < bytes.length; k++) {
      const size = sizes[k % sizes.length]!;
      out.push(bytes.subarray(at, at + size));
      at += size;
    }
    return out;
  }
  const sizes = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 });
  const container = fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.jsonValue()));

  it('valid JSON objects and arrays come out whole and in order however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(container, { minLength: 1, maxLength: 5 }), sizes, fc.constantFrom('', '\n', ' \r\n\t'), (values, cuts, sep) => {
        const texts = values.map((v) => JSON.stringify(v));
        const splitter = new JsonValueSplitter();
        const got: unknown[] = [];
        for (const piece of chunk(Buffer.from(texts.join(sep)), cuts)) splitter.push(piece, (t) => got.push(JSON.parse(t)));
        expect(got).toEqual(values.map((v) => JSON.parse(JSON.stringify(v)) as unknown));
        expect(splitter.bufferedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('invalid bytes give values or a SyntaxError / JsonValueTooLargeError, and memory stays within the limit', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
          fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)),
          fc.array(fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', 'a', ' ', '\n'), { maxLength: 300 }).map((a) => Buffer.from(a.join(''))),
        ),
        sizes,
        fc.integer({ min: 2, max: 200 }),
        (bytes, cuts, limit) => {
          const splitter = new JsonValueSplitter(limit);
          for (const piece of chunk(bytes, cuts)) {
            const r = attempt(() => splitter.push(piece, (t) => expect(Buffer.byteLength(t)).toBeLessThanOrEqual(limit)), [SyntaxError, JsonValueTooLargeError]);
            expect(splitter.bufferedBytes).toBeLessThanOrEqual(limit);
            if (!r.ok) {
              splitter.reset();
              break;
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('strings that reach C code: an embedded NUL or control character is refused, not truncated', () => {
  // Found by the openBdev property: 'FuzzSmall\0' opened FuzzSmall. C sees a string up to its first
  // NUL, so 'traddr:10.0.0.1\0 trsvcid:…' would lose every field after the address.
  const control = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)).filter((c) => !/\s/.test(c));
  const insert = (s: string, at: number, c: string): string => s.slice(0, at % (s.length + 1)) + c + s.slice(at % (s.length + 1));

  it('transport ID fields with a control character are a TypeError or RangeError, in both forms', () => {
    fc.assert(
      fc.property(fabricsTrid, fc.constantFrom('traddr', 'trsvcid', 'subnqn', 'hostnqn'), control, fc.nat(), (input, key, c, at) => {
        const t = normalizeTransportId(input, 'fuzz', 'any');
        const value = String((t as unknown as Record<string, unknown>)[key] ?? (key === 'trsvcid' ? '4420' : key === 'traddr' ? '10.0.0.1' : 'nqn.x'));
        const bad = { ...t, [key]: insert(value, at, c) };
        const r = attempt(() => normalizeTransportId(bad, 'fuzz', 'any'));
        expect(r.ok).toBe(false);
        if (key !== 'hostnqn') expect(attempt(() => parseTransportId(formatTransportId(bad))).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('start options rpcSocket and hugeDir with a NUL are a TypeError', () => {
    expect(attempt(() => normalizeStartOptions({ hugepages: false, rpcSocket: '/tmp/a\0b.sock' })).ok).toBe(false);
    expect(attempt(() => normalizeStartOptions({ hugepages: false, hugeDir: '/dev/hugepages\0x' })).ok).toBe(false);
  });
});

describe('cpuMask strings are checked like the number and array forms', () => {
  // Found by fuzzing: '0x0', '[,]', '[-]' or a core the machine lacks passed validation and failed
  // inside DPDK as "EIO: Unable to initialize SPDK env", where cpuMask 0 or [99] give a RangeError.
  const cpus = os.cpus().length;

  it.each(['0x0', '0', '[,]', '[-]', '[]', '[ ]', '[1-0]', `[${cpus}]`, `0x${(1n << BigInt(cpus)).toString(16)}`, '[0,99999]', '[0-99999]'])('%j is a RangeError', (mask) => {
    expect(() => normalizeStartOptions({ hugepages: false, cpuMask: mask })).toThrow(RangeError);
  });

  it.each(['0x1', '1', '[0]', '[0-0]', ' [0] '.trim(), `[0-${cpus - 1}]`, `0x${((1n << BigInt(cpus)) - 1n).toString(16)}`])('%j is accepted as given', (mask) => {
    expect(normalizeStartOptions({ hugepages: false, cpuMask: mask }).cpuMask).toBe(mask);
  });

  it('random mask strings are accepted only when they name at least one existing core (fast-check)', () => {
    const list = fc.array(fc.oneof(fc.integer({ min: 0, max: cpus + 2 }).map(String), fc.tuple(fc.integer({ min: 0, max: cpus + 2 }), fc.integer({ min: 0, max: cpus + 2 })).map(([a, b]) => `${a}-${b}`), fc.constantFrom('', ' ', '-')), { maxLength: 4 }).map((parts) => `[${parts.join(',')}]`);
    const hexMask = fc.bigInt({ min: 0n, max: (1n << BigInt(cpus + 2)) - 1n }).chain((v) => fc.constantFrom(`0x${v.toString(16)}`, v.toString(16)));
    fc.assert(
      fc.property(fc.oneof(list, hexMask), (mask) => {
        const r = attempt(() => normalizeStartOptions({ hugepages: false, cpuMask: mask }));
        // Which cores does it name? (the same reading as SPDK's spdk_cpuset_parse)
        const cores = new Set<number>();
        let malformed = false;
        if (mask.startsWith('[')) {
          for (const part of mask.slice(1, -1).split(',')) {
            const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
            if (m === null) { malformed = true; continue; }
            const a = Number(m[1]);
            const b = m[2] === undefined ? a : Number(m[2]);
            if (b < a) malformed = true;
            for (let c = a; c <= b; c++) cores.add(c);
          }
        } else {
          const v = BigInt(mask.startsWith('0x') ? mask : `0x${mask}`);
          for (let c = 0; c < cpus + 2; c++) if ((v >> BigInt(c)) & 1n) cores.add(c);
        }
        const valid = !malformed && cores.size > 0 && [...cores].every((c) => c < cpus);
        expect(r.ok).toBe(valid);
        if (!r.ok) expect(r.error).toBeInstanceOf(RangeError);
      }),
      { numRuns: 500 },
    );
  });
});
