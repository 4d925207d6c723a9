// The namespace queue (ns.createQueue): batched NVMe reads, writes and compares on one I/O queue
// pair through the I/O ring, against an NVMe-oF TCP target served by this same SPDK.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nvmeStatusNames, Spdk, SpdkError, type IoQpair, type NvmeController, type NvmeNamespace } from '../../src';
import { describeSpdk, runToCompletion } from './support';
import { targetConfig, tridOf, type TargetSpec } from './nvme-target';
import { portInRange } from './ports';

interface PollerInfo {
  name: string;
  state?: string;
}

describeSpdk('NvmeQueue (batched NVMe I/O on a queue pair)', () => {
  let spdk: Spdk;
  let ctrlr: NvmeController;
  let qp: IoQpair;
  let ns: NvmeNamespace;

  beforeAll(async () => {
    const target: TargetSpec = {
      port: await portInRange(4540, 4549),
      nqn: 'nqn.2016-06.io.spdk:queue',
      serial: 'QUEUE0001',
      model: 'spdk-node queue target',
      bdevs: [{ name: 'Malloc0', numBlocks: 4096, blockSize: 4096 }],
    };
    spdk = await Spdk.start({ config: targetConfig(target) });
    ctrlr = await spdk.nvme.connect(tridOf(target));
    qp = await ctrlr.allocIoQpair({ depth: 32 });
    [ns] = ctrlr.namespaces() as [NvmeNamespace];
  });

  afterAll(async () => {
    await spdk?.stop();
  });

  it('writes distinct data to every block through the queue and reads it back through the queue and ns.read', async () => {
    // Deeper than the queue pair (32): SPDK queues the rest.
    await using q = ns.createQueue(qp, { depth: 96 });
    const expected = new Map<number, Buffer>();
    const slotLba = new Array<number>(q.depth).fill(-1);
    let next = 0;
    const stage = (slot: number, write: boolean): void => {
      if (next >= ns.numSectors) return;
      const lba = next++;
      if (write) {
        const data = randomBytes(4096);
        data.copy(q.buffer(slot));
        expected.set(lba, data);
        q.prepWrite(slot, lba);
      } else {
        slotLba[slot] = lba;
        q.prepRead(slot, lba);
      }
    };
    for (let s = 0; s < q.depth; s++) stage(s, true);
    const writes = await runToCompletion(q, (slot, result) => {
      expect(result).toBe(0);
      stage(slot, true);
    });
    expect(writes).toHaveLength(ns.numSectors);

    next = 0;
    let verified = 0;
    for (let s = 0; s < q.depth; s++) stage(s, false);
    await runToCompletion(q, (slot, result) => {
      expect(result).toBe(0);
      expect(q.buffer(slot).equals(expected.get(slotLba[slot]!)!)).toBe(true);
      verified++;
      stage(slot, false);
    });
    expect(verified).toBe(ns.numSectors);
    for (const lba of [0, 1234, ns.numSectors - 1]) expect((await ns.read(qp, lba, 1)).equals(expected.get(lba)!)).toBe(true);
  });

  it('reports what the controller refused as its NVMe status, sct << 8 | sc', async () => {
    await using q = ns.createQueue(qp, { depth: 4, ioSize: 8192 });
    q.buffer(0).fill(0xab);
    q.prepWrite(0, 7, 1);
    expect(await runToCompletion(q)).toEqual([[0, 0]]);
    q.buffer(1).fill(0xab);
    q.buffer(2).fill(0xcd);
    q.prepRead(0, ns.numSectors); // past the end
    q.prepCompare(1, 7, 1); // equal
    q.prepCompare(2, 7, 1); // differs: SPDK's target says INTERNAL_DEVICE_ERROR outside a fused command (a drive, COMPARE_FAILURE)
    q.prepWrite(3, ns.numSectors - 1, 2); // runs past the end
    const results = new Map(await runToCompletion(q));
    expect(results.get(0)).toBe(0x0080);
    expect(nvmeStatusNames(results.get(0)! >> 8, results.get(0)! & 0xff).scName).toBe('LBA_OUT_OF_RANGE');
    expect(results.get(1)).toBe(0);
    expect(results.get(2)).toBe(0x0006);
    expect(nvmeStatusNames(0, 0x06).scName).toBe('INTERNAL_DEVICE_ERROR');
    expect(results.get(3)).toBe(0x0080);
  });

  it('the Promise API rejects with NvmeError, status names and all, through the same ring', async () => {
    const error = await ns.read(qp, ns.numSectors, 1).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'NvmeError', operation: 'ns.read', sct: 0, sc: 0x80, sctName: 'GENERIC', scName: 'LBA_OUT_OF_RANGE', dnr: false });
    await ns.write(qp, 9, Buffer.alloc(4096, 1));
    await expect(ns.compare(qp, 9, Buffer.alloc(4096, 2))).rejects.toMatchObject({ name: 'NvmeError', operation: 'ns.compare', scName: 'INTERNAL_DEVICE_ERROR' });
    await ns.compare(qp, 9, Buffer.alloc(4096, 1));
  });

  it('checks its arguments', async () => {
    const q = ns.createQueue(qp, { depth: 2 });
    expect(() => q.prepRead(2, 0)).toThrow(RangeError);
    expect(() => q.prepRead(0, -1)).toThrow(RangeError);
    expect(() => q.prepRead(0, 1.5)).toThrow(RangeError);
    expect(() => q.prepRead(0, 0, 2)).toThrow(/count/);
    q.prepRead(0, 0);
    expect(() => q.prepWrite(0, 1)).toThrow(/already has an I\/O/);
    expect(() => ns.createQueue(qp, { depth: 0 })).toThrow(RangeError);
    expect(() => ns.createQueue(qp, { ioSize: 1000 })).toThrow(/multiple of the block size/);
    expect(() => ns.createQueue({} as IoQpair)).toThrow(/IoQpair/);
    await expect(ctrlr.allocIoQpair({ spinUs: -1 })).rejects.toThrow(RangeError);
    const freed = await ctrlr.allocIoQpair({ spinUs: 0 });
    await freed.free();
    expect(() => ns.createQueue(freed)).toThrow(expect.objectContaining({ code: 'EBADF', operation: 'ns.createQueue' }));
    void q.close();
  });

  it('close() with I/O in flight resolves once every I/O has completed, each with 0', async () => {
    const q = ns.createQueue(qp, { depth: 64 });
    const results: number[] = [];
    q.onCompletions = (count, _slots, res) => {
      for (let i = 0; i < count; i++) results.push(res[i]!);
    };
    for (let s = 0; s < q.depth; s++) q.prepRead(s, s);
    q.submit();
    await q.close();
    expect(q.inflight).toBe(0);
    expect(results).toHaveLength(64);
    expect(results.every((r) => r === 0)).toBe(true);
    expect(() => q.prepRead(0, 0)).toThrow(SpdkError);
    await q.close(); // idempotent
  });

  it('free() of the queue pair lets what was submitted complete, then later I/O fails with EBADF', async () => {
    const q2 = await ctrlr.allocIoQpair({ depth: 16 });
    const q = ns.createQueue(q2, { depth: 64 });
    const results: number[] = [];
    q.onCompletions = (count, _slots, res) => {
      for (let i = 0; i < count; i++) results.push(res[i]!);
    };
    // Two batches: the second is submitted while the ring's poller is taking the first (at most
    // 16 per reactor iteration), and free() comes right after it.
    for (let s = 0; s < q.depth; s++) {
      q.buffer(s).fill(s);
      q.prepWrite(s, 2000 + s);
      if (s === 31) q.submit();
    }
    q.submit();
    const freeing = q2.free();
    await q.drain();
    await freeing;
    expect(results).toEqual(new Array<number>(64).fill(0));
    expect((await ns.read(qp, 2063, 1)).every((x) => x === 63)).toBe(true);
    results.length = 0;
    q.prepRead(0, 0);
    q.submit();
    await q.drain();
    expect(results).toEqual([-9]);
    await q.close();
  });

  it('polls nothing while idle: no ring poller, and the queue pair poller paused', async () => {
    await using q = ns.createQueue(qp, { depth: 8 });
    for (let s = 0; s < q.depth; s++) q.prepRead(s, s);
    await runToCompletion(q);
    await new Promise((r) => setTimeout(r, 50));
    const threads = (await spdk.rpc.call('thread_get_pollers')) as { threads: Array<{ active_pollers: PollerInfo[]; paused_pollers: PollerInfo[] }> };
    const active = threads.threads.flatMap((t) => t.active_pollers.map((p) => p.name));
    const paused = threads.threads.flatMap((t) => t.paused_pollers.map((p) => p.name));
    expect(active.filter((n) => /spdk_node_ring|QpairState::Poll/.test(n))).toEqual([]);
    expect(paused.some((n) => /QpairState::Poll/.test(n))).toBe(true);
  });
});
