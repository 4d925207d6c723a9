// sameController(): matching a bdev_nvme path (bdev_nvme_get_controllers) to a transport ID, as
// SPDK compares them: PCIe by address, fabrics by address, service, subsystem and host.
import { describe, expect, it } from 'vitest';
import { sameController, type BdevNvmeHolder } from '../../src/nvme/bdev-holders';

const tcp: BdevNvmeHolder = { name: 'N0', trtype: 'TCP', traddr: '127.0.0.1', trsvcid: '4420', subnqn: 'nqn.a', hostnqn: 'nqn.h1' };
const pcie: BdevNvmeHolder = { name: 'P0', trtype: 'PCIe', traddr: '0000:00:05.0', trsvcid: '', subnqn: '', hostnqn: 'nqn.h1' };

describe('sameController', () => {
  it('fabrics: address, service, subsystem; the host only when given', () => {
    expect(sameController(tcp, { trtype: 'TCP', traddr: '127.0.0.1', trsvcid: 4420, subnqn: 'nqn.a' }, undefined)).toBe(true);
    expect(sameController(tcp, { trtype: 'TCP', traddr: '127.0.0.1', trsvcid: '4420', subnqn: 'nqn.a' }, 'nqn.h1')).toBe(true);
    expect(sameController(tcp, { trtype: 'TCP', traddr: '127.0.0.1', trsvcid: '4420', subnqn: 'nqn.a' }, 'nqn.h2')).toBe(false);
    expect(sameController(tcp, { trtype: 'TCP', traddr: '127.0.0.1', trsvcid: '4421', subnqn: 'nqn.a' }, undefined)).toBe(false);
    expect(sameController(tcp, { trtype: 'TCP', traddr: '127.0.0.1', trsvcid: '4420', subnqn: 'nqn.b' }, undefined)).toBe(false);
    expect(sameController(tcp, { trtype: 'RDMA', traddr: '127.0.0.1', trsvcid: '4420', subnqn: 'nqn.a' }, undefined)).toBe(false);
  });

  it('PCIe: the address alone, with or without the domain, any case', () => {
    expect(sameController(pcie, { trtype: 'PCIe', traddr: '00:05.0' }, 'nqn.other')).toBe(true);
    expect(sameController({ ...pcie, traddr: '0000:0A:00.0' }, { trtype: 'PCIe', traddr: '0000:0a:00.0' }, undefined)).toBe(true);
    expect(sameController(pcie, { trtype: 'PCIe', traddr: '0000:00:06.0' }, undefined)).toBe(false);
    expect(sameController(pcie, { trtype: 'PCIe' }, undefined)).toBe(false);
  });
});
