// Which user-space driver to hand NVMe devices to, and loading it. The choice follows SPDK's
// scripts/setup.sh (configure_linux_pci): vfio-pci when an IOMMU isolates the device's DMA;
// without one, vfio-pci if its no-IOMMU mode is already on, else uio_pci_generic, else vfio-pci
// in no-IOMMU mode. Each choice comes with the reason, which the CLI prints.
import { join } from 'node:path';
import { SpdkError } from '../errors';
import { exists, listDir, readText, under, type DeviceHost } from './host';

/** The user-space drivers `bindDevices()` can bind to. */
export type UserSpaceDriver = 'vfio-pci' | 'uio_pci_generic';
export const USER_SPACE_DRIVER_NAMES: readonly UserSpaceDriver[] = ['vfio-pci', 'uio_pci_generic'];

export interface DriverChoice {
  driver: UserSpaceDriver;
  /** vfio-pci without an IOMMU (enable_unsafe_noiommu_mode): no DMA isolation; needs root to run SPDK. */
  noIommu: boolean;
  /** Why this driver, for people. */
  reason: string;
}

const NOIOMMU_PARAMETER = '/sys/module/vfio/parameters/enable_unsafe_noiommu_mode';
const INSTALL_MODULES = 'install the kernel\'s extra modules (Debian/Ubuntu: apt install linux-modules-extra-$(uname -r); Fedora/RHEL: dnf install kernel-modules-extra)';

/** Is vfio's no-IOMMU mode on? */
export function noIommuModeOn(host: DeviceHost): boolean {
  const value = readText(under(host, NOIOMMU_PARAMETER));
  return value === 'Y' || value === '1';
}

/**
 * Does the machine have an IOMMU translating DMA? IOMMU units in /sys/class/iommu, or IOMMU
 * groups that are not vfio's no-IOMMU stand-ins (which appear in /sys/kernel/iommu_groups too).
 */
export function iommuPresent(host: DeviceHost): boolean {
  if (listDir(under(host, '/sys/class/iommu')).length > 0) return true;
  return listDir(under(host, '/sys/kernel/iommu_groups')).length > 0 && !noIommuModeOn(host);
}

/** Is a kernel driver loaded (its sysfs directory exists) or loadable? */
export function driverAvailable(host: DeviceHost, driver: string): boolean {
  const module = driver.replace(/-/g, '_');
  return exists(join(under(host, '/sys/bus/pci/drivers'), driver)) || exists(join(under(host, '/sys/module'), module)) || host.moduleInstalled(module);
}

/** Picks the driver (or checks the one asked for) and says why. Throws SpdkError ENOENT when none is available. */
export function chooseDriver(host: DeviceHost, requested: UserSpaceDriver | undefined, operation: string): DriverChoice {
  const iommu = iommuPresent(host);
  if (requested === 'vfio-pci') {
    if (!driverAvailable(host, 'vfio-pci')) throw missing(operation, 'vfio-pci');
    return iommu
      ? { driver: 'vfio-pci', noIommu: false, reason: 'vfio-pci as asked; the IOMMU isolates the device\'s DMA' }
      : { driver: 'vfio-pci', noIommu: true, reason: 'vfio-pci as asked; there is no IOMMU, so in vfio\'s no-IOMMU mode (enable_unsafe_noiommu_mode): no DMA isolation, it taints the kernel, and SPDK must run as root' };
  }
  if (requested === 'uio_pci_generic') {
    if (!driverAvailable(host, 'uio_pci_generic')) throw missing(operation, 'uio_pci_generic');
    return {
      driver: 'uio_pci_generic', noIommu: false,
      reason: iommu
        ? 'uio_pci_generic as asked; note that an IOMMU is on, and uio devices can only do DMA with it in passthrough mode (iommu=pt); vfio-pci is the safer choice here'
        : 'uio_pci_generic as asked (no DMA isolation; SPDK must run as root)',
    };
  }
  if (iommu) {
    if (driverAvailable(host, 'vfio-pci')) return { driver: 'vfio-pci', noIommu: false, reason: 'vfio-pci: an IOMMU is on, so vfio-pci isolates the device\'s DMA (and lets a non-root user run SPDK)' };
    throw missing(operation, 'vfio-pci', 'an IOMMU is on, and vfio-pci is the driver for it');
  }
  if (noIommuModeOn(host) && driverAvailable(host, 'vfio-pci')) {
    return { driver: 'vfio-pci', noIommu: true, reason: 'vfio-pci in no-IOMMU mode: there is no IOMMU, and vfio\'s no-IOMMU mode is already on (as SPDK\'s setup.sh does then); SPDK must run as root' };
  }
  if (driverAvailable(host, 'uio_pci_generic')) {
    return { driver: 'uio_pci_generic', noIommu: false, reason: 'uio_pci_generic: there is no IOMMU, so vfio-pci could only run in its unsafe no-IOMMU mode (as SPDK\'s setup.sh chooses; --driver vfio-pci for that mode); SPDK must run as root' };
  }
  if (driverAvailable(host, 'vfio-pci')) {
    return { driver: 'vfio-pci', noIommu: true, reason: 'vfio-pci in no-IOMMU mode: there is no IOMMU and uio_pci_generic is not installed; no DMA isolation, it taints the kernel, and SPDK must run as root' };
  }
  throw missing(operation, 'vfio-pci or uio_pci_generic');
}

