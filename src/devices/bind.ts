// Handing NVMe controllers to a user-space driver and giving them back to the kernel's nvme
// driver, the way SPDK's scripts/setup.sh does it (probe_driver, linux_bind_driver): unbind from
// the current driver, set driver_override to the new one, write the address to drivers_probe,
// clear driver_override, and check that the new driver has the device. Nothing is changed unless
// every device asked for can be changed: a device in use is refused before any other is touched.
import { join } from 'node:path';
import { errnoValue, SpdkError } from '../errors';
import { packageRoot } from '../package-root';
import { probeHugepages } from '../doctor/hugepages';
import { canonicalPciAddress } from './address';
import { chooseDriver, loadDriver, loadKernelDriver, USER_SPACE_DRIVER_NAMES, type UserSpaceDriver } from './drivers';
import { exists, linkName, listDir, readText, under, type DeviceHost, type HostUser } from './host';
import { checkHost, checkOptions } from './options';
import { NVME_PCI_CLASS, nvmeAddresses, readDevice, USER_SPACE_DRIVERS, type DeviceOptions, type NvmeDevice } from './list';
import { blockDevicesOf, isActiveUse, takeUsageSnapshot, type UsageSnapshot } from './usage';

/** Which devices: one PCI address, several, or every NVMe controller on the machine. */
export type DeviceSelection = string | readonly string[] | { all: true };

export interface BindOptions extends DeviceOptions {
  /** The driver; default: chosen as SPDK's setup.sh chooses (see BindResult.reason). */
  driver?: UserSpaceDriver;
  /**
   * Give this user (name or uid) the vfio device nodes (/dev/vfio/N), so that SPDK can run as
   * that user (vfio-pci with an IOMMU only; the user also needs hugepages and a memlock limit).
   */
  user?: string;
  /**
   * Bind a device whose storage holds data (a partition table or a filesystem) that nothing
   * uses. Devices mounted, used as swap, held (LVM, md, dm-crypt) or open are never bound.
   */
  allowData?: boolean;
}

/** What happened to one device. */
export interface DeviceChange {
  address: string;
  /** The driver before (null: none). */
  from: string | null;
  /** The driver after (null: none). */
  to: string | null;
  /** `changed`; `unchanged` (it already had that driver); `skipped` (in use, with `{ all: true }`). */
  action: 'changed' | 'unchanged' | 'skipped';
  /** Why it was skipped; after an unbind, the kernel controller and block devices that came back (`'nvme1 with nvme1n1'`). */
  note: string | null;
  /** The vfio group's device node (`/dev/vfio/12`, `/dev/vfio/noiommu-0`) after a bind to vfio-pci. */
  deviceNode: string | null;
}

export interface BindResult {
  driver: UserSpaceDriver;
  /** vfio-pci in its no-IOMMU mode. */
  noIommu: boolean;
  /** Why this driver. */
  reason: string;
  devices: DeviceChange[];
  /** What to do next or to know: memlock limits, IOMMU group members, root. */
  advice: string[];
}

export interface UnbindResult {
  devices: DeviceChange[];
}

const BIND = 'devices.bind';
const UNBIND = 'devices.unbind';
const NODE_WAIT_MS = 3000;
const KERNEL_WAIT_MS = 10_000;

/** Checks a selection; returns canonical addresses, or 'all'. */
function checkSelection(operation: string, selection: unknown): string[] | 'all' {
  if (typeof selection === 'string') return [canonicalPciAddress(selection, operation)];
  if (Array.isArray(selection)) {
    if (selection.length === 0) throw new RangeError(`${operation}: no device given (pass PCI addresses, or { all: true })`);
    return [...new Set(selection.map((a: unknown) => canonicalPciAddress(a, operation)))];
  }
  if (selection !== null && typeof selection === 'object' && Object.keys(selection).length === 1 && (selection as { all?: unknown }).all === true) return 'all';
  throw new TypeError(`${operation}: devices must be a PCI address, an array of them, or { all: true }, got ${selection === null ? 'null' : typeof selection === 'object' ? JSON.stringify(selection) : typeof selection}`);
}

/** Reads the devices asked for: ENODEV for an address with no device or no NVMe controller. */
function resolve(host: DeviceHost, operation: string, selection: string[] | 'all', snapshot: UsageSnapshot): NvmeDevice[] {
  if (selection === 'all') return nvmeAddresses(host).flatMap((a) => readDevice(host, a, snapshot) ?? []);
  return selection.map((address) => {
    const cls = readText(join(under(host, '/sys/bus/pci/devices'), address, 'class'));
    if (cls === null) throw new SpdkError(`there is no PCI device at ${address} (\`spdk-node devices\` lists the NVMe controllers)`, { operation, errno: 19 /* ENODEV */ });
    if (cls.toLowerCase() !== NVME_PCI_CLASS) throw new SpdkError(`${address} is not an NVMe controller (PCI class ${cls}, NVMe is ${NVME_PCI_CLASS})`, { operation, errno: 19 });
    return readDevice(host, address, snapshot)!;
  });
}

