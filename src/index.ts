// The public surface of spdk-node: re-exports only.
export { Spdk } from './spdk';
export type { AllocBufferOptions } from './spdk';
export type { SpdkStartOptions, SpdkConfig, SpdkLogLevel } from './start-options';
export { Bdev } from './bdev';
export type { OpenBdevOptions } from './bdev';
export type { BdevInfo, BdevIoType } from './bdev-info';
export { SpdkError, NvmeError, RpcError, errnoName } from './errors';
export type { NvmeStatus, SpdkErrorOptions } from './errors';
export { SpdkLoadError } from './load-error';
export { checkFatLibrary, formatReport } from './doctor';
export type { FatLibraryReport } from './doctor';
export { RpcClient, DEFAULT_RPC_SOCKET } from './rpc';
export type { RpcClientOptions } from './rpc';
/** Every generated RPC parameter type and the hand-written result types, e.g. `RpcTypes.BdevMallocCreateParams`. */
export type * as RpcTypes from './rpc';
