// The Identify Controller data structure (CNS 01h), decoded from its 4096 bytes. Field names are
// the specification's abbreviations (NVMe Base Specification 2.0, "Identify Controller Data
// Structure"), as SPDK's struct spdk_nvme_ctrlr_data names them.

export interface NvmeVersion {
  major: number;
  minor: number;
  tertiary: number;
}

/** Optional NVM commands the controller supports (ONCS). */
export interface NvmeOptionalCommands {
  compare: boolean;
  writeUncorrectable: boolean;
  /** Dataset Management (deallocate). */
  datasetManagement: boolean;
  writeZeroes: boolean;
  saveSelect: boolean;
  reservations: boolean;
  timestamp: boolean;
  verify: boolean;
  copy: boolean;
}

export interface NvmeControllerData {
  /** PCI vendor ID. */
  vid: number;
  /** PCI subsystem vendor ID. */
  ssvid: number;
  /** Serial number. */
  sn: string;
  /** Model number. */
  mn: string;
  /** Firmware revision. */
  fr: string;
  /** Recommended arbitration burst. */
  rab: number;
  /** IEEE OUI identifier. */
  ieee: number;
  /** Controller multi-path I/O and namespace sharing capabilities. */
  cmic: number;
  /** Maximum data transfer size, as a power of two of the minimum page size (0: no limit). */
  mdts: number;
  /** Controller ID. */
  cntlid: number;
  /** NVMe version the controller complies with. */
  ver: NvmeVersion;
  /** RTD3 resume / entry latency, microseconds. */
  rtd3r: number;
  rtd3e: number;
  /** Optional asynchronous events supported. */
  oaes: number;
  /** Controller attributes. */
  ctratt: number;
  /** Controller type: 1 I/O, 2 discovery, 3 administrative (0: not reported). */
  cntrltype: number;
  /** FRU globally unique identifier (hex), or null when zero. */
  fguid: string | null;
  /** Optional admin command support. */
  oacs: number;
  /** Abort command limit (0's based). */
  acl: number;
  /** Asynchronous event request limit (0's based). */
  aerl: number;
  /** Firmware updates. */
  frmw: number;
  /** Log page attributes. */
  lpa: number;
  /** Error log page entries (0's based). */
  elpe: number;
  /** Number of power states supported (0's based). */
  npss: number;
  /** Warning / critical composite temperature thresholds, kelvin. */
  wctemp: number;
  cctemp: number;
  /** Total / unallocated NVM capacity, bytes. */
  tnvmcap: bigint;
  unvmcap: bigint;
  /** Keep alive support: granularity in units of 100 ms (0: not supported). */
  kas: number;
  /** Submission / completion queue entry sizes: low nibble required, high nibble maximum (log2 bytes). */
  sqes: number;
  cqes: number;
  /** Maximum outstanding commands (fabrics). */
  maxcmd: number;
  /** Number of namespaces (the highest namespace ID). */
  nn: number;
  /** Optional NVM command support, raw. */
  oncs: number;
  /** ONCS decoded. */
  optionalCommands: NvmeOptionalCommands;
  /** Fused operation support. */
  fuses: number;
  /** Format NVM attributes. */
  fna: number;
  /** Volatile write cache: bit 0 set if present. */
  vwc: number;
  /** Atomic write unit normal / power fail (0's based blocks). */
  awun: number;
  awupf: number;
  /** SGL support. */
  sgls: number;
  /** Maximum number of allowed namespaces. */
  mnan: number;
  /** NVM subsystem NQN. */
  subnqn: string;
  /** Fabrics: I/O queue command capsule supported size (16-byte units). */
  ioccsz: number;
  /** Fabrics: I/O queue response capsule supported size (16-byte units). */
  iorcsz: number;
  /** Fabrics: in-capsule data offset (16-byte units). */
  icdoff: number;
  /** Fabrics: controller attributes. */
  fcatt: number;
  /** Fabrics: maximum SGL data block descriptors. */
  msdbd: number;
}

