// `spdk-node devices [bind|unbind]` over a fake machine: what a user reads, and exit statuses.
import { describe, expect, it } from 'vitest';
import { devicesCommands } from '../../src/cli/devices';
import { main } from '../../src/cli/main';
import { fakeMachines, FakeMachine } from './fake-devices';

const machine = fakeMachines();

async function run(m: FakeMachine, argv: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t) }, devicesCommands(() => m));
  return { status, out, err };
}

describe('spdk-node devices', () => {
  it('shows each controller with driver, model and serial, and how to bind the free ones', async () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { model: 'QEMU NVMe Ctrl', serial: 'ROOTDISK' });
    m.addNvme('0000:00:05.0', { model: 'QEMU NVMe Ctrl', serial: 'TEST1' });
    m.mount('nvme0n1', '/');
    const r = await run(m, ['devices']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^ADDRESS +VENDOR:DEVICE +DRIVER/);
    expect(r.out).toMatch(/0000:00:04\.0 +1b36:0010 +nvme .*ROOTDISK .*nvme0n1 +nvme0n1 mounted at \/ \(ext4\)/);
    expect(r.out).toMatch(/0000:00:05\.0 .*TEST1 .* free/);
    expect(r.out).toMatch(/sudo spdk-node devices bind 0000:00:05\.0\n/);
  });

  it('--json prints the listing as JSON', async () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { serial: 'J1' });
    const r = await run(m, ['devices', '--json']);
    expect(JSON.parse(r.out)).toMatchObject([{ address: '0000:00:04.0', driver: 'nvme', serial: 'J1', inUse: [] }]);
  });
});

describe('spdk-node devices bind / unbind', () => {
  it('binds, saying which driver and why, then unbinds back to nvme', async () => {
    const m = machine({ iommu: true });
    m.addNvme('0000:00:05.0', { iommuGroup: 2 });
    const b = await run(m, ['devices', 'bind', '0000:00:05.0', '--user', 'alice']);
    expect(b.status).toBe(0);
    expect(b.out).toMatch(/^driver: vfio-pci: an IOMMU is on/);
    expect(b.out).toMatch(/0000:00:05\.0  nvme -> vfio-pci \(\/dev\/vfio\/2\)/);
    expect(b.out).toMatch(/note: alice needs a memlock limit/);
    const u = await run(m, ['devices', 'unbind', '0000:00:05.0']);
    expect(u.status).toBe(0);
    expect(u.out).toBe('0000:00:05.0  vfio-pci -> nvme (nvme0 with nvme0n1)\n');
  });

  it('refuses the mounted root disk with exit status 1 and the reason', async () => {
    const m = machine();
    m.addNvme('0000:00:04.0');
    m.mount('nvme0n1', '/');
    const r = await run(m, ['devices', 'bind', '0000:00:04.0', '--allow-data']);
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/0000:00:04\.0 is in use: nvme0n1 mounted at \/ .*never taken while in use.*\(EBUSY\)/);
    expect(m.driverOf('0000:00:04.0')).toBe('nvme');
  });

  it('--all skips what is in use and reports it', async () => {
    const m = machine();
    m.addNvme('0000:00:04.0', { serial: 'A' });
    m.addNvme('0000:00:05.0', { serial: 'B' });
    m.swap('nvme0n1');
    const r = await run(m, ['devices', 'bind', '--all', '--driver', 'uio_pci_generic']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/0000:00:04\.0  skipped: in use: nvme0n1 used as swap/);
    expect(r.out).toMatch(/0000:00:05\.0  nvme -> uio_pci_generic/);
  });
});
