// Is an NVMe controller's storage in use? Decided the way SPDK's scripts/setup.sh decides before
// it takes a device from the kernel (get_used_bdf_block_devs in setup.sh, get_block_dev_from_nvme
// and block_in_use in common.sh): the controller's block devices and their partitions are looked
// up in sysfs, then each is checked for mounts (/proc/self/mountinfo), swap (/proc/swaps), holders
// (/sys/block/*/holders: LVM, dm-crypt, md RAID, multipath) and open file descriptors
// (/proc/*/fd), and finally, if nothing uses it actively, for data on it (a partition table or a
// filesystem signature). Active uses are never overridden; data is, with `allowData`.
import { basename, join } from 'node:path';
import { exists, isDirectory, linkTarget, listDir, readText, tryListDir, under, type DeviceHost } from './host';
import { probeSignature } from './signatures';

/**
 * How a block device is used. `mount`, `swap`, `holder` and `open` are active uses: taking the
 * device would pull storage from under a running system, so bind always refuses them. `data`
 * (a partition table or filesystem on a device nothing uses) is refused unless `allowData`.
 */
export type DeviceUseKind = 'mount' | 'swap' | 'holder' | 'open' | 'data';

export interface DeviceUse {
  kind: DeviceUseKind;
  /** The block device concerned (`'nvme0n1'`, `'nvme0n1p2'`), or under a user-space driver its device node below /dev (`'vfio/12'`, `'uio0'`). */
  blockDevice: string;
  /** For people: `'mounted at / (ext4)'`, `'held by dm-0 (LVM vg0-root, mounted at /)'`, `'open by pid 812 (postgres)'`. */
  detail: string;
}

/** Is this use active (never overridable), rather than data at rest? */
export function isActiveUse(use: DeviceUse): boolean {
  return use.kind !== 'data';
}

interface Mount {
  mountPoint: string;
  fsType: string;
}

/** What the whole system uses, read once for all devices. */
export interface UsageSnapshot {
  /** By `major:minor` and by source device name. */
  mountsByDev: Map<string, Mount[]>;
  mountsByName: Map<string, Mount[]>;
  /** Device names (`nvme0n1p2`, `dm-1`) used for swap. */
  swaps: Set<string>;
  /** Device name -> processes that hold it open. */
  openers: Map<string, Array<{ pid: number; command: string }>>;
  /** What could not be checked, e.g. other users' processes without root. */
  unchecked: string[];
}

function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Reads mounts, swaps and open block devices of the whole system. */
export function takeUsageSnapshot(host: DeviceHost): UsageSnapshot {
  const mountsByDev = new Map<string, Mount[]>();
  const mountsByName = new Map<string, Mount[]>();
  // mountinfo: id parent major:minor root mount-point options [optional...] - fstype source super-options
  for (const line of (readText(under(host, '/proc/self/mountinfo')) ?? '').split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (fields.length < 5 || dash < 0) continue;
    const mount = { mountPoint: unescapeMount(fields[4]!), fsType: fields[dash + 1] ?? '?' };
    push(mountsByDev, fields[2]!, mount);
    const source = fields[dash + 2];
    if (source?.startsWith('/dev/')) push(mountsByName, basename(unescapeMount(source)), mount);
  }
  const swaps = new Set<string>();
  for (const line of (readText(under(host, '/proc/swaps')) ?? '').split('\n').slice(1)) {
    const file = line.split(/\s+/)[0];
    if (file?.startsWith('/dev/')) swaps.add(basename(unescapeMount(file)));
  }
  const openers = new Map<string, Array<{ pid: number; command: string }>>();
  const unchecked: string[] = [];
  let denied = 0;
  const proc = under(host, '/proc');
  for (const pid of listDir(proc)) {
    if (!/^\d+$/.test(pid)) continue;
    const fdDir = join(proc, pid, 'fd');
    const fds = tryListDir(fdDir);
    if (fds === null) {
      if (exists(fdDir)) denied++;
      continue;
    }
    for (const fd of fds) {
      const target = linkTarget(join(fdDir, fd));
      if (target === null || !target.startsWith('/dev/')) continue;
      const name = target.slice('/dev/'.length);
      const command = readText(join(proc, pid, 'comm')) ?? '?';
      const list = openers.get(name) ?? [];
      if (!list.some((o) => o.pid === Number(pid))) list.push({ pid: Number(pid), command });
      openers.set(name, list);
    }
  }
  if (denied > 0) unchecked.push(`open files of ${denied} process(es) this user may not inspect (run as root to check them)`);
  return { mountsByDev, mountsByName, swaps, openers, unchecked };
}

/**
 * The block devices of the controller at `address` (bound to the kernel's nvme driver), as
 * setup.sh finds them: namespaces of the controller's subsystem (by subsysnqn, so that native
 * NVMe multipath heads count), hidden per-path devices skipped; and any other block device whose
 * sysfs device path runs through the PCI function.
 */
