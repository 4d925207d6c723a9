// A JSON-RPC 2.0 client for the RPC server of an SPDK application (spdk_tgt, nvmf_tgt, ...).
//
// One socket carries any number of concurrent requests: each gets the next integer id, and replies,
// which SPDK sends in completion order rather than request order, are matched back by id. Replies are
// cut out of the byte stream by JsonValueSplitter because SPDK does not frame them by line.
//
// Every request settles exactly once: with its result, an RpcError (SPDK answered with an error
// object), or an SpdkError (timeout, connection lost, client closed). A reply that arrives after its
// request timed out is dropped. While no request is pending the socket is unref'd, so an idle client
// does not keep Node running.
import * as net from 'node:net';
import { RpcError, SpdkError, errnoValue } from '../errors';
import { JsonValueSplitter, JsonValueTooLargeError } from './json-stream';
import { RpcMethods, type RpcCallParams, type RpcMethodName } from './methods.generated';
import type { RpcResult } from './results';

/** Where SPDK applications listen for RPCs unless started with `-r`. */
export const DEFAULT_RPC_SOCKET = '/var/tmp/spdk.sock';

export interface RpcClientOptions {
  /** How long to wait for each reply, in ms (default 30000); `Infinity` waits forever. */
  timeoutMs?: number;
  /** How long to wait for the connection, in ms (default 10000); `Infinity` waits forever. */
  connectTimeoutMs?: number;
  /**
   * The largest reply accepted, in bytes (default 256 MiB). A longer one rejects every pending
   * request with an EMSGSIZE SpdkError and closes the connection, rather than holding an endless
   * stream in memory.
   */
  maxReplyBytes?: number;
}

/** A method name the generated types do not know (e.g. one newer than the schema). */
export type UntypedMethodName<S extends string> = S extends RpcMethodName
  ? `${S} is a typed method: check its parameters against RpcParamsMap['${S}']`
  : S;

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** The default maxReplyBytes: far above SPDK's largest replies (5000 bdevs are about 6 MB). */
export const DEFAULT_MAX_REPLY_BYTES = 256 * 1024 * 1024;
// A reply is decoded into one string, and V8 strings hold at most 2^29 - 24 characters.
const MAX_REPLY_LIMIT = 2 ** 29 - 24;
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout fires at once for anything longer

const ETIMEDOUT = errnoValue('ETIMEDOUT') ?? 110;
const ECONNRESET = errnoValue('ECONNRESET') ?? 104;
const ENOTCONN = errnoValue('ENOTCONN') ?? 107;
const ECANCELED = errnoValue('ECANCELED') ?? 125;
const EPROTO = errnoValue('EPROTO') ?? 71;
const EIO = errnoValue('EIO') ?? 5;
const EMSGSIZE = errnoValue('EMSGSIZE') ?? 90;

type Address = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

interface PendingRequest {
  method: string;
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A connection to an SPDK application's RPC socket, with one typed method per RPC
 * (`client.bdev_get_bdevs()`, `client.bdev_malloc_create({ num_blocks, block_size })`) and a
 * generic `call()`. Create with `RpcClient.connect()`; end with `close()` or `await using`.
 */
export class RpcClient extends RpcMethods {
  /** The address given to `connect()`: a Unix socket path or `host:port`. */
  readonly address: string;
  readonly #socket: net.Socket;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, PendingRequest>();
  readonly #splitter: JsonValueSplitter;
  #nextId = 1;
  #state: 'open' | 'lost' | 'closed' = 'open';
  #socketClosed = false;
  #socketError: Error | undefined;
  /** An error the server sent without an id (it could not read a request); explains a disconnect. */
  #serverError: string | undefined;
  #closing: Promise<void> | undefined;