/** Writes a sysfs attribute, turning a failure into an SpdkError with its errno. */
function writer(host: DeviceHost, operation: string): (path: string, value: string) => Promise<void> {
  return async (path, value) => {
    try {
      await host.write(under(host, path), value);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
      const needsRoot = code === 'EACCES' || code === 'EPERM';
      throw new SpdkError(`cannot write ${path}${needsRoot ? ': changing drivers needs root (run it with sudo)' : `: ${error instanceof Error ? error.message : String(error)}`}`, {
        operation, errno: errnoValue(code) ?? 5, cause: error,
      });
    }
  };
}

/**
 * A running SPDK (or any program) holds the device through its user-space driver: rebinding
 * would hang until it lets go. The reason, or null when nothing holds it.
 */
function heldThroughDriver(device: NvmeDevice): string | null {
  const holders = device.driver !== null && USER_SPACE_DRIVERS.includes(device.driver) ? device.inUse.filter((u) => u.kind === 'open') : [];
  if (holders.length === 0) return null;
  return `in use through ${device.driver}: ${holders.map((u) => `/dev/${u.blockDevice} ${u.detail}`).join('; ')}: stop that program (or detach the controller) first`;
}

/** Moves a device to `driver` (setup.sh's probe_driver). */
async function probeDriver(host: DeviceHost, write: (path: string, value: string) => Promise<void>, device: NvmeDevice, driver: string, operation: string): Promise<void> {
  const { address } = device;
  if (device.driver !== null) await write(`/sys/bus/pci/drivers/${device.driver}/unbind`, address);
  await write(`/sys/bus/pci/devices/${address}/driver_override`, driver);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await write('/sys/bus/pci/drivers_probe', address);
        break;
      } catch (error) {
        if (attempt >= 10) throw error;
        await host.sleep(500);
      }
    }
  } finally {
    await write(`/sys/bus/pci/devices/${address}/driver_override`, '\n');
  }
  if (!exists(join(under(host, '/sys/bus/pci/drivers'), driver, address))) {
    const now = linkName(join(under(host, '/sys/bus/pci/devices'), address, 'driver'));
    throw new SpdkError(`the kernel did not bind ${address} to ${driver} (it now has ${now ?? 'no driver'}); \`dmesg | tail\` says why`, { operation, errno: 5 /* EIO */ });
  }
}

async function waitFor(host: DeviceHost, path: string): Promise<boolean> {
  for (let waited = 0; ; waited += 50) {
    if (exists(path)) return true;
    if (waited >= NODE_WAIT_MS) return false;
    await host.sleep(50);
  }
}

/**
 * The kernel's nvme driver resets the controller and scans its namespaces after the bind returns:
 * wait (bounded) until the controller is live and its block devices are there, so that what the
 * caller does next (mount, list) finds them. Returns what came back, or what did not.
 */
async function awaitKernelController(host: DeviceHost, address: string): Promise<string> {
  const dir = join(under(host, '/sys/bus/pci/devices'), address, 'nvme');
  let name: string | undefined;
  let state: string | null = null;
  for (let waited = 0; waited <= KERNEL_WAIT_MS; waited += 100) {
    name = listDir(dir).find((n) => /^nvme\d+$/.test(n));
    state = name === undefined ? null : readText(join(under(host, '/sys/class/nvme'), name, 'state'));
    if (state === 'live') {
      const blocks = blockDevicesOf(host, address, [name!]);
      if (blocks.length > 0 || waited >= KERNEL_WAIT_MS) return `${name} with ${blocks.join(', ') || 'no namespaces'}`;
    }
    await host.sleep(100);
  }
  return name === undefined ? 'the kernel has not created its controller yet (`dmesg | tail`)' : `${name} is ${state ?? 'not live'} (\`dmesg | tail\`)`;
}

