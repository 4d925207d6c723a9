// The NVMe driver against an NVMe-oF TCP target in another process (spdk_tgt).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Spdk, type NvmeController } from '../../src';
import { describeRemote, freePort, startChildTarget, tridOf, type ChildTarget, type TargetSpec } from './nvme-target';

describeRemote('NVMe over TCP, target in another process', () => {
  let spdk: Spdk;
  let child: ChildTarget;
  let target: TargetSpec;
  let ctrlr: NvmeController;

  beforeAll(async () => {
    target = {
      port: await freePort(),
      nqn: 'nqn.2016-06.io.spdk:remote1',
      serial: 'REMOTE00000042',
      model: 'spdk-node remote target',
      bdevs: [
        { name: 'Malloc0', numBlocks: 8192, blockSize: 512 },
        { name: 'Malloc1', numBlocks: 1024, blockSize: 4096 },
        { name: 'Malloc2', numBlocks: 256, blockSize: 4096 },
      ],
    };
    [spdk, child] = await Promise.all([Spdk.start(), startChildTarget(target)]);
    ctrlr = await spdk.nvme.connect(tridOf(target));
  });

  afterAll(async () => {
    await spdk?.stop();
    await child?.kill();
  });

  it('reports the serial and model numbers, namespace count and subsystem NQN the target was given', () => {
    expect(ctrlr.data).toMatchObject({ sn: target.serial, mn: target.model, subnqn: target.nqn });
    expect(ctrlr.data.nn).toBeGreaterThanOrEqual(3);
    expect(ctrlr.transportId.trsvcid).toBe(String(target.port));
  });

  it('has one namespace per malloc bdev, sized like it', () => {
    const list = ctrlr.namespaces();
    expect(list.map((ns) => [ns.id, ns.numSectors, ns.sectorSize, ns.sizeBytes])).toEqual(
      target.bdevs.map((b, i) => [i + 1, b.numBlocks, b.blockSize, b.numBlocks * b.blockSize]),
    );
  });

  it('writes random data across a namespace and reads it back', async () => {
    await using qp = await ctrlr.allocIoQpair({ depth: 32 });
    const ns = ctrlr.namespace(3)!;
    const perCommand = Math.min(ctrlr.maxTransferSize / ns.sectorSize, 16);
    const written: Buffer[] = [];
    for (let lba = 0; lba < ns.numSectors; lba += perCommand) {
      const data = randomBytes(perCommand * ns.sectorSize);
      written.push(data);
      await ns.write(qp, lba, data);
    }
    const back = await Promise.all(written.map((_, i) => ns.read(qp, i * perCommand, perCommand)));
    back.forEach((b, i) => expect(b.equals(written[i]!)).toBe(true));
  });

  it('rejects an LBA past the end with LBA_OUT_OF_RANGE', async () => {
    await using qp = await ctrlr.allocIoQpair();
    const ns = ctrlr.namespace(1)!;
    await expect(ns.write(qp, ns.numSectors, Buffer.alloc(512))).rejects.toMatchObject({ name: 'NvmeError', scName: 'LBA_OUT_OF_RANGE' });
  });

  it('reads the health log and identify data', async () => {
    const health = await ctrlr.healthLog();
    expect(health.percentageUsed).toBe(0);
    expect((await ctrlr.identify(1)).toString('latin1', 24, 64).trim()).toBe(target.model);
  });

  it('detaches and connects again, with the data still there', async () => {
    const data = randomBytes(4096);
    {
      await using qp = await ctrlr.allocIoQpair();
      await ctrlr.namespace(2)!.write(qp, 9, data);
    }
    const before = ctrlr.data.cntlid;
    await ctrlr.detach();
    ctrlr = await spdk.nvme.connect(tridOf(target));
    expect(ctrlr.data.cntlid).not.toBe(before);
    await using qp = await ctrlr.allocIoQpair();
    expect((await ctrlr.namespace(2)!.read(qp, 9, 1)).equals(data)).toBe(true);
  });
});
