// bindDevices() / unbindDevices() on a fake sysfs whose writes behave as the kernel's: which driver
// is chosen and why, the sysfs writes setup.sh makes, refusals of devices in use, errors.
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bindDevices, listDevices, unbindDevices } from '../../src/devices';
import { SpdkError } from '../../src/errors';
import { ext4Volume, fakeMachines, FakeMachine, gptDisk } from './fake-devices';

const machine = fakeMachines();

async function rejection(promise: Promise<unknown>): Promise<SpdkError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SpdkError);
  return error as SpdkError;
}

describe('choosing the driver', () => {
  it('with an IOMMU: vfio-pci, and the device node /dev/vfio/GROUP', async () => {
    const m = machine({ iommu: true });
    m.addNvme('0000:00:04.0', { iommuGroup: 3 });
    const result = await bindDevices('0000:00:04.0', { host: m });
    expect(result).toMatchObject({ driver: 'vfio-pci', noIommu: false });
    expect(result.reason).toMatch(/IOMMU is on/);
    expect(result.devices).toEqual([{ address: '0000:00:04.0', from: 'nvme', to: 'vfio-pci', action: 'changed', note: null, deviceNode: '/dev/vfio/3' }]);
    expect(m.driverOf('0000:00:04.0')).toBe('vfio-pci');
  });

  it('without an IOMMU: uio_pci_generic, as setup.sh chooses, saying why', async () => {
    const m = machine();
    m.addNvme('0000:00:04.0');
    const result = await bindDevices('0000:00:04.0', { host: m });
    expect(result).toMatchObject({ driver: 'uio_pci_generic', noIommu: false });
    expect(result.reason).toMatch(/no IOMMU/);
    expect(m.driverOf('0000:00:04.0')).toBe('uio_pci_generic');
    expect(m.modprobes).toEqual(['uio_pci_generic']);
  });

  it('without an IOMMU and without uio_pci_generic: vfio-pci in no-IOMMU mode, turned on by modprobe', async () => {
    const m = machine({ modules: ['nvme', 'vfio', 'vfio-pci'] });
    m.addNvme('0000:00:04.0');
    const result = await bindDevices('0000:00:04.0', { host: m });
    expect(result).toMatchObject({ driver: 'vfio-pci', noIommu: true });
    expect(result.reason).toMatch(/no-IOMMU mode/);
    expect(m.modprobes).toEqual(['vfio enable_unsafe_noiommu_mode=1', 'vfio-pci']);
    expect(result.devices[0]?.deviceNode).toMatch(/^\/dev\/vfio\/noiommu-\d+$/);
  });

  it('--driver vfio-pci without an IOMMU when vfio is already loaded: the parameter is written in sysfs (modprobe would ignore it)', async () => {
    const m = machine({ loaded: ['nvme', 'vfio-pci'] });
    m.addNvme('0000:00:04.0');
    const result = await bindDevices('0000:00:04.0', { host: m, driver: 'vfio-pci' });
    expect(result.noIommu).toBe(true);
    expect(m.writes).toContainEqual({ path: '/sys/module/vfio/parameters/enable_unsafe_noiommu_mode', value: 'Y' });
    expect(m.driverOf('0000:00:04.0')).toBe('vfio-pci');
  });

  it('--driver vfio-pci on a kernel without CONFIG_VFIO_NOIOMMU fails with EOPNOTSUPP and suggests uio', async () => {
    const m = machine({ loaded: ['nvme', 'vfio-pci'], noIommuSupport: false });
    m.addNvme('0000:00:04.0');
    const e = await rejection(bindDevices('0000:00:04.0', { host: m, driver: 'vfio-pci' }));
    expect(e.errno).toBe(95); // EOPNOTSUPP, which Node names ENOTSUP
    expect(e.message).toMatch(/uio_pci_generic/);
    expect(m.driverOf('0000:00:04.0')).toBe('nvme');
  });

  it('no user-space driver installed: ENOENT saying which package to install, nothing changed', async () => {
    const m = machine({ modules: ['nvme'] });
    m.addNvme('0000:00:04.0');
    const e = await rejection(bindDevices('0000:00:04.0', { host: m }));
    expect(e.code).toBe('ENOENT');
    expect(e.message).toMatch(/linux-modules-extra/);
    expect(m.writes).toEqual([]);
  });
});

