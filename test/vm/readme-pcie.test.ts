// The README's examples for a local SSD, and examples/local-nvme.js, run as pasted inside the VM:
// the blocks tagged needs-pcie (which the host suite cannot run) name 0000:00:05.0, which is
// CTRL_A here. First the example program, which binds, uses and unbinds the controller itself;
// then the README's blocks in order: bind, use through the NVMe driver, use as a bdev.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { markdownBlocks, repoRoot } from '../code-blocks';
import { CTRL_A } from './layout';
import { describeVm } from './support';
import type { Vm } from './vm';

const blocks = markdownBlocks('README.md').filter((b) => b.tags.includes('needs-pcie'));

/** Writes a program next to the guest's programs (where require('spdk-node') resolves) and runs it. */
async function runInGuest(vm: Vm, name: string, code: string, args: string[] = []) {
  await vm.sh(`cat > /opt/spdk-node-vm/${name}`, { input: code });
  return vm.run(['/usr/local/bin/node', `/opt/spdk-node-vm/${name}`, ...args], { timeoutMs: 180_000 });
}

describeVm('the README\'s local-SSD examples, run as pasted in the VM', (vm) => {
  it('has the examples it runs: bind, NVMe driver, bdev, all naming the address the VM has', () => {
    expect(blocks.map((b) => b.language)).toEqual(['js', 'js', 'js']);
    for (const b of blocks) expect(b.code).toContain(CTRL_A.pciAddress);
  });

  it('runs examples/local-nvme.js on the controller: every step checked, and the controller back with the kernel', async () => {
    const code = readFileSync(join(repoRoot, 'examples', 'local-nvme.js'), 'utf8');
    const r = await runInGuest(vm(), 'local-nvme.js', code, [CTRL_A.pciAddress]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const driver = await vm().sh(`basename $(readlink /sys/bus/pci/devices/${CTRL_A.pciAddress}/driver)`);
    expect(driver.trim()).toBe('nvme');
  });

  it('binds the controller (README: Bind)', async () => {
    const r = await runInGuest(vm(), 'readme-bind.js', blocks[0]!.code);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain(`${CTRL_A.pciAddress}: nvme -> uio_pci_generic (changed)`);
  });

  it('reads, writes and reads back block 0 through the NVMe driver (README: Use)', async () => {
    const r = await runInGuest(vm(), 'readme-nvme.js', blocks[1]!.code);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain(CTRL_A.serial);
    expect(r.stdout).toContain('block 0 read back the same: true');
  });

  it('does the same through a bdev (README: Use, as a bdev)', async () => {
    const r = await runInGuest(vm(), 'readme-bdev.js', blocks[2]!.code);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Nvme0n1 \d+ blocks; block 0 read back the same: true/);
  });

});
