/** An I/O type a bdev may support. */
export type BdevIoType =
  | 'read' | 'write' | 'unmap' | 'flush' | 'reset' | 'writeZeroes' | 'compare' | 'compareAndWrite'
  | 'nvmeAdmin' | 'nvmeIo' | 'zcopy' | 'abort' | 'copy';

/** What SPDK knows about a bdev (from `spdk.bdevs()`). */
export interface BdevInfo {
  name: string;
  productName: string;
  uuid: string;
  /** Logical block size in bytes. */
  blockSize: number;
  numBlocks: number;
  sizeBytes: number;
  /** Writes must be a multiple of this many blocks. */
  writeUnitSize: number;
  /** Buffer alignment SPDK needs for zero-copy I/O, in bytes (others are bounced). */
  bufAlign: number;
  /** Separate metadata bytes per block (0 when none). */
  mdSize: number;
  supportedIoTypes: BdevIoType[];
}
