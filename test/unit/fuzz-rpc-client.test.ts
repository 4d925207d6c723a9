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
