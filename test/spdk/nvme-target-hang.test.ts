// A target that stops answering but keeps its connections open (SIGSTOP: the kernel still
// acknowledges the TCP data): keep-alive and command timeouts fail the controller, so the
// outstanding I/O rejects with ETIMEDOUT instead of hanging. In a file of its own: the
// controller is left failed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Spdk, SpdkError, type IoQpair, type NvmeController, type NvmeNamespace } from '../../src';
import { describeRemote, freePort, startChildTarget, tridOf, type ChildTarget, type TargetSpec } from './nvme-target';

describeRemote('NVMe over TCP, target hung with I/O in flight', () => {
  let spdk: Spdk;
  let child: ChildTarget;
  let ctrlr: NvmeController;
  let qp: IoQpair;
  let ns: NvmeNamespace;

  beforeAll(async () => {
    const target: TargetSpec = {
      port: await freePort(),
      nqn: 'nqn.2016-06.io.spdk:hung',
      serial: 'HUNG',
      model: 'spdk-node hung target',
      bdevs: [{ name: 'Malloc0', numBlocks: 8192, blockSize: 512 }],
    };
    [spdk, child] = await Promise.all([Spdk.start(), startChildTarget(target)]);
    ctrlr = await spdk.nvme.connect(tridOf(target), { keepAliveTimeoutMs: 2000, commandTimeoutMs: 3000 });
    qp = await ctrlr.allocIoQpair({ depth: 32 });
    [ns] = ctrlr.namespaces() as [NvmeNamespace];
  });

  afterAll(async () => {
    await child?.kill();
    await spdk?.stop();
  });

  it('rejects a connect option that times commands out before keep-alives', async () => {
    await expect(spdk.nvme.connect(ctrlr.transportId, { keepAliveTimeoutMs: 5000, commandTimeoutMs: 1000 })).rejects.toThrow(RangeError);
  });

  it('fails the outstanding I/O with ETIMEDOUT within the timeouts', { timeout: 20_000 }, async () => {
    await ns.write(qp, 0, Buffer.alloc(4096, 1));
    child.process.kill('SIGSTOP');
    const started = Date.now();
    const pending = Array.from({ length: 20 }, (_, i) => ns.write(qp, 8 * i, Buffer.alloc(4096, 2)));
    const results = await Promise.allSettled(pending);
    const elapsed = Date.now() - started;
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const error = (r as PromiseRejectedResult).reason as SpdkError;
      expect(error).toBeInstanceOf(SpdkError);
      expect(error).toMatchObject({ code: 'ETIMEDOUT', operation: 'ns.write' });
    }
    expect(elapsed).toBeLessThan(15_000); // 3 s command timeout, plus slack for a loaded machine
  });

  it('fails later commands at once', async () => {
    await expect(ns.read(qp, 0, 1)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await expect(ctrlr.identify(1)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('detaches the failed controller without waiting for the target', { timeout: 10_000 }, async () => {
    const started = Date.now();
    await ctrlr.detach();
    // The target is still stopped: a detach that waited for it would last until a transport timeout.
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
