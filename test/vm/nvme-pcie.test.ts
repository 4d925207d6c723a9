// SPDK's PCIe NVMe driver from Node, in a VM with emulated controllers and no IOMMU (as most cloud
// VMs): uio_pci_generic, 512-byte and 4 KiB LBA formats, through the NVMe API and through bdevs.
import { expect, it } from 'vitest';
import { CTRL_A, ROOT_DISK } from './layout';
import { bindInGuest, describeVm } from './support';

describeVm('NVMe over PCIe in a VM', (vm) => {
  it('reads back what it wrote on a 512-byte and a 4 KiB namespace (uio_pci_generic)', async () => {
    await bindInGuest(vm(), CTRL_A.pciAddress, 'uio_pci_generic');
    const r = await vm().node('nvme-io.js', { addr: CTRL_A.pciAddress });
    expect(r, JSON.stringify(r)).not.toHaveProperty('error');
    expect(r.serial).toBe(CTRL_A.serial);
    expect(r.model).toMatch(/QEMU NVMe/);
    expect(r.namespaces.map((n: any) => [n.nsid, n.sectorSize])).toEqual([[1, 512], [2, 4096]]);
    for (const ns of r.namespaces) {
      expect(ns.error).toBeUndefined();
      expect(ns.mismatches).toBe(0);
      expect(ns.plannedBlocks).toBeGreaterThan(2);
      expect(ns.verifiedBlocks).toBe(ns.plannedBlocks);
      expect(ns.pastEnd).toBe('GENERIC/LBA_OUT_OF_RANGE');
    }
  });

  it('reads back what it wrote through bdevs over PCIe, by Promise and by IoQueue', async () => {
    const r = await vm().node('bdev-io.js', { addr: CTRL_A.pciAddress, name: 'A' });
    expect(r, JSON.stringify(r)).not.toHaveProperty('error');
    expect(r.bdevs.map((b: any) => [b.name, b.blockSize])).toEqual([['An1', 512], ['An2', 4096]]);
    for (const b of r.bdevs) {
      expect(b.mismatches).toBe(0);
      expect(b.verified).toBe(8);
      expect(b.queueVerified).toBe(8);
    }
  });

  it('lists controllers without holding them, refuses a second handle with EBUSY naming the holder, and says how to bind a kernel-owned one', async () => {
    // CTRL_A is bound to uio_pci_generic by the first test; the root disk stays with the kernel.
    const r = await vm().node('nvme-holders.js', { addr: CTRL_A.pciAddress, kernelAddr: ROOT_DISK.pciAddress });
    expect(r, JSON.stringify(r)).not.toHaveProperty('error');
    expect(r.before).toContainEqual({ traddr: CTRL_A.pciAddress, heldBy: null });
    expect(r.before.map((e: any) => e.traddr)).not.toContain(ROOT_DISK.pciAddress);
    expect(r.probedSerial).toBe(CTRL_A.serial);
    expect(r.whileHeld.find((e: any) => e.traddr === CTRL_A.pciAddress)?.heldBy).toMatch(/probe/);
    expect(r.secondConnect).toMatchObject({ name: 'SpdkError', code: 'EBUSY' });
    expect(r.secondConnect.message).toMatch(/probe\(\)/);
    expect(r.reconnected).toBe(true);
    expect(r.kernelBound).toMatchObject({ name: 'SpdkError', code: 'ENODEV' });
    expect(r.kernelBound.message).toMatch(/devices bind/);
  });
});
