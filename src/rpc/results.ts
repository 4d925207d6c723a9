// Result types of the most used SPDK RPC methods, and RpcResult, which combines them with the types
// inferred from SPDK's documented examples (results.generated.ts). The ones here are written by hand
// from the JSON that SPDK v26.01 writes (the spdk_json_write_* calls of each RPC handler, named in
// each comment). Fields that SPDK writes only in some cases are optional; numbers are plain JSON
// numbers, so 64-bit counters above 2^53 lose precision when parsed.
import type { RpcMethodName } from './methods.generated';
import type { RpcDocumentedResultMap } from './results.generated';

/** QoS limits of a bdev; 0 means unlimited (lib/bdev/bdev.c qos_rpc_type). */
export interface BdevRateLimits {
  rw_ios_per_sec: number;
  rw_mbytes_per_sec: number;
  r_mbytes_per_sec: number;
  w_mbytes_per_sec: number;
}

/** Which I/O types a bdev supports, by SPDK's I/O type name (lib/bdev/bdev.c g_io_type_strings). */
export interface BdevSupportedIoTypes {
  read: boolean;
  write: boolean;
  unmap: boolean;
  flush: boolean;
  reset: boolean;
  nvme_admin: boolean;
  nvme_io: boolean;
  nvme_io_md: boolean;
  write_zeroes: boolean;
  zcopy: boolean;
  get_zone_info: boolean;
  zone_management: boolean;
  zone_append: boolean;
  compare: boolean;
  compare_and_write: boolean;
  abort: boolean;
  seek_hole: boolean;
  seek_data: boolean;
  copy: boolean;
  nvme_iov_md: boolean;
  nvme_nssr: boolean;
  write_uncorrectable: boolean;
  /** I/O types added after SPDK v26.01 appear here too. */
  [ioType: string]: boolean;
}

/** How a bdev is claimed by a module (spdk_bdev_claim_get_name). */
export type BdevClaimType = 'exclusive_write' | 'read_many_write_one' | 'read_many_write_none' | 'read_many_write_shared';

/** One block device, as listed by `bdev_get_bdevs` (lib/bdev/bdev_rpc.c rpc_dump_bdev_info). */
export interface BdevInfo {
  name: string;
  aliases: string[];
  product_name: string;
  block_size: number;
  num_blocks: number;
  preferred_write_alignment?: number;
  preferred_write_granularity?: number;
  optimal_write_size?: number;
  preferred_unmap_alignment?: number;
  preferred_unmap_granularity?: number;
  uuid: string;
  numa_id?: number;
  /** Present when the bdev has separate or interleaved metadata. */
  md_size?: number;
  md_interleave?: boolean;
  dif_type?: number;
  dif_is_head_of_md?: boolean;
  enabled_dif_check_types?: { reftag: boolean; apptag: boolean; guard: boolean };
  dif_pi_format?: number;
  assigned_rate_limits: BdevRateLimits;
  claimed: boolean;
  /** Present when `claimed` is true. */
  claim_type?: BdevClaimType;
  zoned: boolean;
  zone_size?: number;
  max_open_zones?: number;
  optimal_open_zones?: number;
  supported_io_types: BdevSupportedIoTypes;
  memory_domains?: { dma_device_id: string; dma_device_type: number }[];
  /** Module-specific details (e.g. `nvme`, `malloc`, `lvol`); shape depends on the bdev module. */
  driver_specific: Record<string, unknown>;
}

/** I/O counters of a bdev or of one of its channels (lib/bdev/bdev.c spdk_bdev_dump_io_stat_json). */
export interface BdevIoStatCounters {
  bytes_read: number;
  num_read_ops: number;
  bytes_written: number;
  num_write_ops: number;
  bytes_unmapped: number;
  num_unmap_ops: number;
  bytes_copied: number;
  num_copy_ops: number;
  read_latency_ticks: number;
  max_read_latency_ticks: number;
  min_read_latency_ticks: number;
  write_latency_ticks: number;
  max_write_latency_ticks: number;
  min_write_latency_ticks: number;
  unmap_latency_ticks: number;
  max_unmap_latency_ticks: number;
  min_unmap_latency_ticks: number;
  copy_latency_ticks: number;
  max_copy_latency_ticks: number;
  min_copy_latency_ticks: number;
  /** Failed I/O counts by status name (e.g. `failed`, `nomem`); only non-zero ones are listed. */
  io_error?: Record<string, number>;
}

/** Statistics of one bdev in `bdev_get_iostat`. */
export interface BdevIoStat extends BdevIoStatCounters {
  name: string;
  /** The queue-depth fields are present only when queue-depth sampling is enabled on the bdev. */
  queue_depth_polling_period?: number;
  queue_depth?: number;
  io_time?: number;
  weighted_io_time?: number;
  driver_specific?: Record<string, unknown>;
}

