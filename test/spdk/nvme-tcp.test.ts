// The NVMe driver against an NVMe-oF TCP target served by this same SPDK (same reactor): the
// target comes from Spdk.start's config, the host side is spdk.nvme.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DISCOVERY_NQN, IoQpair, NvmeError, Spdk, SpdkError, type NvmeController, type NvmeNamespace } from '../../src';
import { describeSpdk, forceGc } from './support';
import { freePort, targetConfig, tridOf, type TargetSpec } from './nvme-target';

describeSpdk('NVMe over TCP, target in this process', () => {
  let spdk: Spdk;
  let target: TargetSpec;
  let ctrlr: NvmeController;
  let qp: IoQpair;
  let ns512: NvmeNamespace;
  let ns4k: NvmeNamespace;

  beforeAll(async () => {
    target = {
      port: await freePort(),
      nqn: 'nqn.2016-06.io.spdk:cnode1',
      serial: 'SPDKNODE0001',
      model: 'spdk-node test target',
      bdevs: [
        { name: 'Malloc0', numBlocks: 16384, blockSize: 512 },
        { name: 'Malloc1', numBlocks: 2048, blockSize: 4096 },
      ],
    };
    spdk = await Spdk.start({ config: targetConfig(target) });
    ctrlr = await spdk.nvme.connect(tridOf(target));
    qp = await ctrlr.allocIoQpair({ depth: 64 });
    [ns512, ns4k] = ctrlr.namespaces() as [NvmeNamespace, NvmeNamespace];
  });

  afterAll(async () => {
    await spdk?.stop();
  });

  it('reports the identify data the target was configured with', () => {
    expect(ctrlr.data.sn).toBe(target.serial);
    expect(ctrlr.data.mn).toBe(target.model);
    expect(ctrlr.data.subnqn).toBe(target.nqn);
    expect(ctrlr.data.nn).toBeGreaterThanOrEqual(2);
    expect(ctrlr.data.vid).toBe(0x8086); // SPDK's TCP target reports Intel's PCI vendor ID
    expect(ctrlr.data.ssvid).toBe(0x8086);
    expect(ctrlr.data.ver.major).toBeGreaterThanOrEqual(1);
    expect(ctrlr.data.mdts).toBeGreaterThan(0);
    expect(ctrlr.data.cntrltype).toBe(1);
    expect(ctrlr.fabrics).toBe(true);
    expect(ctrlr.maxTransferSize).toBeGreaterThanOrEqual(4096);
    expect(ctrlr.transportId).toEqual({ trtype: 'TCP', adrfam: 'IPv4', traddr: '127.0.0.1', trsvcid: String(target.port), subnqn: target.nqn });
  });

  it('lists one namespace per malloc bdev, with its size', () => {
    const list = ctrlr.namespaces();
    expect(list.map((n) => n.id)).toEqual([1, 2]);
    expect(ns512).toMatchObject({ id: 1, numSectors: 16384, sectorSize: 512, sizeBytes: 16384 * 512, metadataSize: 0, extendedLba: false });
    expect(ns4k).toMatchObject({ id: 2, numSectors: 2048, sectorSize: 4096, sizeBytes: 2048 * 4096 });
    expect(ns512.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(ns512.maxTransferSize).toBe(ctrlr.maxTransferSize);
    expect(ctrlr.namespace(2)?.numSectors).toBe(2048);
    expect(ctrlr.namespace(7)).toBeUndefined();
  });

  it('writes random data and reads it back, on both namespaces', async () => {
    for (const ns of [ns512, ns4k]) {
      const data = randomBytes(8 * ns.sectorSize);
      await ns.write(qp, 5, data);
      const back = await ns.read(qp, 5, 8);
      expect(back.equals(data)).toBe(true);
    }
  });

  it('reads into a caller-supplied Buffer and DMA memory from allocBuffer', async () => {
    const data = randomBytes(4096);
    await ns4k.write(qp, 100, data);
    const into = Buffer.alloc(4096);
    expect(await ns4k.read(qp, 100, into)).toBe(into);
    expect(into.equals(data)).toBe(true);
    const dma = spdk.allocBuffer(8192);
    randomBytes(8192).copy(dma);
    const expected = Buffer.from(dma);
    await ns4k.write(qp, 200, dma);
    dma.fill(0);
    await ns4k.read(qp, 200, dma);
    expect(dma.equals(expected)).toBe(true);
  });

  it('completes more concurrent commands than the queue is deep', async () => {
    const count = 500;
    const data = Array.from({ length: count }, (_, i) => {
      const b = randomBytes(512);
      b.writeUInt32LE(i, 0);
      return b;
    });
    await Promise.all(data.map((d, i) => ns512.write(qp, i, d)));
    const back = await Promise.all(data.map((_, i) => ns512.read(qp, i, 1)));
    back.forEach((b, i) => expect(b.equals(data[i]!)).toBe(true));
  });

  it('rejects an LBA past the end of the namespace with NvmeError LBA_OUT_OF_RANGE', async () => {
    const error = await ns4k.read(qp, ns4k.numSectors, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NvmeError);
    expect(error).toMatchObject({ sct: 0, sc: 0x80, sctName: 'GENERIC', scName: 'LBA_OUT_OF_RANGE', operation: 'ns.read' });
    await expect(ns4k.write(qp, ns4k.numSectors - 1, Buffer.alloc(2 * 4096))).rejects.toMatchObject({ scName: 'LBA_OUT_OF_RANGE' });
  });

  it('writeZeroes and deallocate leave zeroes; flush succeeds', async () => {
    await ns4k.write(qp, 0, randomBytes(8 * 4096));
    await ns4k.writeZeroes(qp, 0, 4);
    expect((await ns4k.read(qp, 0, 4)).every((x) => x === 0)).toBe(true);
    await ns4k.deallocate(qp, [{ lba: 4, count: 2 }, { lba: 6, count: 2 }]);
    expect((await ns4k.read(qp, 4, 4)).every((x) => x === 0)).toBe(true);
    await ns4k.flush(qp);
  });

  it('compare succeeds on equal data and fails with an NvmeError otherwise', async () => {
    const data = randomBytes(4096);
    await ns4k.write(qp, 300, data);
    await ns4k.compare(qp, 300, data);
    data[17] = data[17]! ^ 0xff;
    // SPDK's target reports a miscompare outside a fused command as INTERNAL_DEVICE_ERROR
    // (spdk_bdev_io_get_nvme_status), where a drive says MEDIA_ERROR/COMPARE_FAILURE.
    const error = await ns4k.compare(qp, 300, data).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NvmeError);
    expect(error).toMatchObject({ operation: 'ns.compare' });
  });

  it('reads and decodes the health information log page', async () => {
    const health = await ctrlr.healthLog();
    expect(typeof health.dataUnitsRead).toBe('bigint');
    expect(health.criticalWarnings).toEqual({
      availableSpare: false, temperature: false, reliability: false, readOnly: false, volatileMemoryBackup: false, persistentMemoryRegion: false,
    });
    expect(health.temperatureSensorsKelvin).toHaveLength(8);
  });

  it('sends Identify, Get Log Page and raw admin commands', async () => {
    const id = await ctrlr.identify(1);
    expect(id.length).toBe(4096);
    expect(id.toString('latin1', 4, 24).trim()).toBe(target.serial);
    const nsData = await ctrlr.identify(0, { nsid: 2 });
    expect(nsData.readBigUInt64LE(0)).toBe(2048n); // NSZE
    const activeList = await ctrlr.identify(2);
    expect([activeList.readUInt32LE(0), activeList.readUInt32LE(4), activeList.readUInt32LE(8)]).toEqual([1, 2, 0]);
    const supported = await ctrlr.getLogPage(0x00, { size: 1024 }); // supported log pages
    expect(supported.readUInt32LE(4 * 0x02) & 1).toBe(1); // the health log is supported
    // Get Features, Number of Queues: cdw0 holds the allocated queue counts (0's based).
    const cpl = await ctrlr.adminRaw({ opc: 0x0a, cdw10: 0x07 });
    expect(cpl.cdw0 & 0xffff).toBeGreaterThan(0);
    const raw = Buffer.alloc(4096);
    await ctrlr.adminRaw({ opc: 0x06, cdw10: 1 }, raw);
    expect(raw.equals(id)).toBe(true);
  });

  it('reports a command the controller rejects as NvmeError', async () => {
    await expect(ctrlr.adminRaw({ opc: 0x0a, cdw10: 0xee })).rejects.toMatchObject({ name: 'NvmeError', scName: 'INVALID_FIELD', operation: 'ctrlr.adminRaw' });
    await expect(ctrlr.getLogPage(0xd0, { size: 512 })).rejects.toBeInstanceOf(NvmeError);
  });

  it('rejects bad arguments before they reach SPDK', async () => {
    await expect(ns4k.read(qp, -1, 1)).rejects.toThrow(RangeError);
    await expect(ns4k.read(qp, 1.5, 1)).rejects.toThrow(TypeError);
    await expect(ns4k.read(qp, 0, 0)).rejects.toThrow(RangeError);
    await expect(ns4k.read(qp, 0, ctrlr.maxTransferSize / 4096 + 1)).rejects.toThrow(/maximum transfer size/);
    await expect(ns4k.write(qp, 0, Buffer.alloc(100))).rejects.toThrow(/not a whole positive number of 4096-byte blocks/);
    await expect(ns4k.write(qp, 0, 'data' as unknown as Buffer)).rejects.toThrow(TypeError);
    await expect(ns4k.writeZeroes(qp, 0, 65537)).rejects.toThrow(RangeError);
    await expect(ns4k.deallocate(qp, [])).rejects.toThrow(RangeError);
    await expect(ns4k.read({} as IoQpair, 0, 1)).rejects.toThrow(/IoQpair/);
    await expect(ctrlr.allocIoQpair({ depth: 1 })).rejects.toThrow(RangeError);
    await expect(ctrlr.allocIoQpair({ depth: ctrlr.maxQueueDepth + 1 })).rejects.toThrow(RangeError);
    await expect(ctrlr.identify(256)).rejects.toThrow(RangeError);
    await expect(ctrlr.getLogPage(2, { size: 6 })).rejects.toThrow(/multiples of 4/);
    await expect(ctrlr.getLogPage(2, { size: ctrlr.maxTransferSize + 4 })).rejects.toThrow(RangeError);
    await expect(ctrlr.adminRaw({ opc: 0x01 })).rejects.toThrow(/managed by SPDK/);
    await expect(ctrlr.adminRaw({ opc: 0x06 })).rejects.toThrow(/needs a buffer/);
    await expect(ctrlr.adminRaw({ opc: 0x0a, cdw10: -1 })).rejects.toThrow(RangeError);
  });

  it('refuses commands on a freed queue pair, and free() is idempotent', async () => {
    const q = await ctrlr.allocIoQpair();
    expect(q.id).toBeGreaterThan(0);
    await q.free();
    await q.free();
    expect(q.freed).toBe(true);
    const error = await ns512.read(q, 0, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpdkError);
    expect(error).toMatchObject({ code: 'EBADF', operation: 'ns.read' });
  });

  it('frees a queue pair only after its commands complete', async () => {
    const q = await ctrlr.allocIoQpair({ depth: 16 });
    const writes = Array.from({ length: 100 }, (_, i) => ns512.write(q, 1000 + i, Buffer.alloc(512, i)));
    const freeing = q.free();
    await Promise.all(writes);
    await freeing;
    expect((await ns512.read(qp, 1099, 1)).every((x) => x === 99)).toBe(true);
  });

  it('connects with a transport ID object, detaches, and connects again', async () => {
    // Another host NQN: another controller on the target (the same one would be shared, below).
    const hostnqn = 'nqn.2014-08.org.nvmexpress:uuid:8b1f1a52-7f7c-4bd1-9cbb-0a3c1e6f2d11';
    const second = await spdk.nvme.connect({ trtype: 'TCP', traddr: '127.0.0.1', trsvcid: target.port, subnqn: target.nqn }, { hostnqn });
    expect(second.data.sn).toBe(target.serial);
    expect(second.data.cntlid).not.toBe(ctrlr.data.cntlid);
    const q = await second.allocIoQpair();
    const [ns] = second.namespaces();
    const data = randomBytes(512);
    await ns!.write(q, 42, data);
    await second.detach();
    await second.detach();
    expect(second.detached).toBe(true);
    await expect(ns!.read(q, 42, 1)).rejects.toMatchObject({ code: 'EBADF' });
    expect(() => second.namespaces()).toThrow(/detached/);
    await expect(second.allocIoQpair()).rejects.toMatchObject({ code: 'EBADF' });

    await using third = await spdk.nvme.connect(tridOf(target), { hostnqn });
    expect(third.data.cntlid).not.toBe(second.data.cntlid);
    await using q3 = await third.allocIoQpair();
    expect((await third.namespaces()[0]!.read(q3, 42, 1)).equals(data)).toBe(true);
  });

  it('refuses a second handle to the controller (same address and host NQN) with EBUSY naming the first', async () => {
    const error = await spdk.nvme.connect(tridOf(target)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EBUSY', operation: 'nvme.connect' });
    expect((error as SpdkError).message).toMatch(/already attached in this process: an NvmeController from nvme\.connect\(\) holds it/);
    // The first handle still works.
    await ns512.write(qp, 7, Buffer.alloc(512, 7));
    expect((await ns512.read(qp, 7, 1))[0]).toBe(7);
  });

  it('fails to connect where nothing listens, with ECONNREFUSED', async () => {
    const port = await freePort();
    const error = await spdk.nvme.connect(`trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:${port} subnqn:${target.nqn}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpdkError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', operation: 'nvme.connect' });
  });

  it('fails to connect to a subsystem the target does not have', async () => {
    const error = await spdk.nvme.connect({ ...ctrlr.transportId, subnqn: 'nqn.2016-06.io.spdk:nosuch' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpdkError);
    expect((error as SpdkError).message).toMatch(/could not connect/);
  });

  it('rejects malformed transport IDs with TypeError or RangeError', async () => {
    const bad = [
      '',
      'trtype:TCP',
      'traddr:127.0.0.1 trsvcid:4420',
      'trtype:XYZ traddr:1.2.3.4 trsvcid:4420 subnqn:nqn.a',
      'trtype:TCP traddr:127.0.0.1 trsvcid:4420',
      'trtype:TCP traddr 127.0.0.1',
      'trtype:TCP traddr:127.0.0.1 trsvcid:4420 subnqn:nqn.a bogus:1',
      'trtype:TCP traddr:127.0.0.1 trsvcid:4420 subnqn:not-an-nqn',
      'trtype:TCP trtype:TCP traddr:127.0.0.1 trsvcid:4420 subnqn:nqn.a',
      'trtype:PCIe traddr:zz:00.0',
    ];
    for (const t of bad) await expect(spdk.nvme.connect(t), t).rejects.toThrow(TypeError);
    await expect(spdk.nvme.connect('trtype:TCP traddr:127.0.0.1 trsvcid:70000 subnqn:nqn.a')).rejects.toThrow(RangeError);
    await expect(spdk.nvme.connect({ trtype: 'TCP' } as never)).rejects.toThrow(/needs traddr/);
    await expect(spdk.nvme.connect(42 as never)).rejects.toThrow(TypeError);
  });

  it('parses PCIe and RDMA transport IDs', async () => {
    const { parseTransportId } = await import('../../src');
    expect(parseTransportId('trtype:pcie traddr:0000:04:00.0')).toEqual({ trtype: 'PCIe', traddr: '0000:04:00.0' });
    expect(parseTransportId('trtype=RDMA adrfam=IPv6 traddr=fe80::1 trsvcid=4420 subnqn=nqn.x')).toEqual({
      trtype: 'RDMA', adrfam: 'IPv6', traddr: 'fe80::1', trsvcid: '4420', subnqn: 'nqn.x',
    });
  });

  it('refuses NVMe-oF discovery, which SPDK does synchronously (it would stall the reactor)', async () => {
    await expect(spdk.nvme.probe({ trtype: 'TCP', traddr: '127.0.0.1', trsvcid: target.port })).rejects.toThrow(/local PCIe/);
    await expect(spdk.nvme.connect({ ...ctrlr.transportId, subnqn: DISCOVERY_NQN })).rejects.toThrow(/discovery/);
  });

  it('finds no local PCIe controllers here: an empty list', async () => {
    expect(await spdk.nvme.probe({ trtype: 'PCIe' })).toEqual([]);
    expect(await spdk.nvme.probe()).toEqual([]);
  });

  it('detaches a controller that was dropped without detach() when it is garbage-collected', async () => {
    const hostnqn = 'nqn.2014-08.org.nvmexpress:uuid:0f6b7c2e-9a55-4b43-8d0e-5a9a2b7c1d01';
    const hosts = async (): Promise<string[]> =>
      ((await spdk.rpc.call('nvmf_subsystem_get_controllers', { nqn: target.nqn })) as Array<{ hostnqn: string }>).map((c) => c.hostnqn);
    await (async () => {
      const dropped = await spdk.nvme.connect(tridOf(target), { hostnqn });
      await dropped.allocIoQpair();
    })();
    expect(await hosts()).toContain(hostnqn);
    const deadline = Date.now() + 10_000;
    while ((await hosts()).includes(hostnqn) && Date.now() < deadline) {
      forceGc();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await hosts()).not.toContain(hostnqn);
  });

  it('stops SPDK with a controller and queue pair still open, and a connect under way', async () => {
    const extra = await spdk.nvme.connect(tridOf(target), { hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:5d1e4b59-3c0e-4f37-9a4e-c2b1f0a1e7ab' });
    const q = await extra.allocIoQpair();
    const [ns] = extra.namespaces();
    const inflight = Array.from({ length: 50 }, (_, i) => ns!.write(q, i, Buffer.alloc(512, 1)));
    const connecting = spdk.nvme
      .connect(tridOf(target), { hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:5d1e4b59-3c0e-4f37-9a4e-c2b1f0a1e7aa' })
      .catch((e: unknown) => e);
    await spdk.stop();
    await Promise.all(inflight);
    expect(await connecting).toMatchObject({ code: 'ESHUTDOWN', operation: 'nvme.connect' });
    await expect(ns!.read(q, 0, 1)).rejects.toMatchObject({ code: 'ESHUTDOWN' });
    await extra.detach(); // after stop: a no-op
  });
});
