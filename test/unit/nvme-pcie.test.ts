// nvme.connect/probe/list with trtype PCIe answer before SPDK is asked when SPDK could not use the
// address: no PCI access, or (from sysfs) no such NVMe controller. No SPDK needed: nothing reaches it.
import { describe, expect, it } from 'vitest';
import { Nvme } from '../../src/nvme/nvme';

describe('nvme with trtype PCIe', () => {
  it('SPDK started without PCI access: ENODEV saying so, for connect, probe and list', async () => {
    const nvme = new Nvme({ pci: false });
    for (const call of [() => nvme.connect('trtype:PCIe traddr:0000:01:00.0'), () => nvme.probe(), () => nvme.list()]) {
      await expect(call()).rejects.toMatchObject({ code: 'ENODEV', message: expect.stringMatching(/without PCI access.*\{ pci: true \}/) });
    }
  });

  it('an address with no PCI device: ENODEV pointing at spdk-node devices', async () => {
    await expect(new Nvme({ pci: true }).connect('trtype:PCIe traddr:0000:7e:1f.7')).rejects.toMatchObject({
      code: 'ENODEV', operation: 'nvme.connect', message: expect.stringMatching(/no PCI device at 0000:7e:1f\.7.*spdk-node devices/),
    });
  });
});
