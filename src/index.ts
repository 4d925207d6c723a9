// The public surface of spdk-node: re-exports only.
export { Spdk } from './spdk';
export type { AllocBufferOptions } from './spdk';
export type { SpdkStartOptions, SpdkConfig, SpdkConfigEntry, SpdkLogLevel } from './start-options';
export { Bdev } from './bdev/bdev';
export { CLOSE_GRACE_MS } from './io/close-grace';
export type { OpenBdevOptions } from './bdev/bdev';
export { IoQueue, RingQueue } from './io/queue';
export { NvmeQueue } from './nvme/queue';
export type { IoQueueOptions, CompletionHandler } from './io/queue';
export type { BdevInfo, BdevIoType } from './bdev/info';
export { Nvme } from './nvme/nvme';
export type { NvmeConnectOptions, NvmeListEntry } from './nvme/nvme';
export { NvmeController } from './nvme/controller';
export type { NvmeCommand, NvmeCompletion, IdentifyOptions, GetLogPageOptions } from './nvme/controller';
export { NvmeNamespace } from './nvme/namespace';
export type { LbaRange } from './nvme/namespace';
export { IoQpair } from './nvme/qpair';
export type { IoQpairOptions } from './nvme/qpair';
export { parseTransportId, formatTransportId, DISCOVERY_NQN } from './nvme/transport-id';
export type { TransportId, NvmeTransportType, NvmeAddressFamily } from './nvme/transport-id';
export { decodeControllerData } from './nvme/identify';
export type { NvmeControllerData, NvmeVersion, NvmeOptionalCommands } from './nvme/identify';
export { decodeHealthLog } from './nvme/health';
export type { NvmeHealthLog, NvmeCriticalWarnings } from './nvme/health';
export { nvmeStatusNames } from './nvme/status';
export { listDevices, bindDevices, unbindDevices, systemHost, NVME_PCI_CLASS } from './devices';
export type {
  NvmeDevice, DeviceOptions, BindOptions, BindResult, UnbindResult, DeviceChange, DeviceSelection, UserSpaceDriver,
  DeviceUse, DeviceUseKind, DeviceHost, HostUser,
} from './devices';
export { SpdkError, NvmeError, RpcError, errnoName } from './errors';
export type { NvmeStatus, SpdkErrorOptions } from './errors';
export { SpdkLoadError } from './load-error';
export { checkFatLibrary, formatReport } from './doctor';
export type { ElfKind } from './elf';
export type {
  FatLibraryReport, CheckOptions, CoresReport, AddonCandidate, AddonKind, AddonReport, Finding, HugepagePool,
  HugepagesReport, HugetlbfsMount, LibraryReport, LibrarySource, FatManifest, ManifestReport, AccessState, PermissionsReport,
} from './doctor';
export { RpcClient, DEFAULT_RPC_SOCKET, DEFAULT_MAX_REPLY_BYTES } from './rpc';
export type { RpcClientOptions } from './rpc';
/** Every RPC parameter and result type (generated, plus the hand-written results), e.g. `RpcTypes.BdevMallocCreateParams`. */
export type * as RpcTypes from './rpc';
