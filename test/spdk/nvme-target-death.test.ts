// A target that dies (SIGKILL) with I/O in flight: the outstanding commands fail with an error,
// later ones fail at once, and nothing hangs. In a file of its own: the controller is left
// failed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NvmeError, Spdk, SpdkError, type IoQpair, type NvmeController, type NvmeNamespace } from '../../src';
import { describeRemote, freePort, startChildTarget, tridOf, type ChildTarget, type TargetSpec } from './nvme-target';

describeRemote('NVMe over TCP, target killed with I/O in flight', () => {
  let spdk: Spdk;
  let child: ChildTarget;
  let ctrlr: NvmeController;
  let qp: IoQpair;
  let ns: NvmeNamespace;

  beforeAll(async () => {
    const target: TargetSpec = {
      port: await freePort(),
      nqn: 'nqn.2016-06.io.spdk:doomed',
      serial: 'DOOMED',
      model: 'spdk-node doomed target',
      bdevs: [{ name: 'Malloc0', numBlocks: 65536, blockSize: 512 }],
    };
    [spdk, child] = await Promise.all([Spdk.start(), startChildTarget(target)]);
    ctrlr = await spdk.nvme.connect(tridOf(target));
    qp = await ctrlr.allocIoQpair({ depth: 128 });
    [ns] = ctrlr.namespaces() as [NvmeNamespace];
  });

  afterAll(async () => {
    await child?.kill();
    await spdk?.stop();
  });

  it('fails the outstanding I/O with ENXIO, not an NVMe status', { timeout: 30_000 }, async () => {
    const settled: Array<Promise<unknown>> = [];
    let stop = false;
    // Keep the queue full until the target is gone.
    const pump = (async () => {
      let lba = 0;
      while (!stop) {
        const batch = Array.from({ length: 64 }, () => ns.write(qp, (lba = (lba + 64) % 65536), Buffer.alloc(32 * 1024, 0x5a)));
        settled.push(...batch);
        await Promise.race([Promise.allSettled(batch), new Promise((r) => setTimeout(r, 5))]);
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    await child.kill();
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await pump;

    const results = await Promise.allSettled(settled);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
    expect(failures.length).toBeGreaterThan(0);
    for (const error of failures) {
      expect(error).toBeInstanceOf(SpdkError);
      expect(error).not.toBeInstanceOf(NvmeError);
      expect(error).toMatchObject({ code: 'ENXIO', operation: 'ns.write' });
    }
    expect(failures[0]!.message).toMatch(/disconnected/);
  });

  it('fails later I/O and admin commands at once', { timeout: 10_000 }, async () => {
    await expect(ns.read(qp, 0, 1)).rejects.toMatchObject({ code: 'ENXIO' });
    await expect(ctrlr.healthLog()).rejects.toMatchObject({ code: 'ENXIO' });
    await expect(ctrlr.allocIoQpair()).rejects.toMatchObject({ code: 'ENXIO' });
  });

  it('frees the queue pair and detaches the dead controller', { timeout: 10_000 }, async () => {
    await qp.free();
    await ctrlr.detach();
  });

  it('fails to connect again while the target is gone', { timeout: 10_000 }, async () => {
    await expect(spdk.nvme.connect(ctrlr.transportId)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
