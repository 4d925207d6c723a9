// Is there data on a block device? SPDK's setup.sh asks blkid whether a disk that nothing mounts or
// holds carries a partition table or a filesystem, and leaves it alone if so. This reads the same
// few on-disk signatures itself (no blkid, so that it works on any root, the fake one included).
import { closeSync, openSync, readSync } from 'node:fs';

/** Bytes read from the start of a device: enough for btrfs's superblock at 64 KiB. */
const PROBE_BYTES = 69 * 1024;

function ascii(buf: Buffer, offset: number, text: string): boolean {
  return buf.length >= offset + text.length && buf.toString('latin1', offset, offset + text.length) === text;
}

/** What a device's first bytes say it holds (`'GPT partition table'`, `'ext4 filesystem'`...), or null. */
export function identifySignature(buf: Buffer): string | null {
  if (ascii(buf, 512, 'EFI PART') || ascii(buf, 4096, 'EFI PART')) return 'GPT partition table';
  if (ascii(buf, 0, 'LUKS\xba\xbe')) return 'LUKS encrypted volume';
  if (ascii(buf, 0, 'XFSB')) return 'XFS filesystem';
  if (buf.length >= 1082 && buf.readUInt16LE(1080) === 0xef53) return 'ext2/3/4 filesystem';
  if (ascii(buf, 65600, '_BHRfS_M')) return 'btrfs filesystem';
  for (let sector = 0; sector < 4; sector++) {
    if (ascii(buf, sector * 512, 'LABELONE') && ascii(buf, sector * 512 + 24, 'LVM2 001')) return 'LVM physical volume';
  }
  for (const offset of [0, 4096]) {
    if (buf.length >= offset + 4 && buf.readUInt32LE(offset) === 0xa92b4efc) return 'Linux RAID (md) member';
  }
  for (const pageSize of [4096, 8192, 16384, 65536]) {
    if (ascii(buf, pageSize - 10, 'SWAPSPACE2') || ascii(buf, pageSize - 10, 'SWAP-SPACE')) return 'Linux swap area';
  }
  if (ascii(buf, 3, 'NTFS    ')) return 'NTFS filesystem';
  if (ascii(buf, 54, 'FAT1') || ascii(buf, 82, 'FAT32   ')) return 'FAT filesystem';
  if (buf.length >= 512 && buf[510] === 0x55 && buf[511] === 0xaa) {
    for (let entry = 0; entry < 4; entry++) {
      if (buf[446 + entry * 16 + 4] !== 0) return 'MBR partition table';
    }
  }
  return null;
}

export interface SignatureProbe {
  /** What was found, or null for nothing recognised (or unreadable). */
  found: string | null;
  /** Why the device could not be read (`'EACCES'`...), or null when it was. */
  error: string | null;
}

/** Reads the start of `path` (a block device) and identifies what it holds. */
export function probeSignature(path: string): SignatureProbe {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return { found: null, error: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  try {
    const buf = Buffer.alloc(PROBE_BYTES);
    let length = 0;
    while (length < PROBE_BYTES) {
      const n = readSync(fd, buf, length, PROBE_BYTES - length, length);
      if (n === 0) break;
      length += n;
    }
    return { found: identifySignature(buf.subarray(0, length)), error: null };
  } catch (error) {
    return { found: null, error: (error as NodeJS.ErrnoException).code ?? String(error) };
  } finally {
    closeSync(fd);
  }
}
