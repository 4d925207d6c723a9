// The doctor's NVMe row, on a fake machine: each controller, its driver, and how to bind it.
import { afterEach, describe, expect, it } from 'vitest';
import { checkFatLibrary, formatReport } from '../../src/doctor';
import { FakeMachine } from './fake-devices';
import { tempDir } from './fake-spdk';

const machines: FakeMachine[] = [];
afterEach(() => {
  for (const m of machines.splice(0)) m.cleanup();
});

function doctor(m: FakeMachine): string {
  return formatReport(checkFatLibrary({ env: {}, packageRoot: tempDir('spdk-node-empty-'), ldconfig: false, libraryDirs: [], deviceHost: m }));
}

describe('doctor: local NVMe devices', () => {
  it('lists each controller with its driver and says how to bind the free one', () => {
    const m = new FakeMachine();
    machines.push(m);
    m.addNvme('0000:00:04.0', { model: 'QEMU NVMe Ctrl', serial: 'ROOT' });
    m.addNvme('0000:00:05.0', { model: 'QEMU NVMe Ctrl', serial: 'SPARE' });
    m.mount('nvme0n1', '/');
    const text = doctor(m);
    expect(text).toMatch(/^nvme +0000:00:04\.0 nvme \(QEMU NVMe Ctrl, ROOT\): in use by the system \(nvme0n1 mounted at \/ \(ext4\)\), not for SPDK$/m);
    expect(text).toMatch(/^ +0000:00:05\.0 nvme \(QEMU NVMe Ctrl, SPARE\): free; `sudo spdk-node devices bind 0000:00:05\.0` to let SPDK use it$/m);
  });

  it('a controller on a user-space driver is reported ready, with its transport ID', () => {
    const m = new FakeMachine({ iommu: true });
    machines.push(m);
    m.addNvme('0000:00:06.0', { driver: 'vfio-pci' });
    expect(doctor(m)).toMatch(/0000:00:06\.0 vfio-pci: ready for SPDK as trtype:PCIe traddr:0000:00:06\.0/);
    m.open(321, 'node', 'vfio/0');
    expect(doctor(m)).toMatch(/0000:00:06\.0 vfio-pci: held by pid 321 \(node\) \(SPDK running\)/);
  });

  it('data nothing uses: bind with --allow-data', () => {
    const m = new FakeMachine();
    machines.push(m);
    m.addNvme('0000:00:04.0', { namespaces: [{ partitions: [{}] }] });
    expect(doctor(m)).toMatch(/0000:00:04\.0 nvme .*holds data .*devices bind 0000:00:04\.0 --allow-data/);
  });

  it('no controllers: says none are needed for NVMe-oF and bdevs', () => {
    const m = new FakeMachine();
    machines.push(m);
    expect(doctor(m)).toMatch(/^nvme +no NVMe controllers on the PCI bus/m);
  });

  it('the check before loading the addon does not list devices', () => {
    const m = new FakeMachine();
    machines.push(m);
    m.addNvme('0000:00:04.0');
    expect(checkFatLibrary({ env: {}, ldconfig: false, libraryDirs: [], deviceHost: m, devices: false }).devices).toEqual([]);
  });
});
