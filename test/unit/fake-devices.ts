// A fake machine for the device functions (src/devices): a temporary directory holding the parts
// of /sys, /proc and /dev they read, and a DeviceHost whose writes behave as the kernel's do
// (unbind, driver_override + drivers_probe, vfio's no-IOMMU parameter), recorded for assertions.
// The emulation is deliberately literal: a driver binds only if it is loaded, vfio-pci refuses a
// device without an IOMMU group unless no-IOMMU mode is on, modprobe ignores parameters of an
// already-loaded module, and a non-root fake refuses every write with EACCES.
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceHost, HostUser } from '../../src/devices/host';
import { afterEach } from 'vitest';
import { tempDir } from './fake-spdk';

export interface FakeNamespace {
  /** Bytes at the start of the namespace (its /dev node's contents); default zeros. */
  contents?: Buffer;
  /** Partitions (each's contents: its first bytes). */
  partitions?: Array<{ contents?: Buffer }>;
}

export interface FakeNvmeOptions {
  model?: string;
  serial?: string;
  firmware?: string;
  vendor?: string;
  device?: string;
  /** Driver at creation; default 'nvme'. */
  driver?: string | null;
  numaNode?: number;
  /** IOMMU group (with an IOMMU); default: one per device when the machine has an IOMMU. */
  iommuGroup?: number | null;
  namespaces?: FakeNamespace[];
}

interface Device {
  address: string;
  opts: FakeNvmeOptions;
  /** Kernel name while bound to nvme. */
  ctrl: number | null;
}

export interface FakeMachineOptions {
  /** An IOMMU (DMAR units, groups). Default false. */
  iommu?: boolean;
  /** Kernel modules that modprobe can load. Default: nvme, vfio, vfio-pci, uio_pci_generic. */
  modules?: string[];
  /** Kernel built with CONFIG_VFIO_NOIOMMU. Default true. */
  noIommuSupport?: boolean;
  /** Loaded at start (their /sys/bus/pci/drivers directories exist). Default ['nvme']. */
  loaded?: string[];
  /** Every write fails with EACCES, as for a user without root. */
  readOnly?: boolean;
  /** The state the kernel's nvme controllers reach (/sys/class/nvme/nvmeN/state). Default 'live'. */
  nvmeState?: string;
  /** Drivers whose probe fails (the device stays without a driver), as a driver rejecting a device would. */
  failingDrivers?: string[];
  users?: HostUser[];
}

const SECTOR = 4096;

/** A GPT header at LBA 1 (512-byte sectors): what blkid and our signature check see. */
export function gptDisk(): Buffer {
  const b = Buffer.alloc(69 * 1024);
  b.write('EFI PART', 512, 'latin1');
  b[510] = 0x55;
  b[511] = 0xaa;
  b[446 + 4] = 0xee;
  return b;
}

export function ext4Volume(): Buffer {
  const b = Buffer.alloc(69 * 1024);
  b.writeUInt16LE(0xef53, 1080);
  return b;
}

export class FakeMachine implements DeviceHost {
  readonly root = tempDir('spdk-node-devices-');
  readonly writes: Array<{ path: string; value: string }> = [];
  readonly modprobes: string[] = [];
  readonly chowns: Array<{ path: string; uid: number; gid: number }> = [];
  readonly options: Required<Omit<FakeMachineOptions, 'users'>> & { users: HostUser[] };
  readonly #devices = new Map<string, Device>();
  #nextGroup = 0;
  #mountinfo: string[] = [];
  #swaps: string[] = ['Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority'];

