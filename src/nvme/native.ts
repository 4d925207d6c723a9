// The native NVMe surface (native/nvme/*.cc) as the TypeScript layer sees it. Everything here was
// checked by the public classes before it is called; nothing outside src/nvme uses it.

export interface NativeNvmeConnectOptions {
  /** '' for SPDK's default host NQN. */
  hostnqn: string;
  keepAliveTimeoutMs: number;
  /** spdk_nvme_ctrlr_opts.transport_ack_timeout: 2^n ms for TCP; 0 for the default. */
  ackTimeoutExponent: number;
  /** 0 for SPDK's default. */
  connectTimeoutMs: number;
  /** 0: commands never time out. */
  commandTimeoutMs: number;
  headerDigest: boolean;
  dataDigest: boolean;
}

export interface NativeTransportId {
  trtype: string;
  adrfam?: string;
  traddr?: string;
  trsvcid?: string;
  subnqn?: string;
}

export interface NativeNvmeNamespace {
  id: number;
  numSectors: number;
  sectorSize: number;
  extendedSectorSize: number;
  metadataSize: number;
  extendedLba: boolean;
  protectionInfoType: number;
  maxTransferSize: number;
  optimalIoBoundary: number;
  supportsCompare: boolean;
  uuid: string | null;
  nguid: string | null;
  eui64: string | null;
}

/** The `kind` argument of NativeNvmeQpair.io (enum IoKind in native/nvme/nvme_qpair.cc). */
export const NativeIoKind = { Read: 0, Write: 1, Compare: 2, WriteZeroes: 3, Flush: 5 } as const;
export type NativeIoKind = (typeof NativeIoKind)[keyof typeof NativeIoKind];

export interface NativeNvmeQpair {
  readonly id: number;
  readonly depth: number;
  io<T extends Uint8Array>(kind: NativeIoKind, nsid: number, lba: number, count: number, buffer?: T): Promise<T | undefined>;
  /** `ranges`: 16 bytes per range, as struct spdk_nvme_dsm_range. */
  deallocate(nsid: number, ranges: Uint8Array): Promise<void>;
  /** A device for an I/O ring (native/nvme/nvme_ring.cc): reads, writes and compares on namespace `nsid`. */
  ringDevice(nsid: number, blockSize: number): unknown;
  free(): Promise<void>;
}

export interface NativeNvmeController {
  readonly transportId: NativeTransportId;
  readonly identifyData: Buffer;
  readonly maxTransferSize: number;
  readonly maxQueueDepth: number;
  readonly fabrics: boolean;
  namespaces(): NativeNvmeNamespace[];
  allocIoQpair(depth: number, requests: number): Promise<NativeNvmeQpair>;
  /** `command`: the 64-byte submission queue entry. */
  adminRaw(operation: string, command: Uint8Array, buffer?: Uint8Array): Promise<{ cdw0: number; cdw1: number }>;
  getLogPage<T extends Uint8Array>(operation: string, lid: number, nsid: number, offset: number, buffer: T): Promise<T>;
  detach(): Promise<void>;
}

export interface NativeNvme {
  nvmeConnect(trid: string, options: NativeNvmeConnectOptions): Promise<NativeNvmeController>;
  nvmeProbe(trid: string, options: NativeNvmeConnectOptions): Promise<NativeNvmeController[]>;
  /** Probes without attaching: SPDK's probe callback answers false. This process's own controllers are added with `heldBy`. */
  nvmeList(trid: string, options: NativeNvmeConnectOptions): Promise<Array<{ traddr: string; heldBy: string | null }>>;
  nvmeTransportAvailable(trtype: string): boolean;
}
