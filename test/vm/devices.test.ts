// Seeing and preparing local NVMe devices in a VM with real (emulated) PCI functions: the listing,
// bind's refusal of the mounted root disk, and a bind/unbind round trip through the CLI a user runs.
import { expect, it } from 'vitest';
import { CTRL_A, CTRL_B, CTRL_C, ROOT_DISK } from './layout';
import { describeVm, waitInGuest } from './support';
import type { Vm } from './vm';

const CLI = '/usr/local/bin/node /opt/spdk-node/lib/cli.js';

async function devices(vm: Vm): Promise<any[]> {
  return JSON.parse(await vm.sh(`${CLI} devices --json`));
}

function driverOf(list: any[], address: string): string | null {
  return list.find((d) => d.address === address)?.driver ?? null;
}

describeVm('spdk-node devices in a VM', (vm) => {
  it('lists every emulated controller with its model, serial and driver, and the root disk as in use', async () => {
    const list = await devices(vm());
    const byAddress = new Map(list.map((d) => [d.address, d]));
    for (const [address, serial] of [[ROOT_DISK.pciAddress, ROOT_DISK.serial], [CTRL_A.pciAddress, CTRL_A.serial], [CTRL_C.pciAddress, CTRL_C.serial], [CTRL_B.pciAddress, CTRL_B.serial]]) {
      const d = byAddress.get(address);
      expect(d, `${address} listed`).toBeDefined();
      expect(d.serial).toBe(serial);
      expect(d.model).toBe('QEMU NVMe Ctrl');
      expect(d.driver).toBe('nvme');
      expect(d.vendorId).toBe('0x1b36');
      expect(typeof d.iommuGroup).toBe('number'); // the VM has an IOMMU
    }
    const root = byAddress.get(ROOT_DISK.pciAddress);
    expect(root.inUse.length).toBeGreaterThan(0);
    expect(JSON.stringify(root.inUse)).toMatch(/mount/i);
    expect(byAddress.get(CTRL_A.pciAddress).inUse).toEqual([]);
    const table = await vm().sh(`${CLI} devices`);
    expect(table).toContain(CTRL_A.serial);
  });

  it('refuses to bind the mounted root disk, and leaves it with the kernel', async () => {
    const r = await vm().run(['/bin/sh', '-c', `${CLI} devices bind ${ROOT_DISK.pciAddress}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/mounted|in use/i);
    expect(driverOf(await devices(vm()), ROOT_DISK.pciAddress)).toBe('nvme');
    await vm().sh('touch /root/still-writable'); // the root filesystem is untouched
  });

  it('binds a controller to uio_pci_generic and gives it back to the kernel nvme driver', async () => {
    await vm().sh(`${CLI} devices bind ${CTRL_A.pciAddress} --driver uio_pci_generic`);
    expect(driverOf(await devices(vm()), CTRL_A.pciAddress)).toBe('uio_pci_generic');
    await vm().sh(`${CLI} devices unbind ${CTRL_A.pciAddress}`);
    const list = await devices(vm());
    const a = list.find((d) => d.address === CTRL_A.pciAddress);
    expect(a.driver).toBe('nvme');
    // Back with the kernel, which probes it asynchronously: its namespaces come back.
    await waitInGuest(vm(), `ls /sys/bus/pci/devices/${CTRL_A.pciAddress}/nvme/*/ | grep -q n1`, 30_000);
    expect((await devices(vm())).find((d) => d.address === CTRL_A.pciAddress).serial).toBe(CTRL_A.serial);
  });

  it('chooses vfio-pci where there is an IOMMU, and --all skips the root disk', async () => {
    const bound = JSON.parse(await vm().sh(`${CLI} devices bind --all --json`));
    expect(bound.driver).toBe('vfio-pci');
    expect(bound.noIommu).toBe(false);
    const byAddress = new Map(bound.devices.map((d: any) => [d.address, d]));
    expect((byAddress.get(ROOT_DISK.pciAddress) as any)?.action).toBe('skipped');
    const list = await devices(vm());
    for (const c of [CTRL_A, CTRL_B, CTRL_C]) expect(driverOf(list, c.pciAddress)).toBe('vfio-pci');
    expect(driverOf(list, ROOT_DISK.pciAddress)).toBe('nvme');
    // ... and SPDK can use one of them there.
    const r = await vm().node('nvme-io.js', { addr: CTRL_A.pciAddress, blocks: 8 });
    expect(r, JSON.stringify(r)).not.toHaveProperty('error');
    expect(r.namespaces.every((n: any) => n.mismatches === 0 && n.verifiedBlocks === n.plannedBlocks)).toBe(true);
    await vm().sh(`${CLI} devices unbind --all`);
    for (const c of [CTRL_A, CTRL_B, CTRL_C]) expect(driverOf(await devices(vm()), c.pciAddress)).toBe('nvme');
  });
}, { iommu: true });