/** Statistics of one channel of a bdev, from `bdev_get_iostat` with `per_channel: true`. */
export interface BdevChannelIoStat extends BdevIoStatCounters {
  thread_id: number;
}

/** `bdev_get_iostat` result (lib/bdev/bdev_rpc.c); tick values are in units of `tick_rate` per second. */
export type BdevIostatResult =
  | { tick_rate: number; ticks: number; bdevs: BdevIoStat[] }
  /** The shape returned with `per_channel: true` (one bdev only). */
  | { tick_rate: number; ticks: number; name: string; channels: BdevChannelIoStat[] };

/** A lightweight SPDK thread scheduled on a reactor. */
export interface ReactorThreadInfo {
  name: string;
  id: number;
  cpumask: string;
  /** Ticks since the thread was placed on this reactor. */
  elapsed: number;
}

/** One reactor (one per core) in `framework_get_reactors` (lib/event/app_rpc.c). */
export interface ReactorInfo {
  lcore: number;
  tid: number;
  busy: number;
  idle: number;
  in_interrupt: boolean;
  /** CPU time of the reactor's core from /proc, in clock ticks. */
  irq: number;
  sys: number;
  usr: number;
  /** Current core frequency in MHz; present when a governor is active. */
  core_freq?: number;
  lw_threads: ReactorThreadInfo[];
}

export interface FrameworkGetReactorsResult {
  tick_rate: number;
  pid: number;
  reactors: ReactorInfo[];
}

/** One SPDK thread in `thread_get_stats` (lib/event/app_rpc.c _rpc_thread_get_stats). */
export interface ThreadStats {
  name: string;
  id: number;
  cpumask: string;
  busy: number;
  idle: number;
  active_pollers_count: number;
  timed_pollers_count: number;
  paused_pollers_count: number;
}

export interface ThreadGetStatsResult {
  tick_rate: number;
  threads: ThreadStats[];
}

/** One poller (lib/event/app_rpc.c rpc_get_poller). */
export interface PollerInfo {
  name: string;
  id: number;
  state: 'waiting' | 'running' | 'unregistered' | 'pausing' | 'paused';
  run_count: number;
  busy_count: number;
  /** Present for timed pollers only. */
  period_ticks?: number;
}

export interface ThreadPollers {
  name: string;
  id: number;
  active_pollers: PollerInfo[];
  timed_pollers: PollerInfo[];
  paused_pollers: PollerInfo[];
}

export interface ThreadGetPollersResult {
  tick_rate: number;
  threads: ThreadPollers[];
}

/** A listener address of an NVMe-oF subsystem (lib/nvmf/transport.c nvmf_transport_listen_dump_trid). */
export interface NvmfListenAddressInfo {
  trtype: string;
  /** `'IPv4'`, `'IPv6'`, `'IB'`, `'FC'` or `'unknown'`. */
  adrfam: string;
  traddr: string;
  trsvcid: string;
}

export interface NvmfSubsystemHost {
  nqn: string;
  /** Key names (not key material), present when DH-HMAC-CHAP is configured. */
  dhchap_key?: string;
  dhchap_ctrlr_key?: string;
}

export interface NvmfSubsystemNamespace {
  nsid: number;
  bdev_name: string;
  /** Same as `bdev_name`; kept by SPDK for compatibility. */
  name: string;
  nguid?: string;
  eui64?: string;
  uuid?: string;
  anagrpid?: number;
}

/** One subsystem in `nvmf_get_subsystems` (lib/nvmf/nvmf_rpc.c dump_nvmf_subsystem). */
export interface NvmfSubsystemInfo {
  nqn: string;
  subtype: 'NVMe' | 'Discovery';
  listen_addresses: NvmfListenAddressInfo[];
  allow_any_host: boolean;
  hosts: NvmfSubsystemHost[];
  /** The fields below are present for NVMe subsystems only, not for the discovery subsystem. */
  serial_number?: string;
  model_number?: string;
  max_namespaces?: number;
  passthrough?: boolean;
  min_cntlid?: number;
  max_cntlid?: number;
  namespaces?: NvmfSubsystemNamespace[];
}