  /**
   * Connects to an SPDK application's RPC server. `socketPath` is a Unix socket path (default
   * `/var/tmp/spdk.sock`) or `host:port` for a TCP proxy in front of one (`[::1]:5260` for IPv6;
   * write `./name:1` for a relative socket path that looks like an address).
   */
  static async connect(socketPath: string = DEFAULT_RPC_SOCKET, options: RpcClientOptions = {}): Promise<RpcClient> {
    const address = parseAddress(socketPath);
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be an object, got ${describe(options)}`);
    }
    const timeoutMs = checkTimeout('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS);
    const connectTimeoutMs = checkTimeout('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
    const maxReplyBytes = checkMaxReplyBytes(options.maxReplyBytes);
    const socket = await openSocket(address, socketPath, connectTimeoutMs);
    return new RpcClient(socketPath, socket, timeoutMs, maxReplyBytes);
  }

  private constructor(address: string, socket: net.Socket, timeoutMs: number, maxReplyBytes: number) {
    super();
    this.address = address;
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#splitter = new JsonValueSplitter(maxReplyBytes);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    // 'close' always follows 'error'; the error only explains the close.
    socket.on('error', (error) => {
      this.#socketError = error;
    });
    socket.on('close', () => this.#onClose());
    socket.unref();
  }

  /** True once `close()` was called or the connection was lost; calls then reject. */
  get closed(): boolean {
    return this.#state !== 'open';
  }

  /**
   * Sends one request and resolves with its result. Typed for the methods of the schema; any other
   * method name is accepted untyped (for methods newer than the generated types).
   */
  override call<M extends RpcMethodName>(method: M, ...params: RpcCallParams<M>): Promise<RpcResult<M>>;
  override call<S extends string>(method: UntypedMethodName<S>, params?: unknown): Promise<unknown>;
  override call(method: string, params?: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (typeof method !== 'string' || method === '') {
        throw new TypeError(`method must be a non-empty string, got ${describe(method)}`);
      }
      if (params !== undefined && (params === null || typeof params !== 'object')) {
        throw new TypeError(`params of ${method} must be an object or an array, got ${describe(params)}`);
      }
      if (this.#state !== 'open') throw this.#notConnectedError(method);

      const id = this.#nextId++;
      let request: string;
      try {
        // Without params the member is left out: SPDK refuses params on methods that take none.
        request = JSON.stringify(params === undefined ? { jsonrpc: '2.0', method, id } : { jsonrpc: '2.0', method, params, id });
      } catch (error) {
        throw new TypeError(`params of ${method} cannot be sent as JSON: ${(error as Error).message}`);
      }

      const pending: PendingRequest = { method, resolve, reject, timer: undefined };
      if (this.#timeoutMs !== Infinity) {
        pending.timer = setTimeout(() => this.#onTimeout(id), this.#timeoutMs);
      }
      if (this.#pending.size === 0) this.#socket.ref();
      this.#pending.set(id, pending);
      this.#socket.write(request);
    });
  }

  /**
   * Closes the connection. Pending requests reject (SPDK may still carry them out, since they were
   * sent). Idempotent: every call returns the same promise, which resolves once the socket is closed.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#state = 'closed';
      this.#rejectAll((method) =>
        new SpdkError('the client was closed before the reply arrived; the request was sent, so SPDK may still carry it out', {
          operation: `rpc.${method}`,
          errno: ECANCELED,
        }),
      );
      this.#closing = this.#socketClosed
        ? Promise.resolve()
        : new Promise((resolve) => {
            this.#socket.once('close', () => resolve());
            this.#socket.destroy();
          });
    }
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #onData(chunk: Buffer): void {
    try {
      this.#splitter.push(chunk, (text) => this.#onMessage(JSON.parse(text) as unknown));
    } catch (error) {
      this.#onProtocolError(error as Error);
    }
  }

  #onMessage(message: unknown): void {
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      throw new SyntaxError(`expected a JSON-RPC response object, got ${Array.isArray(message) ? 'an array' : describe(message)}`);
    }
    const reply = message as { id?: unknown; result?: unknown; error?: unknown };
    if (typeof reply.id !== 'number') {
      // SPDK answers a request it cannot parse with id null and then closes the connection.
      if (reply.error !== undefined) this.#serverError = errorText(reply.error);
      return;
    }
    const pending = this.#take(reply.id);
    if (pending === undefined) return; // the request timed out; its late reply is of no use
    if (reply.error !== undefined && reply.error !== null) {
      const error = reply.error as { code?: unknown; message?: unknown; data?: unknown };
      const code = typeof error.code === 'number' ? error.code : -32603;
      pending.reject(new RpcError(pending.method, code, errorText(error), error.data));
    } else if ('result' in reply) {
      pending.resolve(reply.result);
    } else {
      pending.reject(new SpdkError('the reply has neither a result nor an error', { operation: `rpc.${pending.method}`, errno: EPROTO }));
    }
  }

  #onTimeout(id: number): void {
    const pending = this.#take(id);
    if (pending === undefined) return;
    pending.reject(
      new SpdkError(`request timed out after ${this.#timeoutMs} ms; SPDK may still carry it out (raise timeoutMs for slow operations)`, {
        operation: `rpc.${pending.method}`,
        errno: ETIMEDOUT,
      }),
    );
  }

  /** The stream can no longer be trusted to line up with requests: fail everything and disconnect. */
  #onProtocolError(error: Error): void {
    if (this.#state === 'open') this.#state = 'lost';
    if (error instanceof JsonValueTooLargeError) {
      this.#rejectAll((method) =>
        new SpdkError(`${this.address} sent a reply longer than maxReplyBytes (${error.limit} bytes); the connection was closed (raise maxReplyBytes if the reply is genuine)`, {
          operation: `rpc.${method}`,
          errno: EMSGSIZE,
          cause: error,
        }),
      );
      this.#socket.destroy();
      return;
    }
    this.#rejectAll((method) =>
      new SpdkError(`${this.address} sent something that is not a JSON-RPC response (${error.message}); is it an SPDK RPC socket?`, {
        operation: `rpc.${method}`,
        errno: EPROTO,
        cause: error,
      }),
    );
    this.#socket.destroy();
  }

  #onClose(): void {
    this.#socketClosed = true;
    this.#splitter.reset();
    if (this.#state === 'open') this.#state = 'lost';
    const why = [
      this.#socketError ? `: ${this.#socketError.message}` : '',
      this.#serverError ? ` (its last error: ${this.#serverError})` : '',
    ].join('');
    this.#rejectAll((method) =>
      new SpdkError(`the connection to ${this.address} was closed before the reply arrived${why}; the SPDK application may have exited`, {
        operation: `rpc.${method}`,
        errno: ECONNRESET,
        cause: this.#socketError,
      }),
    );
  }

  #notConnectedError(method: string): SpdkError {
    const message =
      this.#closing !== undefined
        ? 'the RPC client is closed; connect again with RpcClient.connect()'
        : `the connection to ${this.address} was lost; connect again with RpcClient.connect()`;
    return new SpdkError(message, { operation: `rpc.${method}`, errno: ENOTCONN });
  }

  #take(id: number): PendingRequest | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (this.#pending.size === 0) this.#socket.unref();
    return pending;
  }

  #rejectAll(makeError: (method: string) => Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const request of pending) {
      clearTimeout(request.timer);
      request.reject(makeError(request.method));
    }
    this.#socket.unref();
  }
}

