// Can SPDK's PCIe driver use the controller at an address? Only if a user-space driver has it:
// asked before nvme.connect()/probe() reach SPDK, whose own answer for a device the kernel holds
// is an EIO that says nothing of why.
import { join } from 'node:path';
import { SpdkError } from '../errors';
import { canonicalPciAddress } from './address';
import { exists, linkName, readText, systemHost, under, type DeviceHost } from './host';
import { NVME_PCI_CLASS, USER_SPACE_DRIVERS } from './list';

/**
 * Throws SpdkError ENODEV, with what to do, unless the PCI function at `address` is an NVMe
 * controller bound to vfio-pci, uio_pci_generic or igb_uio. Says nothing where sysfs is not
 * there to ask (some containers): SPDK decides then.
 */
export function checkPcieUsable(address: string, operation: string, host: DeviceHost = systemHost()): void {
  const devices = under(host, '/sys/bus/pci/devices');
  if (!exists(devices)) return;
  const canonical = canonicalPciAddress(address, operation);
  const dir = join(devices, canonical);
  const cls = readText(join(dir, 'class'));
  if (cls === null) {
    throw new SpdkError(`there is no PCI device at ${canonical} (\`spdk-node devices\` lists the NVMe controllers)`, { operation, errno: 19 });
  }
  if (cls.toLowerCase() !== NVME_PCI_CLASS) {
    throw new SpdkError(`${canonical} is not an NVMe controller (PCI class ${cls}; \`spdk-node devices\` lists the NVMe controllers)`, { operation, errno: 19 });
  }
  const driver = linkName(join(dir, 'driver'));
  if (driver !== null && USER_SPACE_DRIVERS.includes(driver)) return;
  const held = driver === null ? 'has no driver' : `is bound to the kernel's ${driver} driver`;
  throw new SpdkError(`${canonical} ${held}, and SPDK can only use a device bound to a user-space driver (vfio-pci, uio_pci_generic): run \`sudo spdk-node devices bind ${canonical}\` (or bindDevices('${canonical}')), then try again`, {
    operation, errno: 19,
  });
}