/** One transport in `nvmf_get_transports` (lib/nvmf/transport.c nvmf_transport_dump_opts). */
export interface NvmfTransportInfo {
  trtype: string;
  max_queue_depth: number;
  max_io_qpairs_per_ctrlr: number;
  in_capsule_data_size: number;
  max_io_size: number;
  io_unit_size: number;
  max_aq_depth: number;
  num_shared_buffers: number;
  buf_cache_size: number;
  dif_insert_or_strip: boolean;
  zcopy: boolean;
  abort_timeout_sec: number;
  ack_timeout: number;
  data_wr_pool_size: number;
  disable_command_passthru: boolean;
  kas: number;
  min_kato: number;
  /** Transport-specific options (e.g. TCP `c2h_success`, RDMA `max_srq_depth`). */
  [option: string]: unknown;
}

/** An NVMe transport ID (module/bdev/nvme/bdev_nvme.c nvme_bdev_dump_trid_json); empty fields are omitted. */
export interface NvmeTransportIdInfo {
  trtype?: string;
  adrfam?: string;
  traddr?: string;
  trsvcid?: string;
  subnqn?: string;
}

/** One path (controller) of an NVMe bdev controller (bdev_nvme.c nvme_ctrlr_info_json). */
export interface NvmeCtrlrInfo {
  state: 'deleting' | 'failed' | 'resetting' | 'reconnect_is_delayed' | 'disabled' | 'enabled';
  cuse_device?: string;
  trid: NvmeTransportIdInfo;
  alternate_trids?: NvmeTransportIdInfo[];
  cntlid: number;
  host: { nqn: string; addr: string; svcid: string };
  numa_id?: number;
}

/** One entry of `bdev_nvme_get_controllers`: a named controller with one or more paths. */
export interface NvmeControllerInfo {
  name: string;
  ctrlrs: NvmeCtrlrInfo[];
}

/** `spdk_get_version` result (lib/rpc/rpc.c). */
export interface SpdkVersionInfo {
  /** e.g. `'SPDK v26.01'`. */
  version: string;
  fields: { major: number; minor: number; patch: number; suffix: string; commit?: string };
}

/** One subsystem in `framework_get_subsystems` (lib/init/subsystem_rpc.c). */
export interface FrameworkSubsystemInfo {
  subsystem: string;
  depends_on: string[];
}

/** `env_dpdk_get_mem_stats` result: SPDK writes the statistics to a file and returns its path. */
export interface EnvDpdkMemStatsResult {
  filename: string;
}

/** One logical volume store (module/bdev/lvol/vbdev_lvol_rpc.c rpc_dump_lvol_store_info). */
export interface LvolStoreInfo {
  uuid: string;
  name: string;
  base_bdev: string;
  total_data_clusters: number;
  free_clusters: number;
  block_size: number;
  cluster_size: number;
  max_growable_size: number;
}

/**
 * Result types written by hand from SPDK's C code, more precise than the ones inferred from SPDK's
 * examples (optional fields, unions); they take precedence over RpcDocumentedResultMap.
 */
export interface RpcResultMap {
  bdev_get_bdevs: BdevInfo[];
  bdev_get_iostat: BdevIostatResult;
  /** The name of the new bdev. */
  bdev_malloc_create: string;
  bdev_malloc_delete: boolean;
  /** The name of the new bdev. */
  bdev_null_create: string;
  bdev_null_delete: boolean;
  /** The name of the new bdev. */
  bdev_aio_create: string;
  bdev_aio_delete: boolean;
  /** The names of the bdevs created for the controller's namespaces. */
  bdev_nvme_attach_controller: string[];
  bdev_nvme_get_controllers: NvmeControllerInfo[];
  bdev_lvol_get_lvstores: LvolStoreInfo[];
  env_dpdk_get_mem_stats: EnvDpdkMemStatsResult;
  framework_get_reactors: FrameworkGetReactorsResult;
  framework_get_subsystems: FrameworkSubsystemInfo[];
  nvmf_get_subsystems: NvmfSubsystemInfo[];
  nvmf_get_transports: NvmfTransportInfo[];
  rpc_get_methods: string[];
  spdk_get_version: SpdkVersionInfo;
  thread_get_pollers: ThreadGetPollersResult;
  thread_get_stats: ThreadGetStatsResult;
}

/**
 * The result type of a method: its hand-written entry in RpcResultMap, else the type inferred from
 * SPDK's documented example response (RpcDocumentedResultMap, generated), else `unknown`.
 */
export type RpcResult<M extends string> = M extends keyof RpcResultMap
  ? RpcResultMap[M]
  : M extends keyof RpcDocumentedResultMap
    ? RpcDocumentedResultMap[M]
    : unknown;

// Compile-time check that every key above is a method of the schema (catches typos and removals).
/** Compile-time check that every result type names a real method (part of the published types: RpcTypedResultMethod uses it). */
export type AssertKnownMethods<T extends RpcMethodName> = T;
export type RpcTypedResultMethod = AssertKnownMethods<keyof RpcResultMap>;
