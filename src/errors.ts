// The typed errors of spdk-node. Every failure that reaches a user is one of these (or a plain
// TypeError / RangeError for bad arguments, thrown before anything crosses into native code).
import { constants } from 'node:os';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  // Several names share a number (EWOULDBLOCK = EAGAIN); keep the first, which is the usual one.
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}
// Linux errnos SPDK uses that Node's table leaves out.
const linuxExtras: Record<string, number> = { ESHUTDOWN: 108, EREMOTEIO: 121, ENOKEY: 126, EKEYEXPIRED: 127, EKEYREVOKED: 128, EKEYREJECTED: 129 };
for (const [name, value] of Object.entries(linuxExtras)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The symbolic name of an errno value (`5` -> `'EIO'`), sign ignored. */
export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/** The errno value of a symbolic name (`'EIO'` -> `5`), or undefined. */
export function errnoValue(name: string): number | undefined {
  return (constants.errno as Record<string, number>)[name] ?? linuxExtras[name];
}

export interface SpdkErrorOptions {
  /** What was being done, e.g. `'bdev.read'` or `'Spdk.start'`. */
  operation: string;
  /** Positive errno value. */
  errno: number;
  /** SPDK log lines that explain the failure, when there are any. */
  log?: readonly string[];
  cause?: unknown;
}

/** A failure reported by SPDK, with the errno it gave. */
export class SpdkError extends Error {
  /** Symbolic errno name: `'ENOMEM'`, `'EIO'`, `'ENODEV'`... */
  readonly code: string;
  /** Positive errno value. */
  readonly errno: number;
  readonly operation: string;
  /** SPDK log lines captured around the failure (may be empty). */
  readonly log: readonly string[];
  /** The message without the operation in front and the code behind. */
  readonly reason: string;

  constructor(message: string, options: SpdkErrorOptions) {
    const errno = Math.abs(options.errno);
    const code = errnoName(errno);
    super(`${options.operation}: ${message} (${code})`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SpdkError';
    this.code = code;
    this.errno = errno;
    this.operation = options.operation;
    this.log = options.log ?? [];
    this.reason = message;
  }
}

/** @internal The same failure, as seen by another operation (an I/O whose batch failed to submit). */
export function withOperation(error: unknown, operation: string): unknown {
  if (!(error instanceof SpdkError) || error instanceof NvmeError || error.operation === operation) return error;
  return new SpdkError(error.reason, { operation, errno: error.errno, log: error.log });
}

export interface NvmeStatus {
  /** Status code type (SCT). */
  sct: number;
  /** Status code (SC). */
  sc: number;
  /** e.g. `'GENERIC'`, `'COMMAND_SPECIFIC'`, `'MEDIA_ERROR'`, `'PATH'`, `'VENDOR_SPECIFIC'`. */
  sctName: string;
  /** e.g. `'LBA_OUT_OF_RANGE'`, `'INVALID_FIELD'`. */
  scName: string;
  /** Do Not Retry bit. */
  dnr?: boolean;
}

/** An NVMe command that completed with an error status. */
export class NvmeError extends SpdkError {
  readonly sct: number;
  readonly sc: number;
  readonly sctName: string;
  readonly scName: string;
  readonly dnr: boolean;

  constructor(operation: string, status: NvmeStatus) {
    super(`NVMe command failed: ${status.sctName}/${status.scName} (sct=${status.sct}, sc=0x${status.sc.toString(16)})`, {
      operation,
      errno: errnoValue('EIO') ?? 5,
    });
    this.name = 'NvmeError';
    this.sct = status.sct;
    this.sc = status.sc;
    this.sctName = status.sctName;
    this.scName = status.scName;
    this.dnr = status.dnr ?? false;
  }
}

/** A JSON-RPC error answered by an SPDK application. */
export class RpcError extends Error {
  /** JSON-RPC error code, e.g. -32601 (method not found), -32602 (invalid params), or a negative errno. */
  readonly code: number;
  readonly method: string;
  readonly data: unknown;

  constructor(method: string, code: number, message: string, data?: unknown) {
    super(`${method}: ${message} (JSON-RPC code ${code})`);
    this.name = 'RpcError';
    this.method = method;
    this.code = code;
    this.data = data;
  }
}