export function blockDevicesOf(host: DeviceHost, address: string, controllers: readonly string[]): string[] {
  const sysBlock = under(host, '/sys/block');
  const found = new Set<string>();
  for (const block of listDir(sysBlock)) {
    if (block.startsWith('nvme')) continue;
    const target = linkTarget(join(sysBlock, block));
    if (target?.includes(`/${address}/`)) found.add(block);
  }
  const nqns = new Set<string>();
  for (const ctrlr of controllers) {
    const nqn = readText(join(under(host, '/sys/class/nvme'), ctrlr, 'subsysnqn'));
    if (nqn) nqns.add(nqn);
  }
  for (const block of listDir(sysBlock)) {
    if (!block.startsWith('nvme')) continue;
    if (readText(join(sysBlock, block, 'hidden')) === '1') continue;
    const nqn = readText(join(sysBlock, block, 'device', 'subsysnqn'));
    if (nqn !== null && nqns.has(nqn)) found.add(block);
  }
  return [...found].sort();
}

/** The partitions of a disk (`nvme0n1` -> `['nvme0n1p1', ...]`). */
export function partitionsOf(host: DeviceHost, disk: string): string[] {
  const dir = join(under(host, '/sys/block'), disk);
  return listDir(dir).filter((entry) => isDirectory(join(dir, entry)) && exists(join(dir, entry, 'partition')));
}

function sysfsDir(host: DeviceHost, name: string, disk: string): string {
  return name === disk ? join(under(host, '/sys/block'), disk) : join(under(host, '/sys/block'), disk, name);
}

/** 'dm-0' -> 'dm-0 (LVM vg0-root)', 'md0' -> 'md0 (RAID raid1)'. */
function describeHolder(host: DeviceHost, holder: string): string {
  const dir = join(under(host, '/sys/block'), holder);
  const dmName = readText(join(dir, 'dm', 'name'));
  if (dmName !== null) {
    const uuid = readText(join(dir, 'dm', 'uuid')) ?? '';
    const kind = uuid.startsWith('LVM-') ? 'LVM' : uuid.startsWith('CRYPT-') ? 'dm-crypt' : uuid.startsWith('mpath-') ? 'multipath' : 'device-mapper';
    return `${holder} (${kind} ${dmName})`;
  }
  const level = readText(join(dir, 'md', 'level'));
  if (level !== null) return `${holder} (md RAID ${level})`;
  return holder;
}

function mountsOf(host: DeviceHost, snapshot: UsageSnapshot, name: string, dir: string): Mount[] {
  const dev = readText(join(dir, 'dev'));
  const mounts = [...(dev !== null ? snapshot.mountsByDev.get(dev) ?? [] : []), ...(snapshot.mountsByName.get(name) ?? [])];
  const byPoint = new Map<string, Mount>();
  for (const m of mounts) if (!byPoint.has(m.mountPoint)) byPoint.set(m.mountPoint, m);
  return [...byPoint.values()];
}

/** How a holder (dm, md) is itself used, for the message: ', mounted at /'. */
function holderUse(host: DeviceHost, snapshot: UsageSnapshot, holder: string, depth = 0): string {
  const dir = join(under(host, '/sys/block'), holder);
  const mounts = mountsOf(host, snapshot, holder, dir);
  if (mounts.length > 0) return `, mounted at ${mounts.map((m) => m.mountPoint).join(', ')}`;
  if (snapshot.swaps.has(holder)) return ', used as swap';
  if (depth < 4) {
    for (const next of listDir(join(dir, 'holders'))) {
      const use = holderUse(host, snapshot, next, depth + 1);
      if (use !== '') return `, under ${describeHolder(host, next)}${use}`;
    }
  }
  return '';
}

export interface UsageReport {
  uses: DeviceUse[];
  /** What could not be checked for these devices. */
  unchecked: string[];
}

/** Every use of `disks` (whole block devices) and their partitions. */
export function usesOf(host: DeviceHost, snapshot: UsageSnapshot, disks: readonly string[]): UsageReport {
  const uses: DeviceUse[] = [];
  const unchecked: string[] = [];
  for (const disk of disks) {
    const active: DeviceUse[] = [];
    const partitions = partitionsOf(host, disk);
    for (const name of [disk, ...partitions]) {
      const dir = sysfsDir(host, name, disk);
      for (const m of mountsOf(host, snapshot, name, dir)) active.push({ kind: 'mount', blockDevice: name, detail: `mounted at ${m.mountPoint} (${m.fsType})` });
      if (snapshot.swaps.has(name)) active.push({ kind: 'swap', blockDevice: name, detail: 'used as swap' });
      for (const holder of listDir(join(dir, 'holders'))) {
        active.push({ kind: 'holder', blockDevice: name, detail: `held by ${describeHolder(host, holder)}${holderUse(host, snapshot, holder)}` });
      }
      for (const o of snapshot.openers.get(name) ?? []) active.push({ kind: 'open', blockDevice: name, detail: `open by pid ${o.pid} (${o.command})` });
    }
    uses.push(...active);
    if (active.length > 0) continue;
    // Nothing uses it now: is there data on it? (setup.sh: block_in_use, with blkid.)
    const probe = probeSignature(join(under(host, '/dev'), disk));
    if (probe.error !== null) unchecked.push(`contents of ${disk} (${probe.error})`);
    const described = partitions.map((p) => {
      const found = probeSignature(join(under(host, '/dev'), p)).found;
      return found ? `${p}: ${found}` : p;
    });
    if (partitions.length > 0) {
      uses.push({ kind: 'data', blockDevice: disk, detail: `${probe.found ?? 'partition table'} with ${described.join(', ')}` });
    } else if (probe.found !== null) {
      uses.push({ kind: 'data', blockDevice: disk, detail: probe.found });
    }
  }
  return { uses, unchecked };
}
