// checkPcieUsable(): what nvme.connect/probe/list say, before SPDK is asked, about a PCIe address
// SPDK cannot use.
import { describe, expect, it } from 'vitest';
import { checkPcieUsable } from '../../src/devices/usable';
import { SpdkError } from '../../src/errors';
import { fakeMachines, FakeMachine } from './fake-devices';

const fakeMachine = fakeMachines();
const machine = (): FakeMachine => fakeMachine({ iommu: true });

function failure(fn: () => void): SpdkError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SpdkError);
    return error as SpdkError;
  }
  throw new Error('did not throw');
}

describe('checkPcieUsable', () => {
  it('a controller the kernel nvme driver holds: ENODEV advising devices bind', () => {
    const m = machine();
    m.addNvme('0000:00:04.0');
    const e = failure(() => checkPcieUsable('0000:00:04.0', 'nvme.connect', m));
    expect(e.code).toBe('ENODEV');
    expect(e.operation).toBe('nvme.connect');
    expect(e.message).toMatch(/0000:00:04\.0 is bound to the kernel's nvme driver.*sudo spdk-node devices bind 0000:00:04\.0/);
  });

  it('a controller with no driver: ENODEV advising devices bind', () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { driver: null });
    expect(failure(() => checkPcieUsable('00:04.0', 'nvme.probe', m)).message).toMatch(/0000:00:04\.0 has no driver.*devices bind 0000:00:04\.0/);
  });

  it('a controller on vfio-pci or uio_pci_generic passes', () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { driver: 'vfio-pci' });
    m.addNvme('0000:00:05.0', { driver: 'uio_pci_generic' });
    expect(() => checkPcieUsable('0000:00:04.0', 'nvme.connect', m)).not.toThrow();
    expect(() => checkPcieUsable('0000:00:05.0', 'nvme.connect', m)).not.toThrow();
  });

  it('no device at the address, or not NVMe: ENODEV saying which', () => {
    const m = machine();
    m.addPciDevice('0000:00:03.0', '0x020000', 'e1000');
    expect(failure(() => checkPcieUsable('0000:00:09.0', 'nvme.connect', m)).message).toMatch(/no PCI device at 0000:00:09\.0/);
    expect(failure(() => checkPcieUsable('0000:00:03.0', 'nvme.connect', m)).message).toMatch(/not an NVMe controller \(PCI class 0x020000/);
  });
});