  constructor(options: FakeMachineOptions = {}) {
    this.options = {
      iommu: options.iommu ?? false,
      modules: options.modules ?? ['nvme', 'vfio', 'vfio-pci', 'uio_pci_generic'],
      noIommuSupport: options.noIommuSupport ?? true,
      loaded: options.loaded ?? ['nvme'],
      readOnly: options.readOnly ?? false,
      failingDrivers: options.failingDrivers ?? [],
      nvmeState: options.nvmeState ?? 'live',
      users: options.users ?? [{ name: 'alice', uid: 1000, gid: 1000 }],
    };
    for (const dir of ['sys/bus/pci/devices', 'sys/bus/pci/drivers', 'sys/class/nvme', 'sys/block', 'sys/kernel/iommu_groups', 'sys/module', 'proc/self', 'dev', 'etc']) {
      mkdirSync(this.path(dir), { recursive: true });
    }
    if (this.options.iommu) mkdirSync(this.path('sys/class/iommu/dmar0'), { recursive: true });
    writeFileSync(this.path('sys/bus/pci/drivers_probe'), '');
    for (const module of this.options.loaded) this.load(module, []);
    writeFileSync(this.path('etc/passwd'), this.options.users.map((u) => `${u.name}:x:${u.uid}:${u.gid}::/home/${u.name}:/bin/sh`).join('\n') + '\n');
    this.#flushProc();
    // The root filesystem is on a virtio disk unless a test mounts an NVMe namespace at /.
  }

