import { describe, it, expect, afterEach } from 'vitest';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { RpcClient, type BdevInfo } from '../../src/rpc';
import { RpcError, SpdkError } from '../../src/errors';
import { JsonValueSplitter } from '../../src/rpc/json-stream';

interface JsonRpcRequest {
  jsonrpc: string;
  method: string;
  params?: unknown;
  id: number;
}

/** What the fake server does with each request: answer through `reply`, or not at all. */
type Handler = (request: JsonRpcRequest, reply: (message: unknown) => void, socket: net.Socket) => void;

interface FakeServer {
  socketPath: string;
  requests: JsonRpcRequest[];
  sockets: net.Socket[];
  close(): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spdk-node-rpc-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A JSON-RPC server on a Unix socket in a temp dir, standing in for an SPDK application. */
async function startServer(handler: Handler, listenOn?: { port: 0; host: string }): Promise<FakeServer> {
  const requests: JsonRpcRequest[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    const splitter = new JsonValueSplitter();
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      splitter.push(chunk, (text) => {
        const request = JSON.parse(text) as JsonRpcRequest;
        requests.push(request);
        handler(request, (message) => socket.write(typeof message === 'string' ? message : JSON.stringify(message)), socket);
      });
    });
  });
  let socketPath: string;
  if (listenOn) {
    await new Promise<void>((resolve) => server.listen(listenOn, resolve));
    const address = server.address() as net.AddressInfo;
    socketPath = `${listenOn.host}:${address.port}`;
  } else {
    socketPath = path.join(tempDir(), 'spdk.sock');
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  }
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  cleanups.push(close);
  return { socketPath, requests, sockets, close };
}

async function connect(server: FakeServer, options?: { timeoutMs?: number }): Promise<RpcClient> {
  const client = await RpcClient.connect(server.socketPath, options);
  cleanups.push(() => client.close());
  return client;
}

const echoResult: Handler = (request, reply) => reply({ jsonrpc: '2.0', id: request.id, result: request.params ?? null });

function fakeBdev(i: number): BdevInfo {
  return {
    name: `Malloc${i}`,
    aliases: [`00000000-0000-4000-8000-${i.toString().padStart(12, '0')}`],
    product_name: 'Malloc disk',
    block_size: 512,
    num_blocks: 20480,
    uuid: `00000000-0000-4000-8000-${i.toString().padStart(12, '0')}`,
    assigned_rate_limits: { rw_ios_per_sec: 0, rw_mbytes_per_sec: 0, r_mbytes_per_sec: 0, w_mbytes_per_sec: 0 },
    claimed: false,
    zoned: false,
    supported_io_types: {
      read: true, write: true, unmap: true, flush: true, reset: true, nvme_admin: false, nvme_io: false,
      nvme_io_md: false, write_zeroes: true, zcopy: true, get_zone_info: false, zone_management: false,
      zone_append: false, compare: false, compare_and_write: false, abort: true, seek_hole: false,
      seek_data: false, copy: true, nvme_iov_md: false, nvme_nssr: false, write_uncorrectable: false,
    },
    driver_specific: { malloc: { note: `bdev {${i}} "quoted" \\ ${'x'.repeat(600)}` } },
  };
}

async function expectSpdkError(promise: Promise<unknown>, code: string, message?: RegExp): Promise<SpdkError> {
  const error = await promise.then(
    () => expect.fail(`expected a rejection with ${code}`),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SpdkError);
  expect((error as SpdkError).code).toBe(code);
  if (message) expect((error as SpdkError).message).toMatch(message);
  return error as SpdkError;
}

