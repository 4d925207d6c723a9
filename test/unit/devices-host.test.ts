// The real machine's helpers that need no root: module lookup in the kernel's module tree, users.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleInKernelTree, passwdUser } from '../../src/devices/host';
import { tempDir } from './fake-spdk';

describe('moduleInKernelTree', () => {
  const dir = tempDir('spdk-node-modules-');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'modules.dep'), [
    'kernel/drivers/vfio/pci/vfio-pci.ko.xz: kernel/drivers/vfio/pci/vfio-pci-core.ko.xz kernel/drivers/vfio/vfio.ko.xz',
    'kernel/drivers/vfio/vfio.ko.xz:',
    'kernel/drivers/uio/uio_pci_generic.ko: kernel/drivers/uio/uio.ko',
  ].join('\n'));
  writeFileSync(join(dir, 'modules.builtin'), 'kernel/drivers/nvme/host/nvme.ko\nkernel/drivers/nvme/host/nvme-core.ko\n');

  it('finds loadable modules (compressed or not) and built-in ones, - and _ alike', () => {
    expect(moduleInKernelTree(dir, 'vfio-pci')).toBe(true);
    expect(moduleInKernelTree(dir, 'vfio_pci')).toBe(true);
    expect(moduleInKernelTree(dir, 'uio_pci_generic')).toBe(true);
    expect(moduleInKernelTree(dir, 'nvme')).toBe(true);
    expect(moduleInKernelTree(dir, 'nvme_core')).toBe(true);
  });

  it('does not find a module that is only a dependency name prefix, or absent', () => {
    expect(moduleInKernelTree(dir, 'vfio_pci_c')).toBe(false);
    expect(moduleInKernelTree(dir, 'igb_uio')).toBe(false);
    expect(moduleInKernelTree(join(dir, 'none'), 'vfio')).toBe(false);
  });
});

describe('passwdUser', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1001::/home/alice:/bin/sh\n';
  it('finds a user by name or uid', () => {
    expect(passwdUser(passwd, 'alice')).toEqual({ name: 'alice', uid: 1000, gid: 1001 });
    expect(passwdUser(passwd, '1000')).toEqual({ name: 'alice', uid: 1000, gid: 1001 });
    expect(passwdUser(passwd, 'bob')).toBeUndefined();
  });
});
