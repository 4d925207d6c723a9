// The public surface of spdk-node's JSON-RPC client: re-exports only.
export { RpcClient, DEFAULT_RPC_SOCKET, DEFAULT_MAX_REPLY_BYTES, type RpcClientOptions, type UntypedMethodName } from './client';
export * from './methods.generated';
export * from './results';
export type { RpcDocumentedResultMap } from './results.generated';