describe('the sysfs writes', () => {
  it('are setup.sh\'s: unbind from nvme, driver_override, drivers_probe, clear driver_override', async () => {
    const m = machine();
    m.addNvme('0000:00:04.0');
    await bindDevices('0000:00:04.0', { host: m });
    expect(m.writes).toEqual([
      { path: '/sys/bus/pci/drivers/nvme/unbind', value: '0000:00:04.0' },
      { path: '/sys/bus/pci/devices/0000:00:04.0/driver_override', value: 'uio_pci_generic' },
      { path: '/sys/bus/pci/drivers_probe', value: '0000:00:04.0' },
      { path: '/sys/bus/pci/devices/0000:00:04.0/driver_override', value: '\n' },
    ]);
  });

  it('bind then unbind round-trips to the kernel nvme driver, with model and block devices back', async () => {
    const m = machine({ iommu: true });
    m.addNvme('0000:00:04.0', { serial: 'RT-1' });
    await bindDevices('0000:00:04.0', { host: m });
    expect(listDevices({ host: m })[0]).toMatchObject({ driver: 'vfio-pci', serial: null, blockDevices: [] });
    const result = await unbindDevices('0000:00:04.0', { host: m });
    expect(result.devices).toEqual([{ address: '0000:00:04.0', from: 'vfio-pci', to: 'nvme', action: 'changed', note: 'nvme0 with nvme0n1', deviceNode: null }]);
    expect(listDevices({ host: m })[0]).toMatchObject({ driver: 'nvme', serial: 'RT-1', blockDevices: ['nvme0n1'] });
  });

  it('unbind waits for the kernel controller, and says when it does not come live', async () => {
    const m = machine({ iommu: true, nvmeState: 'resetting' });
    m.addNvme('0000:00:04.0', { driver: 'vfio-pci' });
    const result = await unbindDevices('0000:00:04.0', { host: m });
    expect(result.devices[0]).toMatchObject({ to: 'nvme', action: 'changed', note: 'nvme0 is resetting (`dmesg | tail`)' });
  });

  it('a device already on the driver is left alone (unchanged), with no writes', async () => {
    const m = machine({ iommu: true });
    m.addNvme('0000:00:04.0', { driver: 'vfio-pci' });
    const result = await bindDevices('0000:00:04.0', { host: m });
    expect(result.devices[0]).toMatchObject({ action: 'unchanged', from: 'vfio-pci', to: 'vfio-pci' });
    expect(m.writes).toEqual([]);
    expect((await unbindDevices('0000:00:04.0', { host: m })).devices[0]?.action).toBe('changed');
    expect((await unbindDevices('0000:00:04.0', { host: m })).devices[0]?.action).toBe('unchanged');
  });

  it('a driver that does not take the device is an EIO naming dmesg, not a silent success', async () => {
    const m = machine({ failingDrivers: ['uio_pci_generic'] });
    m.addNvme('0000:00:04.0');
    const e = await rejection(bindDevices('0000:00:04.0', { host: m }));
    expect(e.code).toBe('EIO');
    expect(e.message).toMatch(/did not bind 0000:00:04.0 to uio_pci_generic \(it now has no driver\).*dmesg/);
    // driver_override is cleared even so, as setup.sh does.
    expect(m.writes.at(-1)).toEqual({ path: '/sys/bus/pci/devices/0000:00:04.0/driver_override', value: '\n' });
  });
});

describe('--user', () => {
  it('gives the user the vfio group node and advises on memlock', async () => {
    const m = machine({ iommu: true });
    m.addNvme('0000:00:04.0', { iommuGroup: 5 });
    const result = await bindDevices('0000:00:04.0', { host: m, user: 'alice' });
    expect(m.chowns).toEqual([{ path: '/dev/vfio/5', uid: 1000, gid: 1000 }]);
    expect(result.advice.join('\n')).toMatch(/alice - memlock unlimited/);
  });

  it('an unknown user is a RangeError before anything changes', async () => {
    const m = machine({ iommu: true });
    m.addNvme('0000:00:04.0');
    await expect(bindDevices('0000:00:04.0', { host: m, user: 'mallory' })).rejects.toThrow(RangeError);
    expect(m.writes).toEqual([]);
  });

  it('with uio_pci_generic, says the user cannot run SPDK without root', async () => {
    const m = machine();
    m.addNvme('0000:00:04.0');
    const result = await bindDevices('0000:00:04.0', { host: m, user: 'alice' });
    expect(result.advice.join('\n')).toMatch(/alice cannot run SPDK on these devices without root/);
  });
});