describe('RpcClient requests and replies', () => {
  it('sends a JSON-RPC 2.0 request and resolves a typed call with the result', async () => {
    const server = await startServer((request, reply) => reply({ jsonrpc: '2.0', id: request.id, result: [fakeBdev(0)] }));
    const client = await connect(server);
    const bdevs = await client.bdev_get_bdevs({ name: 'Malloc0' });
    expect(bdevs[0]?.name).toBe('Malloc0');
    expect(bdevs[0]?.supported_io_types.read).toBe(true);
    expect(server.requests).toEqual([{ jsonrpc: '2.0', method: 'bdev_get_bdevs', params: { name: 'Malloc0' }, id: 1 }]);
  });

  it('leaves params out of the request when the call has none', async () => {
    const server = await startServer(echoResult);
    const client = await connect(server);
    await client.framework_start_init();
    await client.call('rpc_get_methods');
    expect(server.requests.map((request) => 'params' in request)).toEqual([false, false]);
  });

  it('numbers requests with increasing ids', async () => {
    const server = await startServer(echoResult);
    const client = await connect(server);
    await Promise.all([client.call('a_method'), client.call('b_method'), client.call('c_method')]);
    await client.call('d_method');
    expect(server.requests.map((request) => request.id)).toEqual([1, 2, 3, 4]);
  });

  it('passes method names unknown to the generated types through the untyped call', async () => {
    const server = await startServer(echoResult);
    const client = await connect(server);
    const result: unknown = await client.call('bdev_from_the_future', { depth: 3 });
    expect(result).toEqual({ depth: 3 });
  });

  it('matches 200 concurrent requests to replies sent in reverse order', async () => {
    const held: (() => void)[] = [];
    const server = await startServer((request, reply) => {
      held.push(() => reply({ jsonrpc: '2.0', id: request.id, result: { echoed: request.params } }));
      if (held.length === 200) for (const send of held.reverse()) send();
    });
    const client = await connect(server);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => client.call('echo', { i })));
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => ({ echoed: { i } })));
  });

  it('reads replies delivered one byte at a time', async () => {
    const server = await startServer((request, _reply, socket) => {
      const bytes = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: { name: 'Nvme0n1', size: 1 } }));
      let at = 0;
      const drip = (): void => {
        if (at < bytes.length && !socket.destroyed) {
          socket.write(bytes.subarray(at, ++at));
          setImmediate(drip);
        }
      };
      drip();
    });
    const client = await connect(server);
    expect(await client.call('drip')).toEqual({ name: 'Nvme0n1', size: 1 });
  });

  it('reads many replies delivered in a single chunk', async () => {
    const ids: number[] = [];
    const server = await startServer((request, reply) => {
      ids.push(request.id);
      if (ids.length === 50) {
        // Back to back, no newlines, shuffled: one write the client must cut into 50 replies.
        reply(ids.map((id) => JSON.stringify({ jsonrpc: '2.0', id, result: id * 10 })).reverse().join(''));
      }
    });
    const client = await connect(server);
    const results = await Promise.all(Array.from({ length: 50 }, () => client.call('batch')));
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => (i + 1) * 10));
  });

  it('reads a reply of more than 5 MB (5000 bdevs)', async () => {
    const bdevs = Array.from({ length: 5000 }, (_, i) => fakeBdev(i));
    const server = await startServer((request, reply) => reply({ jsonrpc: '2.0', id: request.id, result: bdevs }));
    const client = await connect(server);
    const sent = JSON.stringify(bdevs).length;
    expect(sent).toBeGreaterThan(5_000_000);
    const received = await client.bdev_get_bdevs();
    expect(received).toHaveLength(5000);
    expect(received).toEqual(bdevs);
  });

  it('keeps braces, quotes and escapes inside strings out of the framing', async () => {
    const tricky = ['{', '}', '}}{{', '"', '\\', '\\"}', '[{"x":"}"}]', '\n', 'caf\u00e9 \u{1F4BE}', '\u0000\u001f'];
    const server = await startServer((request, reply) => {
      reply({ jsonrpc: '2.0', id: request.id, result: { tricky, params: request.params ?? null } });
      reply('\n');
    });
    const client = await connect(server);
    const results = await Promise.all([client.call('tricky', { s: '}{"' }), client.call('tricky')]);
    expect(results[0]).toEqual({ tricky, params: { s: '}{"' } });
    expect(results[1]).toEqual({ tricky, params: null });
  });
});