export const IDENTIFY_CONTROLLER_SIZE = 4096;

/** Text field: ASCII, padded with spaces (or NULs). */
function text(b: Buffer, offset: number, length: number): string {
  return b.toString('latin1', offset, offset + length).replace(/[\s\0]+$/, '');
}

function hexOrNull(b: Buffer, offset: number, length: number): string | null {
  const slice = b.subarray(offset, offset + length);
  return slice.some((x) => x !== 0) ? slice.toString('hex') : null;
}

function u128(b: Buffer, offset: number): bigint {
  return b.readBigUInt64LE(offset) + (b.readBigUInt64LE(offset + 8) << 64n);
}

/** Decodes Identify Controller data (at least 4096 bytes). */
export function decodeControllerData(b: Buffer): NvmeControllerData {
  if (b.length < IDENTIFY_CONTROLLER_SIZE) throw new RangeError(`identify controller data is ${IDENTIFY_CONTROLLER_SIZE} bytes, got ${b.length}`);
  const ver = b.readUInt32LE(80);
  const oncs = b.readUInt16LE(520);
  return {
    vid: b.readUInt16LE(0),
    ssvid: b.readUInt16LE(2),
    sn: text(b, 4, 20),
    mn: text(b, 24, 40),
    fr: text(b, 64, 8),
    rab: b.readUInt8(72),
    ieee: b.readUIntLE(73, 3),
    cmic: b.readUInt8(76),
    mdts: b.readUInt8(77),
    cntlid: b.readUInt16LE(78),
    ver: { major: ver >>> 16, minor: (ver >>> 8) & 0xff, tertiary: ver & 0xff },
    rtd3r: b.readUInt32LE(84),
    rtd3e: b.readUInt32LE(88),
    oaes: b.readUInt32LE(92),
    ctratt: b.readUInt32LE(96),
    cntrltype: b.readUInt8(111),
    fguid: hexOrNull(b, 112, 16),
    oacs: b.readUInt16LE(256),
    acl: b.readUInt8(258),
    aerl: b.readUInt8(259),
    frmw: b.readUInt8(260),
    lpa: b.readUInt8(261),
    elpe: b.readUInt8(262),
    npss: b.readUInt8(263),
    wctemp: b.readUInt16LE(266),
    cctemp: b.readUInt16LE(268),
    tnvmcap: u128(b, 280),
    unvmcap: u128(b, 296),
    kas: b.readUInt16LE(320),
    sqes: b.readUInt8(512),
    cqes: b.readUInt8(513),
    maxcmd: b.readUInt16LE(514),
    nn: b.readUInt32LE(516),
    oncs,
    optionalCommands: {
      compare: (oncs & 0x1) !== 0,
      writeUncorrectable: (oncs & 0x2) !== 0,
      datasetManagement: (oncs & 0x4) !== 0,
      writeZeroes: (oncs & 0x8) !== 0,
      saveSelect: (oncs & 0x10) !== 0,
      reservations: (oncs & 0x20) !== 0,
      timestamp: (oncs & 0x40) !== 0,
      verify: (oncs & 0x80) !== 0,
      copy: (oncs & 0x100) !== 0,
    },
    fuses: b.readUInt16LE(522),
    fna: b.readUInt8(524),
    vwc: b.readUInt8(525),
    awun: b.readUInt16LE(526),
    awupf: b.readUInt16LE(528),
    sgls: b.readUInt32LE(536),
    mnan: b.readUInt32LE(540),
    subnqn: text(b, 768, 256),
    ioccsz: b.readUInt32LE(1792),
    iorcsz: b.readUInt32LE(1796),
    icdoff: b.readUInt16LE(1800),
    fcatt: b.readUInt8(1802),
    msdbd: b.readUInt8(1803),
  };
}
