// A namespace queue and Promise I/O on the ring when the target dies (SIGKILL) with commands in
// flight: every outstanding command completes, with ENXIO rather than an NVMe status, and
// nothing hangs. In a file of its own: the controller is left failed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Spdk, type IoQpair, type NvmeController, type NvmeNamespace } from '../../src';
import { describeRemote, startChildTarget, tridOf, type ChildTarget, type TargetSpec } from './nvme-target';
import { portInRange } from './ports';

describeRemote('NvmeQueue, target killed with I/O in flight', () => {
  let spdk: Spdk;
  let child: ChildTarget;
  let ctrlr: NvmeController;
  let qp: IoQpair;
  let ns: NvmeNamespace;

  beforeAll(async () => {
    const target: TargetSpec = {
      port: await portInRange(4550, 4559),
      nqn: 'nqn.2016-06.io.spdk:doomedqueue',
      serial: 'DOOMEDQ',
      model: 'spdk-node doomed queue target',
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

  it('settles every outstanding command, queue and Promise alike, with ENXIO', { timeout: 30_000 }, async () => {
    const q = ns.createQueue(qp, { depth: 128, ioSize: 32 * 1024 });
    const counts = new Map<number, number>();
    let lba = 0;
    let stop = false;
    q.onCompletions = (count, slots, results) => {
      for (let i = 0; i < count; i++) {
        counts.set(results[i]!, (counts.get(results[i]!) ?? 0) + 1);
        if (!stop) q.prepWrite(slots[i]!, (lba = (lba + 64) % 65536));
      }
      if (!stop) q.submit();
    };
    for (let s = 0; s < q.depth; s++) q.prepWrite(s, (lba = (lba + 64) % 65536));
    q.submit();
    // Promise commands on the same queue pair, all outstanding when the target dies.
    const promises: Array<Promise<unknown>> = [];
    const pump = (async () => {
      while (!stop) {
        const batch = Array.from({ length: 32 }, (_, i) => ns.read(qp, i * 64, 64));
        promises.push(...batch);
        await Promise.race([Promise.allSettled(batch), new Promise((r) => setTimeout(r, 5))]);
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    await child.kill();
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await pump;
    await q.drain();
    expect(q.inflight).toBe(0);
    expect(counts.get(0)).toBeGreaterThan(0);
    expect(counts.get(-6)).toBeGreaterThan(0);
    expect([...counts.keys()].sort()).toEqual([-6, 0]);

    const settled = await Promise.allSettled(promises);
    const failures = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
    expect(failures.length).toBeGreaterThan(0);
    for (const e of failures) expect(e).toMatchObject({ name: 'SpdkError', code: 'ENXIO', operation: 'ns.read' });
    expect(failures[0]!.message).toMatch(/disconnected/);

    // Later I/O fails at once.
    q.prepRead(0, 0);
    q.submit();
    await q.drain();
    expect(counts.get(-6)).toBeGreaterThan(1);
    await q.close();
    await qp.free();
    await ctrlr.detach();
  });
});
