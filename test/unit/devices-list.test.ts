// listDevices() on a fake sysfs: what a user sees of the NVMe controllers, and "in use" decided as
// SPDK's setup.sh decides (mounts, swap, holders, open block devices, data on the disk).
import { describe, expect, it } from 'vitest';
import { listDevices } from '../../src/devices';
import { identifySignature } from '../../src/devices/signatures';
import { ext4Volume, fakeMachines, FakeMachine, gptDisk } from './fake-devices';

const machine = fakeMachines();

describe('listDevices', () => {
  it('lists only NVMe controllers (class 0x010802), sorted by address', () => {
    const m = machine();
    m.addPciDevice('0000:00:03.0', '0x020000', 'e1000');
    m.addNvme('0000:00:05.0', { serial: 'B' });
    m.addNvme('0000:00:04.0', { serial: 'A' });
    expect(listDevices({ host: m }).map((d) => d.address)).toEqual(['0000:00:04.0', '0000:00:05.0']);
  });

  it('reports identity, driver, NUMA node and block devices of a controller the nvme driver has', () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { model: 'QEMU NVMe Ctrl', serial: 'SN-1', firmware: '8.0.0', numaNode: 1, vendor: '0x1B36', device: '0x0010', namespaces: [{}, {}] });
    const [d] = listDevices({ host: m });
    expect(d).toMatchObject({
      address: '0000:00:04.0', vendorId: '0x1b36', deviceId: '0x0010', driver: 'nvme', userSpace: false,
      numaNode: 1, iommuGroup: null, kernelName: 'nvme0', model: 'QEMU NVMe Ctrl', serial: 'SN-1', firmware: '8.0.0',
      blockDevices: ['nvme0n1', 'nvme0n2'], inUse: [],
    });
  });

  it('has no model or block devices under a user-space driver, and says it is usable by SPDK', () => {
    const m = machine({ iommu: true });
    m.addNvme('0000:00:04.0', { driver: 'vfio-pci', iommuGroup: 7 });
    const [d] = listDevices({ host: m });
    expect(d).toMatchObject({ driver: 'vfio-pci', userSpace: true, iommuGroup: 7, model: null, serial: null, kernelName: null, blockDevices: [] });
  });

  it('a controller with no driver has driver null and a numa_node of -1 is null', () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { driver: null });
    expect(listDevices({ host: m })[0]).toMatchObject({ driver: null, userSpace: false, numaNode: null });
  });

  it('finds block devices of its own subsystem only (two controllers, by subsysnqn)', () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { serial: 'A' });
    m.addNvme('0000:00:05.0', { serial: 'B', namespaces: [{}, {}] });
    const [a, b] = listDevices({ host: m });
    expect(a?.blockDevices).toEqual(['nvme0n1']);
    expect(b?.blockDevices).toEqual(['nvme1n1', 'nvme1n2']);
  });
});