function parseAddress(socketPath: unknown): Address {
  if (typeof socketPath !== 'string' || socketPath === '') {
    throw new TypeError(`socketPath must be a non-empty string (a Unix socket path or host:port), got ${describe(socketPath)}`);
  }
  // A leading NUL names a Linux abstract socket; one further in would cut the path short.
  if (socketPath.indexOf('\0', 1) !== -1) {
    throw new TypeError(`socketPath must not contain a NUL character after its first, got ${JSON.stringify(socketPath)}`);
  }
  // Anything with a slash is a path; otherwise `host:port` or `[ipv6]:port` is a TCP address.
  const tcp = socketPath.includes('/') ? null : /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(socketPath);
  if (tcp) {
    const port = Number(tcp[3]);
    if (port < 1 || port > 65535) throw new RangeError(`port of ${socketPath} must be between 1 and 65535`);
    return { kind: 'tcp', host: (tcp[1] ?? tcp[2]) as string, port };
  }
  return { kind: 'unix', path: socketPath };
}

function checkTimeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${name} must be a number of milliseconds, got ${describe(value)}`);
  if (value === Infinity) return value;
  if (value <= 0 || value > MAX_TIMER_MS) {
    throw new RangeError(`${name} must be between 1 and ${MAX_TIMER_MS} ms, or Infinity, got ${value}`);
  }
  return value;
}

function checkMaxReplyBytes(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_REPLY_BYTES;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`maxReplyBytes must be a number of bytes, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < 2 || value > MAX_REPLY_LIMIT) {
    throw new RangeError(`maxReplyBytes must be a whole number of bytes between 2 and ${MAX_REPLY_LIMIT}, got ${value}`);
  }
  return value;
}

function openSocket(address: Address, label: string, connectTimeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = address.kind === 'unix' ? net.createConnection({ path: address.path }) : net.createConnection({ host: address.host, port: address.port });
    const timer =
      connectTimeoutMs === Infinity
        ? undefined
        : setTimeout(() => {
            socket.destroy();
            reject(new SpdkError(`no connection to ${label} after ${connectTimeoutMs} ms; is the SPDK application responsive?`, { operation: 'rpc.connect', errno: ETIMEDOUT }));
          }, connectTimeoutMs);
    const onError = (error: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(connectError(error, address, label));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      if (address.kind === 'tcp') socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

function connectError(error: NodeJS.ErrnoException, address: Address, label: string): SpdkError {
  const errno = (error.code !== undefined ? errnoValue(error.code) : undefined) ?? Math.abs(error.errno ?? EIO);
  const options = { operation: 'rpc.connect', errno, cause: error };
  if (address.kind === 'tcp') {
    return new SpdkError(`cannot connect to ${label}: ${error.message}; is a proxy to an SPDK application's RPC socket listening there?`, options);
  }
  switch (error.code) {
    case 'ENOENT':
      return new SpdkError(`no RPC socket at ${label}: the SPDK application must be running with its RPC server on this path (start it, or pass its -r path)`, options);
    case 'ECONNREFUSED':
      return new SpdkError(`nothing listens on ${label}: the SPDK application that created it is not running (start it again; it must be running with its RPC socket)`, options);
    case 'EACCES':
    case 'EPERM':
      return new SpdkError(`permission denied on ${label}: SPDK applications usually run as root; run as root or make the socket accessible`, options);
    default:
      return new SpdkError(`cannot connect to ${label}: ${error.message}`, options);
  }
}

function errorText(error: unknown): string {
  if (error !== null && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return JSON.stringify(error);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
