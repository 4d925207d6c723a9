// adminRaw() refuses what would pull a namespace's format out from under SPDK's driver, and
// data-bearing features sent without a buffer (issue 13, defect 10).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Spdk, type NvmeController } from '../../src';
import { describeSpdk } from './support';
import { freePort, targetConfig, tridOf, type TargetSpec } from './nvme-target';

describeSpdk('NVMe adminRaw guards', () => {
  let spdk: Spdk;
  let ctrlr: NvmeController;

  beforeAll(async () => {
    const target: TargetSpec = {
      port: await freePort(),
      nqn: 'nqn.2016-06.io.spdk:guards',
      serial: 'SPDKNODE0013',
      model: 'spdk-node guards',
      bdevs: [{ name: 'Malloc0', numBlocks: 2048, blockSize: 512 }],
    };
    spdk = await Spdk.start({ hugepages: false, logLevel: 'error', config: targetConfig(target) });
    ctrlr = await spdk.nvme.connect(tridOf(target));
  });

  afterAll(async () => {
    await spdk?.stop();
  });

  for (const [opc, name] of [
    [0x80, 'Format NVM'],
    [0x84, 'Sanitize'],
  ] as const) {
    it(`refuses ${name} with a RangeError that says what to do instead`, async () => {
      await expect(ctrlr.adminRaw({ opc, nsid: 1 })).rejects.toThrow(RangeError);
      await expect(ctrlr.adminRaw({ opc, nsid: 1 })).rejects.toThrow(/nvme-cli/);
    });
  }

  it('refuses Get Features of the Timestamp feature (it returns data) without a buffer', async () => {
    await expect(ctrlr.adminRaw({ opc: 0x0a, cdw10: 0x0e })).rejects.toThrow(TypeError);
    await expect(ctrlr.adminRaw({ opc: 0x0a, cdw10: 0x0e })).rejects.toThrow(/needs a buffer/);
  });

  it('refuses Set Features of the Host Identifier feature (it sends data) without a buffer', async () => {
    await expect(ctrlr.adminRaw({ opc: 0x09, cdw10: 0x81 })).rejects.toThrow(/Host Identifier.*needs a buffer/);
  });

  it('still sends Get Features of a feature that moves no data (Number of Queues) without a buffer', async () => {
    const cpl = await ctrlr.adminRaw({ opc: 0x0a, cdw10: 0x07 });
    expect(cpl.cdw0).toBeGreaterThan(0);
  });
});