function missing(operation: string, driver: string, why?: string): SpdkError {
  return new SpdkError(`the ${driver} kernel module is not available${why ? ` (${why})` : ''}: ${INSTALL_MODULES}`, { operation, errno: 2 /* ENOENT */ });
}

function modprobe(host: DeviceHost, module: string, params: readonly string[], operation: string): void {
  try {
    host.modprobe(module, params);
  } catch (error) {
    throw new SpdkError(`modprobe ${[module, ...params].join(' ')} failed: ${error instanceof Error ? error.message : String(error)}`, {
      operation, errno: 2, cause: error,
    });
  }
}

/** Loads the chosen driver (and turns vfio's no-IOMMU mode on when chosen). */
export async function loadDriver(host: DeviceHost, choice: DriverChoice, operation: string, write: (path: string, value: string) => Promise<void>): Promise<void> {
  if (choice.driver === 'vfio-pci') {
    if (choice.noIommu && !noIommuModeOn(host)) {
      // A module parameter given to modprobe is ignored when the module is already loaded: set it in sysfs then.
      if (exists(under(host, '/sys/module/vfio'))) {
        if (!exists(under(host, NOIOMMU_PARAMETER))) {
          throw new SpdkError('this kernel\'s vfio has no no-IOMMU mode (CONFIG_VFIO_NOIOMMU is off): use --driver uio_pci_generic, or enable an IOMMU (intel_iommu=on / amd_iommu=on)', { operation, errno: 95 /* EOPNOTSUPP */ });
        }
        await write(NOIOMMU_PARAMETER, 'Y');
      } else {
        modprobe(host, 'vfio', ['enable_unsafe_noiommu_mode=1'], operation);
      }
      if (!noIommuModeOn(host)) {
        throw new SpdkError('could not turn on vfio\'s no-IOMMU mode (enable_unsafe_noiommu_mode): the kernel may lack CONFIG_VFIO_NOIOMMU; use --driver uio_pci_generic', { operation, errno: 95 });
      }
    } else if (!choice.noIommu && host.moduleInstalled('vfio_iommu_type1')) {
      // Some distributions do not load it with vfio-pci (SPDK issue #1689).
      modprobe(host, 'vfio_iommu_type1', [], operation);
    }
  }
  loadKernelDriver(host, choice.driver, operation);
}

/** Makes sure a PCI driver is registered (loading its module), or throws SpdkError ENOENT. */
export function loadKernelDriver(host: DeviceHost, driver: string, operation: string): void {
  if (!exists(join(under(host, '/sys/bus/pci/drivers'), driver))) modprobe(host, driver, [], operation);
  if (!exists(join(under(host, '/sys/bus/pci/drivers'), driver))) {
    throw new SpdkError(`the ${driver} driver did not register after modprobe ${driver}`, { operation, errno: 2 });
  }
}