function memlockAdvice(host: DeviceHost, user: HostUser | undefined): string | null {
  if (user !== undefined) {
    return `${user.name} needs a memlock limit as large as the memory SPDK uses: check with \`sudo -u ${user.name} sh -c 'ulimit -l'\`; `
      + `raise it with a line '${user.name} - memlock unlimited' in /etc/security/limits.conf (or LimitMEMLOCK=infinity for a systemd service)`;
  }
  if ((process.getuid?.() ?? 0) === 0 || host.root !== '/') return null;
  const limits = readText('/proc/self/limits') ?? '';
  const m = /^Max locked memory\s+(\S+)/m.exec(limits);
  if (m === null || m[1] === 'unlimited') return null;
  return `this user's memlock limit is ${Math.round(Number(m[1]) / 2 ** 20)} MiB: vfio pins all of SPDK's memory; \`ulimit -l unlimited\` (as root) or raise it in /etc/security/limits.conf`;
}

/** Other devices of the IOMMU group that keep vfio from using it (setup.sh warns the same way). */
function groupAdvice(host: DeviceHost, address: string, group: number | null): string[] {
  if (group === null) return [];
  const dir = join(under(host, '/sys/kernel/iommu_groups'), String(group), 'devices');
  return listDir(dir).filter((other) => other !== address).flatMap((other) => {
    const driver = linkName(join(under(host, '/sys/bus/pci/devices'), other, 'driver'));
    if (driver === null || driver === 'vfio-pci' || driver === 'pcieport') return [];
    return [`${address} shares IOMMU group ${group} with ${other} (driver ${driver}): vfio can only use the group when every device in it is bound to vfio-pci or to no driver`];
  });
}

/**
 * Binds NVMe controllers to a user-space driver (vfio-pci or uio_pci_generic) so that SPDK can
 * drive them (`nvme.connect('trtype:PCIe traddr:ADDR')`, `bdev_nvme_attach_controller`).
 * Needs root. The driver is chosen as SPDK's setup.sh chooses, unless `driver` says; the result
 * says which and why. A device whose storage is in use (mounted, swap, LVM/md/dm holders, open)
 * is refused with EBUSY, naming the use; with `{ all: true }` it is skipped instead. Data at
 * rest (a partition table or filesystem nothing uses) is refused unless `allowData`.
 *
 * Errors: TypeError/RangeError for bad arguments; SpdkError ENODEV (no such device, or not NVMe),
 * EBUSY (in use), EACCES/EPERM (not root), ENOENT (driver module missing), EIO (the kernel did
 * not bind it).
 */