  /** The fake path of an absolute machine path ('sys/block' or '/sys/block'). */
  path(p: string): string {
    return join(this.root, p.replace(/^\//, ''));
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  /** A PCI function of any class (e.g. a network card: '0x020000'). */
  addPciDevice(address: string, pciClass: string, driver: string | null = null): void {
    const dir = this.path(`sys/bus/pci/devices/${address}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'class'), `${pciClass}\n`);
    writeFileSync(join(dir, 'vendor'), '0x8086\n');
    writeFileSync(join(dir, 'device'), '0x100e\n');
    writeFileSync(join(dir, 'numa_node'), '-1\n');
    writeFileSync(join(dir, 'driver_override'), '(null)\n');
    if (driver !== null) {
      this.load(driver, []);
      this.#link(address, driver);
    }
  }

  /** An NVMe controller; bound to its initial driver as the kernel would have done at boot. */
  addNvme(address: string, opts: FakeNvmeOptions = {}): void {
    const pciClass = '0x010802';
    const dir = this.path(`sys/bus/pci/devices/${address}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'class'), `${pciClass}\n`);
    writeFileSync(join(dir, 'vendor'), `${opts.vendor ?? '0x1b36'}\n`);
    writeFileSync(join(dir, 'device'), `${opts.device ?? '0x0010'}\n`);
    writeFileSync(join(dir, 'subsystem_vendor'), '0x1af4\n');
    writeFileSync(join(dir, 'subsystem_device'), '0x1100\n');
    writeFileSync(join(dir, 'numa_node'), `${opts.numaNode ?? -1}\n`);
    writeFileSync(join(dir, 'driver_override'), '(null)\n');
    const group = opts.iommuGroup !== undefined ? opts.iommuGroup : this.options.iommu ? this.#nextGroup++ : null;
    if (group !== null) this.#joinGroup(address, group);
    this.#devices.set(address, { address, opts, ctrl: null });
    const driver = opts.driver === undefined ? 'nvme' : opts.driver;
    if (driver !== null) {
      this.load(driver, []);
      this.#bind(address, driver);
    }
  }

  /** The kernel name a controller has now ('nvme0'), or null. */
  kernelName(address: string): string | null {
    const d = this.#devices.get(address);
    return d?.ctrl === null || d === undefined ? null : `nvme${d.ctrl}`;
  }

  /** The driver bound now, as sysfs says. */
  driverOf(address: string): string | null {
    const link = this.path(`sys/bus/pci/devices/${address}/driver`);
    try {
      return readlinkSync(link).split('/').pop();
    } catch {
      return null;
    }
  }

  mount(device: string, mountPoint: string, fsType = 'ext4', majorMinor?: string): void {
    const dev = majorMinor ?? this.#devNumber(device) ?? '0:99';
    this.#mountinfo.push(`${30 + this.#mountinfo.length} 1 ${dev} / ${mountPoint.replace(/ /g, '\\040')} rw,relatime shared:1 - ${fsType} /dev/${device} rw`);
    this.#flushProc();
  }

  swap(device: string): void {
    this.#swaps.push(`/dev/${device}                               partition\t8388604\t\t0\t\t-2`);
    this.#flushProc();
  }

  /** A device-mapper (or md) device on top of `lower` (a disk or partition name). */
  holder(lower: string, holder: string, dm?: { name: string; uuid: string }): void {
    const lowerDir = this.#blockDir(lower);
    mkdirSync(join(lowerDir, 'holders'), { recursive: true });
    const holderDir = this.path(`sys/block/${holder}`);
    mkdirSync(join(holderDir, 'slaves'), { recursive: true });
    symlinkSync(lowerDir, join(holderDir, 'slaves', lower));
    symlinkSync(holderDir, join(lowerDir, 'holders', holder));
    writeFileSync(join(holderDir, 'dev'), `253:${holder.replace(/\D/g, '') || '0'}\n`);
    if (dm) {
      mkdirSync(join(holderDir, 'dm'));
      writeFileSync(join(holderDir, 'dm', 'name'), `${dm.name}\n`);
      writeFileSync(join(holderDir, 'dm', 'uuid'), `${dm.uuid}\n`);
    }
  }

  /** Process `pid` (`command`) holds /dev/`device` open. */
  open(pid: number, command: string, device: string): void {
    const fd = this.path(`proc/${pid}/fd`);
    mkdirSync(fd, { recursive: true });
    writeFileSync(this.path(`proc/${pid}/comm`), `${command}\n`);
    symlinkSync(`/dev/${device}`, join(fd, String(3 + readdirSync(fd).length)));
  }

  // ---- DeviceHost -----------------------------------------------------------------------

  write(path: string, value: string): void {
    const rel = path.slice(this.root.length);
    if (this.options.readOnly) throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
    this.writes.push({ path: rel, value });
    const text = value.trim();
    let m: RegExpExecArray | null;
    if ((m = /^\/sys\/bus\/pci\/drivers\/([^/]+)\/unbind$/.exec(rel))) {
      if (this.driverOf(text) !== m[1]) throw Object.assign(new Error('ENODEV: no such device'), { code: 'ENODEV' });
      this.#unbind(text);
    } else if ((m = /^\/sys\/bus\/pci\/devices\/([^/]+)\/driver_override$/.exec(rel))) {
      writeFileSync(path, text === '' ? '(null)\n' : `${text}\n`);
    } else if (rel === '/sys/bus/pci/drivers_probe') {
      if (!this.#devices.has(text) && !existsSync(this.path(`sys/bus/pci/devices/${text}`))) throw Object.assign(new Error('ENODEV'), { code: 'ENODEV' });
      if (this.driverOf(text) !== null) return;
      const override = readFileSync(this.path(`sys/bus/pci/devices/${text}/driver_override`), 'utf8').trim();
      const driver = override === '(null)' ? 'nvme' : override;
      if (existsSync(this.path(`sys/bus/pci/drivers/${driver}`)) && !this.options.failingDrivers.includes(driver)) this.#bind(text, driver);
    } else if (rel === '/sys/module/vfio/parameters/enable_unsafe_noiommu_mode') {
      if (!existsSync(path)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      writeFileSync(path, /^[Y1]/.test(text) ? 'Y\n' : 'N\n');
    } else {
      if (!existsSync(path)) throw Object.assign(new Error(`ENOENT: ${rel}`), { code: 'ENOENT' });
      writeFileSync(path, value);
    }
  }

  modprobe(module: string, params: readonly string[]): void {
    this.modprobes.push([module, ...params].join(' '));
    if (this.options.readOnly) throw new Error('modprobe: ERROR: could not insert module: Operation not permitted');
    if (!this.options.modules.includes(module)) throw new Error(`modprobe: FATAL: Module ${module} not found in directory /lib/modules/6.1.0-fake`);
    this.load(module, params);
  }

  moduleInstalled(module: string): boolean {
    return this.options.modules.includes(module) || this.options.modules.includes(module.replace(/_/g, '-'));
  }

  chown(path: string, uid: number, gid: number): void {
    if (this.options.readOnly) throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
    this.chowns.push({ path: path.slice(this.root.length), uid, gid });
  }

  lookupUser(name: string): HostUser | undefined {
    return this.options.users.find((u) => u.name === name || String(u.uid) === name);
  }

  sleep(): Promise<void> {
    return Promise.resolve();
  }

  // ---- the kernel ---------------------------------------------------------------------------

  /** Loads a module as modprobe would (parameters only count on first load). */
  load(module: string, params: readonly string[]): void {
    if (module === 'vfio' || module === 'vfio-pci') {
      const vfio = this.path('sys/module/vfio');
      if (!existsSync(vfio)) {
        mkdirSync(join(vfio, 'parameters'), { recursive: true });
        const on = module === 'vfio' && params.includes('enable_unsafe_noiommu_mode=1');
        if (this.options.noIommuSupport) writeFileSync(join(vfio, 'parameters', 'enable_unsafe_noiommu_mode'), on ? 'Y\n' : 'N\n');
        mkdirSync(this.path('dev/vfio'), { recursive: true });
        writeFileSync(this.path('dev/vfio/vfio'), '');
      }
      if (module === 'vfio') return;
    }
    if (module === 'vfio_iommu_type1') return;
    mkdirSync(this.path(`sys/module/${module.replace(/-/g, '_')}`), { recursive: true });
    const driver = this.path(`sys/bus/pci/drivers/${module}`);
    if (!existsSync(driver)) {
      mkdirSync(driver, { recursive: true });
      writeFileSync(join(driver, 'unbind'), '');
      writeFileSync(join(driver, 'bind'), '');
      writeFileSync(join(driver, 'new_id'), '');
    }
  }

  #joinGroup(address: string, group: number): void {
    const groupDir = this.path(`sys/kernel/iommu_groups/${group}`);
    mkdirSync(join(groupDir, 'devices'), { recursive: true });
    symlinkSync(this.path(`sys/bus/pci/devices/${address}`), join(groupDir, 'devices', address));
    symlinkSync(groupDir, this.path(`sys/bus/pci/devices/${address}/iommu_group`));
  }

  #link(address: string, driver: string): void {
    symlinkSync(this.path(`sys/bus/pci/drivers/${driver}`), this.path(`sys/bus/pci/devices/${address}/driver`));
    symlinkSync(this.path(`sys/bus/pci/devices/${address}`), this.path(`sys/bus/pci/drivers/${driver}/${address}`));
  }

  #group(address: string): string | null {
    try {
      return readlinkSync(this.path(`sys/bus/pci/devices/${address}/iommu_group`)).split('/').pop();
    } catch {
      return null;
    }
  }

  #bind(address: string, driver: string): void {
    const device = this.#devices.get(address);
    if (driver === 'vfio-pci') {
      let group = this.#group(address);
      const param = this.path('sys/module/vfio/parameters/enable_unsafe_noiommu_mode');
      const noIommu = existsSync(param) && readFileSync(param, 'utf8').trim() === 'Y';
      let node = group;
      if (group === null) {
        if (!noIommu) return; // vfio-pci: probe of ... failed with error -22
        group = String(this.#nextGroup++);
        this.#joinGroup(address, Number(group));
        node = `noiommu-${group}`;
      }
      this.#link(address, driver);
      writeFileSync(this.path(`dev/vfio/${node}`), '');
      return;
    }
    this.#link(address, driver);
    if (driver === 'uio_pci_generic') {
      const n = readdirSync(this.path('sys/bus/pci/drivers/uio_pci_generic')).filter((e: string) => /^\d/.test(e)).length - 1;
      mkdirSync(this.path(`sys/bus/pci/devices/${address}/uio/uio${n}`), { recursive: true });
      writeFileSync(this.path(`dev/uio${n}`), '');
      return;
    }
    if (driver !== 'nvme' || device === undefined) return;
    let ctrl = 0;
    while (existsSync(this.path(`sys/class/nvme/nvme${ctrl}`))) ctrl++;
    device.ctrl = ctrl;
    const name = `nvme${ctrl}`;
    const nqn = `nqn.2019-08.org.qemu:${device.opts.serial ?? address}`;
    const cls = this.path(`sys/class/nvme/${name}`);
    mkdirSync(cls, { recursive: true });
    writeFileSync(join(cls, 'address'), `${address}\n`);
    writeFileSync(join(cls, 'model'), `${(device.opts.model ?? 'QEMU NVMe Ctrl').padEnd(40)}\n`);
    writeFileSync(join(cls, 'serial'), `${(device.opts.serial ?? 'deadbeef').padEnd(20)}\n`);
    writeFileSync(join(cls, 'firmware_rev'), `${(device.opts.firmware ?? '8.0.0').padEnd(8)}\n`);
    writeFileSync(join(cls, 'subsysnqn'), `${nqn}\n`);
    writeFileSync(join(cls, 'state'), `${this.options.nvmeState}\n`);
    mkdirSync(this.path(`sys/bus/pci/devices/${address}/nvme/${name}`), { recursive: true });
    (device.opts.namespaces ?? [{}]).forEach((ns, i) => {
      const disk = `${name}n${i + 1}`;
      const blk = this.path(`sys/block/${disk}`);
      mkdirSync(join(blk, 'device'), { recursive: true });
      mkdirSync(join(blk, 'holders'), { recursive: true });
      writeFileSync(join(blk, 'device', 'subsysnqn'), `${nqn}\n`);
      writeFileSync(join(blk, 'dev'), `259:${ctrl * 16 + i * 8}\n`);
      writeFileSync(join(blk, 'hidden'), '0\n');
      writeFileSync(this.path(`dev/${disk}`), ns.contents ?? Buffer.alloc(SECTOR * 17));
      (ns.partitions ?? []).forEach((part, p) => {
        const pname = `${disk}p${p + 1}`;
        mkdirSync(join(blk, pname, 'holders'), { recursive: true });
        writeFileSync(join(blk, pname, 'partition'), `${p + 1}\n`);
        writeFileSync(join(blk, pname, 'dev'), `259:${ctrl * 16 + i * 8 + p + 1}\n`);
        writeFileSync(this.path(`dev/${pname}`), part.contents ?? Buffer.alloc(SECTOR * 17));
      });
    });
  }

  #unbind(address: string): void {
    const driver = this.driverOf(address);
    rmSync(this.path(`sys/bus/pci/devices/${address}/driver`), { force: true });
    if (driver !== null) rmSync(this.path(`sys/bus/pci/drivers/${driver}/${address}`), { force: true });
    const device = this.#devices.get(address);
    if (driver === 'nvme' && device?.ctrl !== null && device !== undefined) {
      const name = `nvme${device.ctrl}`;
      rmSync(this.path(`sys/class/nvme/${name}`), { recursive: true, force: true });
      rmSync(this.path(`sys/bus/pci/devices/${address}/nvme`), { recursive: true, force: true });
      for (const entry of readdirSync(this.path('sys/block')) as string[]) {
        if (entry.startsWith(`${name}n`)) rmSync(this.path(`sys/block/${entry}`), { recursive: true, force: true });
      }
      for (const entry of readdirSync(this.path('dev')) as string[]) {
        if (entry.startsWith(`${name}n`)) rmSync(this.path(`dev/${entry}`), { force: true });
      }
      device.ctrl = null;
    }
    if (driver === 'vfio-pci') {
      const group = this.#group(address);
      rmSync(this.path(`dev/vfio/${group}`), { force: true });
      rmSync(this.path(`dev/vfio/noiommu-${group}`), { force: true });
    }
    if (driver === 'uio_pci_generic') {
      for (const uio of readdirSync(this.path(`sys/bus/pci/devices/${address}/uio`)) as string[]) rmSync(this.path(`dev/${uio}`), { force: true });
      rmSync(this.path(`sys/bus/pci/devices/${address}/uio`), { recursive: true, force: true });
    }
  }

  #blockDir(name: string): string {
    const disk = /^(nvme\d+n\d+)p\d+$/.exec(name)?.[1];
    return disk ? this.path(`sys/block/${disk}/${name}`) : this.path(`sys/block/${name}`);
  }

  #devNumber(name: string): string | null {
    try {
      return readFileSync(join(this.#blockDir(name), 'dev'), 'utf8').trim();
    } catch {
      return null;
    }
  }

  #flushProc(): void {
    const root = '22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw';
    writeFileSync(this.path('proc/self/mountinfo'), [root, ...this.#mountinfo].join('\n') + '\n');
    writeFileSync(this.path('proc/swaps'), this.#swaps.join('\n') + '\n');
  }
}

/** For a test file: a FakeMachine factory whose machines are all cleaned up after each test. */
export function fakeMachines(): (...args: ConstructorParameters<typeof FakeMachine>) => FakeMachine {
  const made: FakeMachine[] = [];
  afterEach(() => {
    for (const m of made.splice(0)) m.cleanup();
  });
  return (...args) => {
    const m = new FakeMachine(...args);
    made.push(m);
    return m;
  };
}
