// The NVMe controllers on this machine's PCI bus, whatever driver has them, read from sysfs: the
// listing behind `spdk-node devices`, `listDevices()` and the doctor. It attaches nothing.
import { join } from 'node:path';
import { exists, linkName, listDir, readText, under, type DeviceHost } from './host';
import { checkHost, checkOptions } from './options';
import { blockDevicesOf, takeUsageSnapshot, usesOf, type DeviceUse, type UsageSnapshot } from './usage';

/** PCI class code of an NVM Express controller (mass storage, NVM, NVMe programming interface). */
export const NVME_PCI_CLASS = '0x010802';

/** Drivers through which SPDK can drive a PCI device from user space. */
export const USER_SPACE_DRIVERS: readonly string[] = ['vfio-pci', 'uio_pci_generic', 'igb_uio'];

/** One NVMe controller (PCI function) on this machine. */
export interface NvmeDevice {
  /** PCI address, e.g. `'0000:01:00.0'`: SPDK's `traddr` for `trtype: 'PCIe'`. */
  address: string;
  /** PCI vendor and device id, e.g. `'0x144d'`, `'0xa808'`. */
  vendorId: string;
  deviceId: string;
  /** PCI subsystem vendor and device id (which product the controller is part of). */
  subsystemVendorId: string | null;
  subsystemDeviceId: string | null;
  /** The kernel driver bound to it: `'nvme'`, `'vfio-pci'`, `'uio_pci_generic'`, or null for none. */
  driver: string | null;
  /** True when the driver is one SPDK can use (vfio-pci, uio_pci_generic, igb_uio). */
  userSpace: boolean;
  /** NUMA node of the device, or null when the machine does not say (one node). */
  numaNode: number | null;
  /** IOMMU group, or null without an IOMMU (and without vfio's no-IOMMU mode). */
  iommuGroup: number | null;
  /** The kernel's name for the controller (`'nvme0'`) while the nvme driver has it. */
  kernelName: string | null;
  /** Model, serial number and firmware revision, as the kernel's nvme driver reports them; null under other drivers. */
  model: string | null;
  serial: string | null;
  firmware: string | null;
  /** The controller's block devices (`'nvme0n1'`...) while the nvme driver has it. */
  blockDevices: string[];
  /**
   * How those block devices are used; empty when they are free. See DeviceUse. Under a
   * user-space driver: the programs (a running SPDK) that hold its device node open.
   */
  inUse: DeviceUse[];
  /** What could not be checked (not root: other users' open files, device contents). */
  unchecked: string[];
}

export interface DeviceOptions {
  /** The machine to look at; default the real one. Tests pass a fake (see DeviceHost). */
  host?: DeviceHost;
}

function hexAttribute(dir: string, name: string): string | null {
  const text = readText(join(dir, name));
  return text === null ? null : text.toLowerCase();
}

function numberOrNull(text: string | null): number | null {
  if (text === null || !/^-?\d+$/.test(text)) return null;
  const n = Number(text);
  return n < 0 ? null : n;
}

/** Programs holding a device through its user-space driver's node (/dev/vfio/N, /dev/uioN): a running SPDK. */
function userSpaceUses(host: DeviceHost, snapshot: UsageSnapshot, address: string, driver: string, group: number | null): DeviceUse[] {
  const nodes = driver === 'vfio-pci' && group !== null ? [`vfio/${group}`, `vfio/noiommu-${group}`] : [];
  // vfio's per-device character device (iommufd era): /dev/vfio/devices/vfioN.
  for (const cdev of listDir(join(under(host, '/sys/bus/pci/devices'), address, 'vfio-dev'))) nodes.push(`vfio/devices/${cdev}`);
  nodes.push(...listDir(join(under(host, '/sys/bus/pci/devices'), address, 'uio')));
  return nodes.flatMap((node) => (snapshot.openers.get(node) ?? []).map((o) => ({ kind: 'open' as const, blockDevice: node, detail: `open by pid ${o.pid} (${o.command})` })));
}

/** The PCI addresses of every NVMe controller on the bus, sorted. */
export function nvmeAddresses(host: DeviceHost): string[] {
  const devices = under(host, '/sys/bus/pci/devices');
  return listDir(devices).filter((a) => readText(join(devices, a, 'class'))?.toLowerCase() === NVME_PCI_CLASS);
}

/** Reads one PCI function; undefined when there is no device at that address. */
export function readDevice(host: DeviceHost, address: string, snapshot: UsageSnapshot = takeUsageSnapshot(host)): NvmeDevice | undefined {
  const dir = join(under(host, '/sys/bus/pci/devices'), address);
  if (!exists(dir)) return undefined;
  const driver = linkName(join(dir, 'driver'));
  const kernelNames = driver === 'nvme' ? listDir(join(dir, 'nvme')).filter((n) => /^nvme\d+$/.test(n)) : [];
  const kernelName = kernelNames[0] ?? null;
  const classDir = kernelName === null ? null : join(under(host, '/sys/class/nvme'), kernelName);
  const attribute = (name: string): string | null => (classDir === null ? null : readText(join(classDir, name)) || null);
  const blockDevices = driver === 'nvme' ? blockDevicesOf(host, address, kernelNames) : [];
  const usage = usesOf(host, snapshot, blockDevices);
  const iommuGroup = numberOrNull(linkName(join(dir, 'iommu_group')));
  const userSpace = driver !== null && USER_SPACE_DRIVERS.includes(driver);
  if (userSpace) usage.uses.push(...userSpaceUses(host, snapshot, address, driver, iommuGroup));
  return {
    address,
    vendorId: hexAttribute(dir, 'vendor') ?? '?',
    deviceId: hexAttribute(dir, 'device') ?? '?',
    subsystemVendorId: hexAttribute(dir, 'subsystem_vendor'),
    subsystemDeviceId: hexAttribute(dir, 'subsystem_device'),
    driver,
    userSpace,
    numaNode: numberOrNull(readText(join(dir, 'numa_node'))),
    iommuGroup,
    kernelName,
    model: attribute('model'),
    serial: attribute('serial'),
    firmware: attribute('firmware_rev'),
    blockDevices,
    inUse: usage.uses,
    unchecked: blockDevices.length > 0 ? [...snapshot.unchecked, ...usage.unchecked] : [],
  };
}

/**
 * The NVMe controllers on this machine's PCI bus (PCI class 0x010802), with their driver, NUMA
 * node, IOMMU group, identity (while the kernel's nvme driver has them) and whether their storage
 * is in use, decided as SPDK's scripts/setup.sh decides. Reads sysfs and procfs only: attaches
 * nothing, needs no SPDK and no root (without root, other users' open files and the devices'
 * contents cannot be checked; `unchecked` says so).
 */
export function listDevices(options?: DeviceOptions): NvmeDevice[] {
  const host = checkHost('devices.list', checkOptions('devices.list', options, ['host']).host);
  const snapshot = takeUsageSnapshot(host);
  return nvmeAddresses(host).flatMap((address) => readDevice(host, address, snapshot) ?? []);
}