describe('RpcClient errors', () => {
  it('rejects with an RpcError carrying the code, message and data of an error reply', async () => {
    const server = await startServer((request, reply) =>
      reply({ jsonrpc: '2.0', id: request.id, error: { code: -19, message: 'No such device', data: { name: 'Nvme9' } } }),
    );
    const client = await connect(server);
    const error = await client.bdev_get_bdevs({ name: 'Nvme9' }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(RpcError);
    expect(error).toMatchObject({ method: 'bdev_get_bdevs', code: -19, data: { name: 'Nvme9' } });
    expect((error as RpcError).message).toContain('No such device');
  });

  it('rejects with ETIMEDOUT when no reply comes within timeoutMs, and ignores the late reply', async () => {
    const server = await startServer((request, reply) => {
      if (request.method === 'slow') setTimeout(() => reply({ jsonrpc: '2.0', id: request.id, result: 'late' }), 150);
      else reply({ jsonrpc: '2.0', id: request.id, result: 'fast' });
    });
    const client = await connect(server, { timeoutMs: 50 });
    const error = await expectSpdkError(client.call('slow'), 'ETIMEDOUT', /timed out after 50 ms/);
    expect(error.operation).toBe('rpc.slow');
    await new Promise((resolve) => setTimeout(resolve, 200)); // the late reply arrives meanwhile
    expect(await client.call('fast')).toBe('fast');
  });

  it('rejects connect with an ENOENT SpdkError that names the path when there is no socket', async () => {
    const socketPath = path.join(tempDir(), 'missing.sock');
    const error = await expectSpdkError(RpcClient.connect(socketPath), 'ENOENT');
    expect(error.message).toContain(socketPath);
    expect(error.message).toMatch(/must be running/);
    expect(error.operation).toBe('rpc.connect');
  });

  it('rejects connect with ECONNREFUSED when the path exists but nothing listens on it', async () => {
    const socketPath = path.join(tempDir(), 'stale.sock');
    fs.writeFileSync(socketPath, ''); // like the file a crashed SPDK app leaves behind
    const error = await expectSpdkError(RpcClient.connect(socketPath), 'ECONNREFUSED');
    expect(error.message).toContain(socketPath);
  });

  it('rejects pending requests with ECONNRESET when the server closes the connection', async () => {
    const server = await startServer((request, reply, socket) => {
      if (request.method === 'crash') socket.destroy();
    });
    const client = await connect(server);
    const pending = client.call('never_answered');
    await expectSpdkError(client.call('crash'), 'ECONNRESET', /closed before the reply arrived/);
    await expectSpdkError(pending, 'ECONNRESET');
    expect(client.closed).toBe(true);
  });

  it('rejects calls made after the connection was lost with ENOTCONN', async () => {
    const server = await startServer((_request, _reply, socket) => socket.destroy());
    const client = await connect(server);
    await expectSpdkError(client.call('crash'), 'ECONNRESET');
    await expectSpdkError(client.call('spdk_get_version'), 'ENOTCONN', /connection .* was lost/);
  });

  it('rejects everything with EPROTO when the server sends something that is not JSON-RPC', async () => {
    const server = await startServer((_request, reply) => reply('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const client = await connect(server);
    await expectSpdkError(client.call('spdk_get_version'), 'EPROTO', /not a JSON-RPC response/);
    expect(client.closed).toBe(true);
  });

  it('rejects an empty or non-string method name with a TypeError', async () => {
    const server = await startServer(echoResult);
    const client = await connect(server);
    await expect(client.call('')).rejects.toThrow(TypeError);
    await expect(client.call(42 as unknown as string)).rejects.toThrow(/method must be a non-empty string/);
    expect(server.requests).toEqual([]);
  });

  it('rejects params that are not an object or an array with a TypeError', async () => {
    const server = await startServer(echoResult);
    const client = await connect(server);
    await expect(client.call('bdev_from_the_future', 'name')).rejects.toThrow(/must be an object or an array/);
    await expect(client.call('bdev_from_the_future', null)).rejects.toThrow(TypeError);
    await expect(client.call('bdev_from_the_future', { size: 1n })).rejects.toThrow(/cannot be sent as JSON/);
  });

  it('rejects bad connect arguments with TypeError and RangeError', async () => {
    await expect(RpcClient.connect('')).rejects.toThrow(TypeError);
    await expect(RpcClient.connect('/var/tmp/spdk.sock', { timeoutMs: 0 })).rejects.toThrow(RangeError);
    await expect(RpcClient.connect('/var/tmp/spdk.sock', { connectTimeoutMs: Number.NaN })).rejects.toThrow(TypeError);
    await expect(RpcClient.connect('localhost:70000')).rejects.toThrow(RangeError);
  });
});

describe('RpcClient lifecycle', () => {
  it('connects to a host:port address over TCP', async () => {
    const server = await startServer(echoResult, { port: 0, host: '127.0.0.1' });
    const client = await connect(server);
    expect(client.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await client.call('ping', { over: 'tcp' })).toEqual({ over: 'tcp' });
  });

  it('close() rejects pending requests with ECANCELED and resolves once the socket is closed', async () => {
    const server = await startServer(() => {});
    const client = await connect(server);
    const pending = [client.call('never_answered'), client.call('never_answered')];
    const rejections = pending.map((request) => expectSpdkError(request, 'ECANCELED', /client was closed/));
    await new Promise((resolve) => setImmediate(resolve));
    await client.close();
    await Promise.all(rejections);
    expect(client.closed).toBe(true);
  });

  it('close() is idempotent', async () => {
    const server = await startServer(echoResult);
    const client = await connect(server);
    const first = client.close();
    expect(client.close()).toBe(first);
    await first;
    await client.close();
  });

  it('rejects calls after close() with ENOTCONN saying the client is closed', async () => {
    const server = await startServer(echoResult);
    const client = await connect(server);
    await client.close();
    await expectSpdkError(client.spdk_get_version(), 'ENOTCONN', /client is closed/);
    expect(server.requests).toEqual([]);
  });

  it('closes through Symbol.asyncDispose (await using)', async () => {
    const server = await startServer(echoResult);
    const client = await connect(server);
    await client[Symbol.asyncDispose]();
    expect(client.closed).toBe(true);
  });

  it('can close after the server went away', async () => {
    const server = await startServer(echoResult);
    const client = await connect(server);
    await server.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await client.close();
    expect(client.closed).toBe(true);
  });
});