describe('refusing devices in use', () => {
  it('a mounted root disk cannot be taken, even with allowData: EBUSY naming the mount, nothing written', async () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { namespaces: [{ contents: gptDisk(), partitions: [{ contents: ext4Volume() }] }] });
    m.mount('nvme0n1p1', '/');
    for (const allowData of [false, true]) {
      const e = await rejection(bindDevices('0000:00:04.0', { host: m, allowData }));
      expect(e.code).toBe('EBUSY');
      expect(e.message).toMatch(/nvme0n1p1 mounted at \/ \(ext4\)/);
    }
    expect(m.writes).toEqual([]);
    expect(m.driverOf('0000:00:04.0')).toBe('nvme');
  });

  it('swap, holders and open devices are never taken either', async () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { serial: 'A' });
    m.addNvme('0000:00:05.0', { serial: 'B' });
    m.addNvme('0000:00:06.0', { serial: 'C' });
    m.swap('nvme0n1');
    m.holder('nvme1n1', 'dm-3', { name: 'crypt', uuid: 'CRYPT-LUKS2-x' });
    m.open(77, 'dd', 'nvme2n1');
    for (const [address, reason] of [['0000:00:04.0', /used as swap/], ['0000:00:05.0', /held by dm-3 \(dm-crypt crypt\)/], ['0000:00:06.0', /open by pid 77 \(dd\)/]] as const) {
      const e = await rejection(bindDevices(address, { host: m, allowData: true }));
      expect(e.code).toBe('EBUSY');
      expect(e.message).toMatch(reason);
    }
    expect(m.writes).toEqual([]);
  });

  it('data at rest is refused without allowData and bound with it', async () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { namespaces: [{ contents: ext4Volume() }] });
    const e = await rejection(bindDevices('0000:00:04.0', { host: m }));
    expect(e.code).toBe('EBUSY');
    expect(e.message).toMatch(/ext2\/3\/4 filesystem.*--allow-data/);
    expect(m.writes).toEqual([]);
    await bindDevices('0000:00:04.0', { host: m, allowData: true });
    expect(m.driverOf('0000:00:04.0')).toBe('uio_pci_generic');
  });

  it('one device in use among several refuses all before touching any', async () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { serial: 'A' });
    m.addNvme('0000:00:05.0', { serial: 'B' });
    m.mount('nvme1n1', '/data');
    await rejection(bindDevices(['0000:00:04.0', '0000:00:05.0'], { host: m }));
    expect(m.writes).toEqual([]);
  });

  it('{ all: true } binds what is free and skips (reports) what is in use', async () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { serial: 'ROOT' });
    m.addNvme('0000:00:05.0', { serial: 'FREE' });
    m.mount('nvme0n1', '/');
    const result = await bindDevices({ all: true }, { host: m });
    expect(result.devices.map((d) => [d.address, d.action])).toEqual([['0000:00:04.0', 'skipped'], ['0000:00:05.0', 'changed']]);
    expect(result.devices[0]?.note).toMatch(/mounted at \//);
    expect(m.driverOf('0000:00:04.0')).toBe('nvme');
  });

  it('unbinding a device a running SPDK holds (its vfio node open) is EBUSY naming the process', async () => {
    const m = machine({ iommu: true });
    m.addNvme('0000:00:04.0', { driver: 'vfio-pci', iommuGroup: 9 });
    m.open(1234, 'node', 'vfio/9');
    const e = await rejection(unbindDevices('0000:00:04.0', { host: m }));
    expect(e.code).toBe('EBUSY');
    expect(e.message).toMatch(/in use through vfio-pci: \/dev\/vfio\/9 open by pid 1234 \(node\)/);
    expect(m.writes).toEqual([]);
  });

  it('unbind { all: true } skips (reports) a device SPDK holds and gives back the others', async () => {
    const m = machine({ iommu: true });
    m.addNvme('0000:00:04.0', { driver: 'vfio-pci', iommuGroup: 1, serial: 'HELD' });
    m.addNvme('0000:00:05.0', { driver: 'vfio-pci', iommuGroup: 2, serial: 'FREE' });
    m.open(1234, 'node', 'vfio/1');
    const result = await unbindDevices({ all: true }, { host: m });
    expect(result.devices.map((d) => [d.address, d.action])).toEqual([['0000:00:04.0', 'skipped'], ['0000:00:05.0', 'changed']]);
    expect(result.devices[0]?.note).toMatch(/\/dev\/vfio\/1 open by pid 1234/);
    expect(m.driverOf('0000:00:04.0')).toBe('vfio-pci');
  });

  it('a device held through vfio\'s per-device node (/dev/vfio/devices/vfioN) is held too', async () => {
    const m = machine({ iommu: true });
    m.addNvme('0000:00:04.0', { driver: 'vfio-pci', iommuGroup: 3 });
    mkdirSync(m.path('sys/bus/pci/devices/0000:00:04.0/vfio-dev/vfio0'), { recursive: true });
    m.open(55, 'node', 'vfio/devices/vfio0');
    const e = await rejection(unbindDevices('0000:00:04.0', { host: m }));
    expect(e.code).toBe('EBUSY');
    expect(e.message).toMatch(/\/dev\/vfio\/devices\/vfio0 open by pid 55 \(node\)/);
  });

  it('rebinding a device a running SPDK holds through uio is EBUSY too, and the listing shows the holder', async () => {
    const m = machine({ iommu: true });
    m.addNvme('0000:00:04.0', { driver: 'uio_pci_generic' });
    m.open(99, 'spdk_tgt', 'uio0');
    expect(listDevices({ host: m })[0]?.inUse).toEqual([{ kind: 'open', blockDevice: 'uio0', detail: 'open by pid 99 (spdk_tgt)' }]);
    const e = await rejection(bindDevices('0000:00:04.0', { host: m, driver: 'vfio-pci', allowData: true }));
    expect(e.code).toBe('EBUSY');
    expect(e.message).toMatch(/\/dev\/uio0 open by pid 99 \(spdk_tgt\)/);
    expect(m.writes).toEqual([]);
  });
});