describe('in use', () => {
  it('a mounted partition (the root disk) is in use: mount, with the mount point', () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { namespaces: [{ contents: gptDisk(), partitions: [{ contents: ext4Volume() }, {}] }] });
    m.mount('nvme0n1p1', '/');
    const [d] = listDevices({ host: m });
    expect(d?.inUse).toEqual([{ kind: 'mount', blockDevice: 'nvme0n1p1', detail: 'mounted at / (ext4)' }]);
  });

  it('a mount is found by its source device name too (btrfs reports an anonymous major:minor)', () => {
    const m = machine();
    m.addNvme('0000:00:04.0');
    m.mount('nvme0n1', '/srv/data', 'btrfs', '0:42');
    expect(listDevices({ host: m })[0]?.inUse).toEqual([{ kind: 'mount', blockDevice: 'nvme0n1', detail: 'mounted at /srv/data (btrfs)' }]);
  });

  it('swap on a partition is in use', () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { namespaces: [{ partitions: [{}, {}] }] });
    m.swap('nvme0n1p2');
    expect(listDevices({ host: m })[0]?.inUse).toEqual([{ kind: 'swap', blockDevice: 'nvme0n1p2', detail: 'used as swap' }]);
  });

  it('an LVM holder is in use, and its mount is named', () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { namespaces: [{ partitions: [{}] }] });
    m.holder('nvme0n1p1', 'dm-0', { name: 'vg0-root', uuid: 'LVM-abc' });
    m.mount('dm-0', '/');
    const uses = listDevices({ host: m })[0]?.inUse;
    expect(uses).toEqual([{ kind: 'holder', blockDevice: 'nvme0n1p1', detail: 'held by dm-0 (LVM vg0-root), mounted at /' }]);
  });

  it('an md RAID member (holder without a mount) is in use', () => {
    const m = machine();
    m.addNvme('0000:00:04.0');
    m.holder('nvme0n1', 'md0');
    expect(listDevices({ host: m })[0]?.inUse).toMatchObject([{ kind: 'holder', blockDevice: 'nvme0n1', detail: 'held by md0' }]);
  });

  it('a block device a process holds open is in use, naming the process', () => {
    const m = machine();
    m.addNvme('0000:00:04.0');
    m.open(4242, 'postgres', 'nvme0n1');
    expect(listDevices({ host: m })[0]?.inUse).toEqual([{ kind: 'open', blockDevice: 'nvme0n1', detail: 'open by pid 4242 (postgres)' }]);
  });

  it('a disk with a partition table that nothing uses holds data', () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { namespaces: [{ contents: gptDisk(), partitions: [{ contents: ext4Volume() }] }] });
    expect(listDevices({ host: m })[0]?.inUse).toEqual([{ kind: 'data', blockDevice: 'nvme0n1', detail: 'GPT partition table with nvme0n1p1: ext2/3/4 filesystem' }]);
  });

  it('a filesystem on the whole disk is data', () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { namespaces: [{ contents: ext4Volume() }] });
    expect(listDevices({ host: m })[0]?.inUse).toEqual([{ kind: 'data', blockDevice: 'nvme0n1', detail: 'ext2/3/4 filesystem' }]);
  });

  it('an empty disk is free', () => {
    const m = machine();
    m.addNvme('0000:00:04.0');
    expect(listDevices({ host: m })[0]?.inUse).toEqual([]);
  });

  it('uses of another controller do not leak onto this one', () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { serial: 'A' });
    m.addNvme('0000:00:05.0', { serial: 'B' });
    m.mount('nvme0n1', '/');
    const [a, b] = listDevices({ host: m });
    expect(a?.inUse).toHaveLength(1);
    expect(b?.inUse).toEqual([]);
  });
});

describe('signatures', () => {
  it('recognises what blkid would call in use, and nothing in zeros', () => {
    const at = (offset: number, text: string): Buffer => {
      const b = Buffer.alloc(69 * 1024);
      b.write(text, offset, 'latin1');
      return b;
    };
    expect(identifySignature(Buffer.alloc(69 * 1024))).toBeNull();
    expect(identifySignature(at(0, 'XFSB'))).toBe('XFS filesystem');
    expect(identifySignature(at(65600, '_BHRfS_M'))).toBe('btrfs filesystem');
    expect(identifySignature(at(4086, 'SWAPSPACE2'))).toBe('Linux swap area');
    const lvm = at(512, 'LABELONE');
    lvm.write('LVM2 001', 536, 'latin1');
    expect(identifySignature(lvm)).toBe('LVM physical volume');
    expect(identifySignature(at(0, 'LUKS\xba\xbe'))).toBe('LUKS encrypted volume');
    expect(identifySignature(gptDisk())).toBe('GPT partition table');
    // A boot-sector signature alone (no partition entries) is not a partition table.
    const blank = Buffer.alloc(1024);
    blank[510] = 0x55;
    blank[511] = 0xaa;
    expect(identifySignature(blank)).toBeNull();
  });
});

describe('arguments', () => {
  it('rejects options that are not an object, and unknown options', () => {
    expect(() => listDevices('x' as never)).toThrow(TypeError);
    expect(() => listDevices({ root: '/' } as never)).toThrow(/unknown option 'root'/);
  });
});