export async function bindDevices(selection: DeviceSelection, options?: BindOptions): Promise<BindResult> {
  const o = checkOptions(BIND, options, ['driver', 'user', 'allowData', 'host']);
  const chosen = checkSelection(BIND, selection);
  const requested = o.driver;
  if (requested !== undefined && (typeof requested !== 'string' || !(USER_SPACE_DRIVER_NAMES as readonly string[]).includes(requested))) {
    const message = `${BIND}: driver must be one of ${USER_SPACE_DRIVER_NAMES.join(', ')}, got ${JSON.stringify(requested)}`;
    throw typeof requested === 'string' ? new RangeError(message) : new TypeError(message);
  }
  if (o.user !== undefined && (typeof o.user !== 'string' || o.user === '')) throw new TypeError(`${BIND}: user must be a user name, got ${JSON.stringify(o.user)}`);
  if (o.allowData !== undefined && typeof o.allowData !== 'boolean') throw new TypeError(`${BIND}: allowData must be a boolean, got ${typeof o.allowData}`);
  const host = checkHost(BIND, o.host);
  const user = o.user === undefined ? undefined : host.lookupUser(o.user as string);
  if (o.user !== undefined && user === undefined) throw new RangeError(`${BIND}: there is no user '${String(o.user)}'`);

  const snapshot = takeUsageSnapshot(host);
  const devices = resolve(host, BIND, chosen, snapshot);
  if (devices.length === 0) throw new SpdkError('there are no NVMe controllers on this machine\'s PCI bus', { operation: BIND, errno: 19 });
  const choice = chooseDriver(host, requested as UserSpaceDriver | undefined, BIND);
  const changes: DeviceChange[] = [];
  const todo: NvmeDevice[] = [];
  for (const device of devices) {
    const change: DeviceChange = { address: device.address, from: device.driver, to: device.driver, action: 'unchanged', note: null, deviceNode: null };
    changes.push(change);
    if (device.driver === choice.driver) continue;
    const held = heldThroughDriver(device);
    if (held !== null) {
      if (chosen !== 'all') throw new SpdkError(`${device.address} is ${held}`, { operation: BIND, errno: 16 /* EBUSY */ });
      change.action = 'skipped';
      change.note = held;
      continue;
    }
    const active = device.inUse.filter(isActiveUse);
    const blocking = o.allowData === true ? active : device.inUse;
    if (blocking.length > 0) {
      const uses = blocking.map((u) => `${u.blockDevice} ${u.detail}`).join('; ');
      const hint = active.length > 0 ? 'it is never taken while in use' : 'pass allowData (--allow-data) to bind it anyway, losing nothing until something writes to it';
      if (chosen !== 'all') throw new SpdkError(`${device.address} is in use: ${uses} (${hint})`, { operation: BIND, errno: 16 /* EBUSY */ });
      change.action = 'skipped';
      change.note = `in use: ${uses}`;
      continue;
    }
    todo.push(device);
  }

  const write = writer(host, BIND);
  if (todo.length > 0) await loadDriver(host, choice, BIND, write);
  const advice: string[] = [];
  for (const device of todo) {
    await probeDriver(host, write, device, choice.driver, BIND);
    const change = changes.find((c) => c.address === device.address)!;
    change.to = choice.driver;
    change.action = 'changed';
  }
  for (const change of changes) {
    if (change.to !== 'vfio-pci') continue;
    const group = linkName(join(under(host, '/sys/bus/pci/devices'), change.address, 'iommu_group'));
    if (group === null) continue;
    const node = join('/dev/vfio', choice.noIommu ? `noiommu-${group}` : group);
    if (!(await waitFor(host, under(host, node)))) {
      advice.push(`${node} did not appear for ${change.address}: is udev running? (\`ls -l /dev/vfio\`)`);
      continue;
    }
    change.deviceNode = node;
    if (user !== undefined) {
      try {
        host.chown(under(host, node), user.uid, user.gid);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
        throw new SpdkError(`cannot give ${node} to ${user.name}: ${code === 'EPERM' || code === 'EACCES' ? 'that needs root (run it with sudo)' : String(error)}`, { operation: BIND, errno: errnoValue(code) ?? 5 });
      }
    }
    if (!choice.noIommu) advice.push(...groupAdvice(host, change.address, Number(group)));
  }
  if (choice.driver === 'vfio-pci' && !choice.noIommu) {
    const memlock = memlockAdvice(host, user);
    if (memlock !== null) advice.push(memlock);
  }
  if (user !== undefined && (choice.driver !== 'vfio-pci' || choice.noIommu)) {
    advice.push(`${user.name} cannot run SPDK on these devices without root: ${choice.driver === 'vfio-pci' ? 'vfio\'s no-IOMMU mode' : 'uio_pci_generic'} needs physical addresses, which only root (CAP_SYS_RAWIO) may read; an IOMMU with vfio-pci lets a user do it`);
  }
  if (changes.some((c) => c.action === 'changed') && (host.root !== '/' || !probeHugepages().enoughForSpdk)) {
    advice.push(`SPDK needs hugepages for PCIe devices: \`sudo ${join(packageRoot(), 'scripts', 'hugepages.sh')} 2048\` reserves 2 GiB`);
  }
  return { driver: choice.driver, noIommu: choice.noIommu, reason: choice.reason, devices: changes, advice };
}

/**
 * Gives NVMe controllers back to the kernel's nvme driver (their block devices reappear). Needs
 * root. With `{ all: true }`, every NVMe controller not bound to nvme. A device a running SPDK
 * (this process or another) holds is refused with EBUSY: detach it or stop that program first.
 */
export async function unbindDevices(selection: DeviceSelection, options?: DeviceOptions): Promise<UnbindResult> {
  const o = checkOptions(UNBIND, options, ['host']);
  const chosen = checkSelection(UNBIND, selection);
  const host = checkHost(UNBIND, o.host);
  const snapshot = takeUsageSnapshot(host);
  const devices = resolve(host, UNBIND, chosen, snapshot);
  const changes: DeviceChange[] = [];
  const todo: NvmeDevice[] = [];
  for (const device of devices) {
    const change: DeviceChange = { address: device.address, from: device.driver, to: device.driver, action: 'unchanged', note: null, deviceNode: null };
    changes.push(change);
    if (device.driver === 'nvme') continue;
    const held = heldThroughDriver(device);
    if (held !== null) {
      if (chosen !== 'all') throw new SpdkError(`${device.address} is ${held}`, { operation: UNBIND, errno: 16 /* EBUSY */ });
      change.action = 'skipped';
      change.note = held;
      continue;
    }
    todo.push(device);
  }
  const write = writer(host, UNBIND);
  if (todo.length > 0) loadKernelDriver(host, 'nvme', UNBIND);
  for (const device of todo) {
    await probeDriver(host, write, device, 'nvme', UNBIND);
    const change = changes.find((c) => c.address === device.address)!;
    change.to = 'nvme';
    change.action = 'changed';
  }
  for (const device of todo) {
    const change = changes.find((c) => c.address === device.address)!;
    change.note = await awaitKernelController(host, device.address);
  }
  return { devices: changes };
}
