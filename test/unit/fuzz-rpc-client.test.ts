// The RPC client against a hostile peer: a Unix-socket server started here that answers with
// garbage, half a reply, a reply too large to hold, silence, replies to ids nobody asked for and
// replies of the wrong shape. Every request must settle with a clean typed error (or a result),
// memory must stay bounded, and the client must stay usable or be cleanly closed.
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { RpcClient } from '../../src/rpc';
import { RpcError, SpdkError } from '../../src/errors';
import { JsonValueSplitter } from '../../src/rpc/json-stream';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let dir: string | undefined;
let serial = 0;
function socketPath(): string {
  if (dir === undefined) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spdk-node-fuzz-rpc-'));
    const d = dir;
    process.on('exit', () => fs.rmSync(d, { recursive: true, force: true }));
  }
  return path.join(dir, `s${serial++}.sock`);
}

/** A server that hands each connection to `onConnection`, which does what it likes with it. */
async function hostileServer(onConnection: (socket: net.Socket) => void): Promise<{ path: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  const p = socketPath();
  await new Promise<void>((resolve) => server.listen(p, resolve));
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }));
  cleanups.push(close);
  return { path: p, close };
}

async function connect(p: string, options?: { timeoutMs?: number; maxReplyBytes?: number }): Promise<RpcClient> {
  const client = await RpcClient.connect(p, options);
  cleanups.push(() => client.close());
  return client;
}

/** What a call settled with: a result, or an error that must be one of the library's typed ones. */
async function settle(promise: Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; error: Error }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    expect(error instanceof SpdkError || error instanceof RpcError || error instanceof TypeError || error instanceof RangeError, `untyped error: ${String(error)}`).toBe(true);
    return { ok: false, error: error as Error };
  }
}

/** Rejects if `promise` has not settled within `ms` (a hang is a failure, not a test timeout). */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms (a hang)`)), ms);
    }),
  ]);
}

describe('RpcClient: a reply larger than the client will hold', () => {
  /**
   * A peer that answers the first request with `{"id":1,"result":"xxxx…` and keeps writing the
   * string, never closing it, until the client hangs up or `cap` bytes have gone out.
   */
  async function endlessReply(cap: number): Promise<{ path: string; sent(): number }> {
    let sent = 0;
    const server = await hostileServer((socket) => {
      socket.once('data', () => {
        const piece = Buffer.alloc(64 * 1024, 'x');
        socket.write('{"jsonrpc":"2.0","id":1,"result":"');
        sent += 34;
        const pump = (): void => {
          while (!socket.destroyed && sent < cap) {
            sent += piece.length;
            if (!socket.write(piece)) {
              socket.once('drain', pump);
              return;
            }
          }
        };
        pump();
      });
    });
    return { path: server.path, sent: () => sent };
  }

  it('rejects with EMSGSIZE once a reply passes maxReplyBytes, and disconnects', async () => {
    const peer = await endlessReply(64 * 1024 * 1024);
    const client = await connect(peer.path, { timeoutMs: 20_000, maxReplyBytes: 1024 * 1024 });
    const result = await within(25_000, settle(client.call('bdev_get_bdevs')));
    expect(result.ok).toBe(false);
    const error = (result as { error: Error }).error;
    expect(error).toBeInstanceOf(SpdkError);
    expect((error as SpdkError).code).toBe('EMSGSIZE');
    expect(error.message).toMatch(/maxReplyBytes/);
    expect(client.closed).toBe(true);
    // It stopped reading soon after the limit; it did not hold the whole stream.
    expect(peer.sent()).toBeLessThan(32 * 1024 * 1024);
    await expect(client.call('spdk_get_version')).rejects.toThrow(/connect again/);
  });

  it('has a bounded limit by default: an endless reply is cut off, not buffered until memory runs out', async () => {
    const peer = await endlessReply(1024 * 1024 * 1024);
    const client = await connect(peer.path, { timeoutMs: 20_000 });
    const result = await within(25_000, settle(client.call('bdev_get_bdevs')));
    expect(result.ok).toBe(false);
    expect((result as { error: SpdkError }).error.code).toBe('EMSGSIZE');
    expect(peer.sent()).toBeLessThan(512 * 1024 * 1024);
  });

  it('refuses a bad maxReplyBytes with TypeError or RangeError', async () => {
    await expect(RpcClient.connect('/nonexistent/spdk.sock', { maxReplyBytes: 'big' as unknown as number })).rejects.toThrow(TypeError);
    await expect(RpcClient.connect('/nonexistent/spdk.sock', { maxReplyBytes: 0 })).rejects.toThrow(RangeError);
    await expect(RpcClient.connect('/nonexistent/spdk.sock', { maxReplyBytes: 1.5 })).rejects.toThrow(RangeError);
  });

  it('still reads a reply just under the limit', async () => {
    const body = 'y'.repeat(200_000);
    const server = await hostileServer((socket) => {
      socket.once('data', () => socket.write(`{"jsonrpc":"2.0","id":1,"result":"${body}"}`));
    });
    const client = await connect(server.path, { maxReplyBytes: 200_100 });
    await expect(client.call('x')).resolves.toBe(body);
    expect(client.closed).toBe(false);
  });
});

