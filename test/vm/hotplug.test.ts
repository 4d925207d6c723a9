// PCIe hot removal and hot add, the way a drive is pulled from a running server: QEMU's
// device_del takes a controller away with I/O in flight; device_add brings it back.
import { expect, it } from 'vitest';
import { CTRL_A, CTRL_B } from './layout';
import { bindInGuest, describeVm, waitInGuest } from './support';

describeVm('PCIe hot removal and hot add', (vm) => {
  it('settles every outstanding command with an error when a controller is removed mid-I/O, while the other keeps serving', async () => {
    await bindInGuest(vm(), CTRL_A.pciAddress, 'uio_pci_generic');
    await bindInGuest(vm(), CTRL_B.pciAddress, 'uio_pci_generic');
    await vm().sh('rm -f /tmp/hot-remove.ready');
    const running = vm().node('hot-remove.js', { removed: CTRL_B.pciAddress, other: CTRL_A.pciAddress, depth: 16 });
    await waitInGuest(vm(), 'test -e /tmp/hot-remove.ready', 120_000, running);
    await vm().deviceDel(CTRL_B.id);
    const r = await running;
    expect(r, JSON.stringify(r)).not.toHaveProperty('error');
    expect(r.gone.ok).toBeGreaterThan(0); // it was serving before
    expect(r.settledAll).toBe(true);
    expect(r.gone.settled).toBe(r.gone.issued);
    expect(Object.keys(r.gone.errors)).toEqual(['SpdkError:ENXIO']);
    expect(r.gone.sampleMessage).toMatch(/removed/);
    expect(r.afterRemoval).toBe('SpdkError:ENXIO');
    expect(r.kept.bad).toBe(0);
    expect(r.kept.errors).toBe(0);
    expect(r.kept.okAfterRemoval).toBeGreaterThan(0);
  });

  it('finds a hot-added controller again, and it serves verified I/O', async () => {
    await vm().deviceAdd(CTRL_B);
    // The kernel's nvme driver claims a new device; hand it to user space again.
    await waitInGuest(vm(), `test -e /sys/bus/pci/devices/${CTRL_B.pciAddress}/driver`, 60_000);
    await bindInGuest(vm(), CTRL_B.pciAddress, 'uio_pci_generic');
    const r = await vm().node('nvme-io.js', { addr: CTRL_B.pciAddress });
    expect(r, JSON.stringify(r)).not.toHaveProperty('error');
    expect(r.serial).toBe(CTRL_B.serial);
    expect(r.namespaces[0].mismatches).toBe(0);
    expect(r.namespaces[0].verifiedBlocks).toBe(r.namespaces[0].plannedBlocks);
  });

  it('a bdev over a removed controller fails its reads in flight and goes away; the other bdev keeps serving', async () => {
    // The controller came back in the test before; both to user space again.
    await bindInGuest(vm(), CTRL_A.pciAddress, 'uio_pci_generic');
    await bindInGuest(vm(), CTRL_B.pciAddress, 'uio_pci_generic');
    await vm().sh('rm -f /tmp/bdev-hot-remove.ready');
    const running = vm().node('bdev-hot-remove.js', { removed: CTRL_B.pciAddress, other: CTRL_A.pciAddress });
    await waitInGuest(vm(), 'test -e /tmp/bdev-hot-remove.ready', 120_000, running);
    await vm().deviceDel(CTRL_B.id);
    const r = await running;
    expect(r, JSON.stringify(r)).not.toHaveProperty('error');
    expect(r.gone.ok).toBeGreaterThan(0);
    expect(r.settledAll).toBe(true);
    expect(r.bdevGone).toBe(true);
    const failed = Object.values(r.gone.errors as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(failed).toBeGreaterThan(0);
    expect(r.gone.ok + failed).toBe(r.gone.submitted);
    expect(r.afterRemoval).toMatch(/^SpdkError:/);
    expect(r.kept.bad).toBe(0);
    expect(r.kept.errors).toEqual({});
    expect(r.kept.okAfterRemoval).toBeGreaterThan(0);
  });
});