describe('errors', () => {
  it('an address with no device is ENODEV pointing at the listing', async () => {
    const m = machine();
    const e = await rejection(bindDevices('0000:09:00.0', { host: m }));
    expect(e.code).toBe('ENODEV');
    expect(e.message).toMatch(/no PCI device at 0000:09:00.0.*spdk-node devices/);
    expect((await rejection(unbindDevices('0000:09:00.0', { host: m }))).code).toBe('ENODEV');
  });

  it('{ all: true } on a machine without NVMe controllers is ENODEV saying so', async () => {
    const e = await rejection(bindDevices({ all: true }, { host: machine() }));
    expect(e.code).toBe('ENODEV');
    expect(e.message).toMatch(/no NVMe controllers/);
  });

  it('a PCI device that is not NVMe is ENODEV naming its class', async () => {
    const m = machine();
    m.addPciDevice('0000:00:03.0', '0x020000', 'e1000');
    const e = await rejection(bindDevices('0000:00:03.0', { host: m }));
    expect(e.code).toBe('ENODEV');
    expect(e.message).toMatch(/not an NVMe controller \(PCI class 0x020000/);
  });

  it('without root the write fails with EACCES and says to use sudo', async () => {
    const m = machine({ readOnly: true, loaded: ['nvme', 'uio_pci_generic'] });
    m.addNvme('0000:00:04.0');
    const e = await rejection(bindDevices('0000:00:04.0', { host: m }));
    expect(e.code).toBe('EACCES');
    expect(e.message).toMatch(/needs root.*sudo/);
  });

  it('short addresses and upper case are accepted in canonical form', async () => {
    const m = machine();
    m.addNvme('0000:0a:00.0');
    const result = await bindDevices('0A:00.0', { host: m });
    expect(result.devices[0]?.address).toBe('0000:0a:00.0');
  });

  it('bad arguments are TypeError / RangeError', async () => {
    const m = machine();
    await expect(bindDevices('nvme0' as string, { host: m })).rejects.toThrow(RangeError);
    await expect(bindDevices('0000:00:04.0:1', { host: m })).rejects.toThrow(/not a PCI address/);
    await expect(bindDevices(42 as never, { host: m })).rejects.toThrow(TypeError);
    await expect(bindDevices([], { host: m })).rejects.toThrow(RangeError);
    await expect(bindDevices({ all: false } as never, { host: m })).rejects.toThrow(TypeError);
    await expect(bindDevices('0000:00:04.0', { host: m, driver: 'igb' as never })).rejects.toThrow(RangeError);
    await expect(bindDevices('0000:00:04.0', { host: m, driver: 1 as never })).rejects.toThrow(TypeError);
    await expect(bindDevices('0000:00:04.0', { host: m, allowData: 'yes' as never })).rejects.toThrow(TypeError);
    await expect(bindDevices('0000:00:04.0', { host: m, force: true } as never)).rejects.toThrow(/unknown option 'force'/);
    await expect(unbindDevices('0000:00:04.0', { host: m, driver: 'nvme' } as never)).rejects.toThrow(TypeError);
  });
});