/** One thing a hostile peer writes in answer to the first request. */
const replyShape = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.constant('1.0'), fc.jsonValue()),
    id: fc.oneof(fc.constant(1), fc.constant(2), fc.integer(), fc.double(), fc.string(), fc.constant(null), fc.jsonValue()),
    result: fc.jsonValue(),
    error: fc.oneof(
      fc.record({ code: fc.oneof(fc.integer(), fc.jsonValue()), message: fc.oneof(fc.string(), fc.jsonValue()), data: fc.jsonValue() }, { requiredKeys: [] }),
      fc.jsonValue(),
    ),
  },
  { requiredKeys: [] },
);
const hostilePiece = fc.oneof(
  // garbage bytes
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  // a JSON value of the wrong shape, or a reply object with random members (ids known and unknown)
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  replyShape.map((r) => Buffer.from(JSON.stringify(r))),
  // a well-formed reply to an id nobody asked for
  fc.integer({ min: 1000, max: 2 ** 40 }).map((id) => Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, result: true }))),
  // a valid reply, cut short
  fc.tuple(replyShape, fc.nat()).map(([r, at]) => {
    const b = Buffer.from(JSON.stringify(r));
    return b.subarray(0, at % (b.length + 1));
  }),
);

describe('RpcClient against a hostile peer (fast-check)', () => {
  it('settles every request with a result or a typed error, and stays usable or closes cleanly', async () => {
    let payload: Buffer[] = [];
    let after: 'close' | 'stall' | 'serve' = 'close';
    const server = await hostileServer((socket) => {
      let first = true;
      socket.on('data', (chunk) => {
        if (first) {
          first = false;
          for (const piece of payload) socket.write(piece);
          if (after === 'close') socket.end();
          return;
        }
        if (after !== 'serve') return;
        // Later requests get honest answers (ids are in the request text).
        for (const m of chunk.toString().matchAll(/"id":(\d+)/g)) socket.write(JSON.stringify({ jsonrpc: '2.0', id: Number(m[1]), result: 'ok' }));
      });
    });

    await fc.assert(
      fc.asyncProperty(
        fc.array(hostilePiece, { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom('close' as const, 'stall' as const, 'serve' as const),
        fc.integer({ min: 1, max: 3 }),
        async (pieces, cuts, then, concurrent) => {
          // Re-chunk the whole payload at random sizes, so framing is exercised across writes.
          const whole = Buffer.concat(pieces);
          payload = [];
          for (let at = 0, k = 0; at < whole.length; k++) {
            const size = cuts[k % cuts.length]!;
            payload.push(whole.subarray(at, at + size));
            at += size;
          }
          after = then;
          const client = await RpcClient.connect(server.path, { timeoutMs: 150, maxReplyBytes: 4096 });
          try {
            const calls = Array.from({ length: concurrent }, (_, i) => settle(client.call('fuzz_method', { i })));
            const results = await within(3000, Promise.all(calls));
            for (const r of results) if (!r.ok) expect(r.error).toSatisfy((e: Error) => e instanceof SpdkError || e instanceof RpcError);
            if (!client.closed) {
              // Still open: a further call settles too (a result, or a typed error: the stream may
              // be in the middle of a value the peer never finished).
              await within(3000, settle(client.call('spdk_get_version')));
            } else {
              const r = await within(1000, settle(client.call('spdk_get_version')));
              expect(r.ok).toBe(false);
              expect((r as { error: SpdkError }).error.code).toBe('ENOTCONN');
            }
          } finally {
            await within(2000, client.close());
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('a stalled peer: the timeout fires, a late reply is dropped, and the client keeps working', async () => {
    const held: Array<{ socket: net.Socket; id: number }> = [];
    const server = await hostileServer((socket) => {
      socket.on('data', (chunk) => {
        for (const m of chunk.toString().matchAll(/"id":(\d+)/g)) held.push({ socket, id: Number(m[1]) });
      });
    });
    const client = await connect(server.path, { timeoutMs: 100 });
    const r = await within(2000, settle(client.call('slow')));
    expect(r.ok).toBe(false);
    expect((r as { error: SpdkError }).error.code).toBe('ETIMEDOUT');
    // The late reply, then an answer to the next request.
    const late = held.shift()!;
    late.socket.write(JSON.stringify({ jsonrpc: '2.0', id: late.id, result: 'late' }));
    const next = client.call('next');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const pending = held.shift()!;
    pending.socket.write(JSON.stringify({ jsonrpc: '2.0', id: pending.id, result: 'on time' }));
    await expect(within(2000, next)).resolves.toBe('on time');
    expect(client.closed).toBe(false);
  });

  it('a peer that sends half a reply and closes: ECONNRESET, then ENOTCONN', async () => {
    const server = await hostileServer((socket) => {
      socket.once('data', () => socket.end('{"jsonrpc":"2.0","id":1,"result":{"name":"Mal'));
    });
    const client = await connect(server.path, { timeoutMs: 5000 });
    const r = await within(3000, settle(client.call('bdev_get_bdevs')));
    expect((r as { error: SpdkError }).error.code).toBe('ECONNRESET');
    const again = await within(1000, settle(client.call('bdev_get_bdevs')));
    expect((again as { error: SpdkError }).error.code).toBe('ENOTCONN');
  });

  it('garbage bytes: EPROTO for everything pending, and the client is closed', async () => {
    const server = await hostileServer((socket) => {
      socket.once('data', () => socket.write(Buffer.from([0xff, 0x00, 0x7b, 0x22])));
    });
    const client = await connect(server.path);
    const results = await within(3000, Promise.all([settle(client.call('a')), settle(client.call('b'))]));
    for (const r of results) expect((r as { error: SpdkError }).error.code).toBe('EPROTO');
    expect(client.closed).toBe(true);
  });

  it('replies to unknown ids and of the wrong shape are dropped or refused, never confused with the real one', async () => {
    const server = await hostileServer((socket) => {
      socket.on('data', (chunk) => {
        for (const m of chunk.toString().matchAll(/"id":(\d+)/g)) {
          const id = Number(m[1]);
          socket.write(JSON.stringify({ jsonrpc: '2.0', id: id + 100, result: 'wrong id' }));
          socket.write(JSON.stringify({ jsonrpc: '2.0', id: String(id), result: 'string id' }));
          socket.write(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
          socket.write(JSON.stringify({ jsonrpc: '2.0', id, result: `answer ${id}` }));
        }
      });
    });
    const client = await connect(server.path, { timeoutMs: 2000 });
    await expect(client.call('one')).resolves.toBe('answer 1');
    await expect(client.call('two')).resolves.toBe('answer 2');
  });
});

describe('RpcClient arguments (fast-check)', () => {
  it('refuses a socket path with a NUL inside (the kernel would read it only up to the NUL)', async () => {
    const server = await hostileServer((socket) => socket.on('data', () => {}));
    // Before: connected to server.path, a socket other than the one named.
    await expect(RpcClient.connect(`${server.path}\0other`, { connectTimeoutMs: 500 })).rejects.toThrow(TypeError);
  });

  const anyValue = fc.oneof(
    fc.anything({ withBigInt: true, withNullPrototype: true, withBoxedValues: true, withSparseArray: true }),
    fc.constantFrom(Symbol('s'), () => 1, Number.NaN, Infinity, -1, 0, 1.5, 2 ** 31, 2 ** 29),
  );

  it('connect: any address and options give a client or a typed error, quickly', async () => {
    const server = await hostileServer((socket) => socket.on('data', () => {}));
    const address = fc.oneof(
      anyValue,
      fc.constantFrom(server.path, `${server.path}\0x`, `\0abstract-${process.pid}`, '/nonexistent/dir/s.sock', `/tmp/${'x'.repeat(200)}`, '127.0.0.1:1', '[::1]:1', '127.0.0.1:0', '127.0.0.1:99999', ':1', '[]:1', './x:1'),
      fc.string({ maxLength: 20 }).map((s) => `/tmp/spdk-node-fuzz-none/${s}`),
    );
    const options = fc.oneof(
      anyValue,
      fc.record({ timeoutMs: anyValue, connectTimeoutMs: fc.oneof(anyValue, fc.constant(300)), maxReplyBytes: anyValue }, { requiredKeys: [] }),
    );
    let connected = 0;
    await fc.assert(
      fc.asyncProperty(address, fc.option(options, { nil: undefined }), async (a, o) => {
        // Keep connection attempts short whatever the options say.
        const opts = o !== null && typeof o === 'object' && !Array.isArray(o) ? { ...(o as object), connectTimeoutMs: 300 } : o;
        const r = await within(3000, settle(RpcClient.connect(a as string, opts as object)));
        if (r.ok) {
          connected++;
          await (r.value as RpcClient).close();
        }
      }),
      // The random part picks the live server with usable options only a few times in 300 (none
      // in about one run in twelve); the example makes sure a good address is among the inputs.
      { numRuns: 300, examples: [[server.path, undefined], [server.path, { connectTimeoutMs: 300 }]] },
    );
    expect(connected).toBeGreaterThan(0);
  });

  it('call: any method and params are sent and echoed back, or refused with a TypeError before sending', async () => {
    const server = await hostileServer((socket) => {
      const splitter = new JsonValueSplitter();
      socket.on('data', (chunk: Buffer) => {
        splitter.push(chunk, (text) => {
          const request = JSON.parse(text) as { id: number; params?: unknown };
          socket.write(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: request.params ?? null }));
        });
      });
    });
    const client = await connect(server.path, { timeoutMs: 2000 });
    const params = fc.oneof(anyValue, fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 20 }), anyValue), params, async (method, p) => {
        const r = await within(3000, settle(client.call(method as string, p)));
        if (r.ok) {
          expect(r.value).toEqual(p === undefined ? null : JSON.parse(JSON.stringify(p)));
        } else {
          expect(r.error).toBeInstanceOf(TypeError);
        }
        expect(client.closed).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
