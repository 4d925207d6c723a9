// One holder per NVMe controller in a process: connect() to a controller an NvmeController (or a
// bdev_nvme controller) already holds is an EBUSY naming the holder; nvme.list() attaches
// nothing; a PCIe address SPDK cannot use is an ENODEV saying why. NVMe/TCP on loopback, target
// in this process.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Spdk, SpdkError, type NvmeController } from '../../src';
import { describeSpdk } from './support';
import { targetConfig, tridOf, type TargetSpec } from './nvme-target';

const HOST_A = 'nqn.2014-08.org.nvmexpress:uuid:5b1f3d0e-2a4c-4c1e-9d6a-0a0b0c0d0e01';
const HOST_B = 'nqn.2014-08.org.nvmexpress:uuid:5b1f3d0e-2a4c-4c1e-9d6a-0a0b0c0d0e02';
const HOST_C = 'nqn.2014-08.org.nvmexpress:uuid:5b1f3d0e-2a4c-4c1e-9d6a-0a0b0c0d0e03';

async function rejection(promise: Promise<unknown>): Promise<SpdkError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SpdkError);
  return error as SpdkError;
}

describeSpdk('NVMe controllers held by this process', () => {
  let spdk: Spdk;
  let target: TargetSpec;
  let first: NvmeController;

  beforeAll(async () => {
    // Ports 4500-4519 are this suite's (helpers running side by side each have their own range).
    target = { port: 4501, nqn: 'nqn.2016-06.io.spdk:holders', serial: 'HOLDERS01', model: 'spdk-node holders', bdevs: [{ name: 'M0', numBlocks: 2048, blockSize: 4096 }] };
    // The namespace gets a UUID and NGUID of its own: a bdev_nvme bdev over it, in this same
    // process, would otherwise clash with the malloc bdev's UUID alias.
    const config = targetConfig(target);
    for (const entry of config.subsystems.flatMap((sub) => sub.config ?? [])) {
      if (entry.method !== 'nvmf_subsystem_add_ns') continue;
      const ns = (entry.params as { namespace: Record<string, unknown> }).namespace;
      ns.uuid = '5b1f3d0e-2a4c-4c1e-9d6a-0a0b0c0d0eff';
      ns.nguid = '5B1F3D0E2A4C4C1E9D6A0A0B0C0D0EFE';
    }
    spdk = await Spdk.start({ config, hugepages: false });
    first = await spdk.nvme.connect(tridOf(target));
  });

  afterAll(async () => {
    await spdk?.stop();
  });

  it('a second connect() to a held controller is EBUSY, naming the NvmeController that holds it', async () => {
    const e = await rejection(spdk.nvme.connect(tridOf(target)));
    expect(e.code).toBe('EBUSY');
    expect(e.operation).toBe('nvme.connect');
    expect(e.message).toMatch(/trtype:TCP traddr:127\.0\.0\.1 trsvcid:4501 subnqn:nqn\.2016-06\.io\.spdk:holders is already attached in this process: an NvmeController from nvme\.connect\(\) holds it: use that object, or detach it first/);
    // The holder is untouched.
    const qp = await first.allocIoQpair();
    await first.namespaces()[0]!.write(qp, 0, Buffer.alloc(4096, 7));
    expect((await first.namespaces()[0]!.read(qp, 0, 1)).every((b) => b === 7)).toBe(true);
    await qp.free();
  });

  it('another host NQN is another controller: allowed', async () => {
    const other = await spdk.nvme.connect(tridOf(target), { hostnqn: HOST_A });
    expect(other.data.cntlid).not.toBe(first.data.cntlid);
    await other.detach();
  });

  it('after detach() the controller connects again', async () => {
    const a = await spdk.nvme.connect(tridOf(target), { hostnqn: HOST_B });
    expect((await rejection(spdk.nvme.connect(tridOf(target), { hostnqn: HOST_B }))).code).toBe('EBUSY');
    await a.detach();
    const b = await spdk.nvme.connect(tridOf(target), { hostnqn: HOST_B });
    expect(b.data.sn).toBe(target.serial);
    await b.detach();
  });

  it('two connect() calls at once: one attaches, the other is EBUSY (never two handles)', async () => {
    const results = await Promise.allSettled([spdk.nvme.connect(tridOf(target), { hostnqn: HOST_C }), spdk.nvme.connect(tridOf(target), { hostnqn: HOST_C })]);
    const ok = results.filter((r): r is PromiseFulfilledResult<NvmeController> => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toMatchObject({ code: 'EBUSY' });
    expect(String(failed[0]!.reason.message)).toMatch(/already under way|already attached/);
    await ok[0]!.value.detach();
  });

  it('a controller a bdev_nvme controller holds is EBUSY naming that bdev_nvme controller, and the bdev keeps working', async () => {
    const hostnqn = 'nqn.2014-08.org.nvmexpress:uuid:5b1f3d0e-2a4c-4c1e-9d6a-0a0b0c0d0e04';
    const [name] = await spdk.rpc.bdev_nvme_attach_controller({
      name: 'Held0', trtype: 'tcp', adrfam: 'ipv4', traddr: '127.0.0.1', trsvcid: String(target.port), subnqn: target.nqn, hostnqn,
    });
    try {
      const e = await rejection(spdk.nvme.connect(tridOf(target), { hostnqn }));
      expect(e.code).toBe('EBUSY');
      expect(e.message).toMatch(/is already attached in this process: the bdev_nvme controller 'Held0' holds it .*bdev_nvme_detach_controller\(\{ name: 'Held0' \}\)/);
      const bdev = await spdk.openBdev(name!, { write: true });
      await bdev.write(0, Buffer.alloc(4096, 9));
      expect((await bdev.read(0, 4096)).every((b) => b === 9)).toBe(true);
      await bdev.close();
    } finally {
      await spdk.rpc.bdev_nvme_detach_controller({ name: 'Held0' });
    }
  });

  it('nvme.list() attaches nothing: no PCIe controllers here, and fabrics are refused', async () => {
    expect(await spdk.nvme.list()).toEqual([]);
    await expect(spdk.nvme.list({ trtype: 'TCP', traddr: '127.0.0.1', trsvcid: target.port })).rejects.toThrow(TypeError);
  });

  it('a PCIe address that is no NVMe controller, or no device at all, is ENODEV saying so', async () => {
    const none = await rejection(spdk.nvme.connect('trtype:PCIe traddr:0000:7e:1f.7'));
    expect(none.code).toBe('ENODEV');
    expect(none.message).toMatch(/no PCI device at 0000:7e:1f\.7/);
    const bridge = await rejection(spdk.nvme.connect('trtype:PCIe traddr:0000:00:00.0'));
    expect(bridge.code).toBe('ENODEV');
    expect(bridge.message).toMatch(/not an NVMe controller/);
    expect((await rejection(spdk.nvme.probe({ trtype: 'PCIe', traddr: '0000:7e:1f.7' }))).code).toBe('ENODEV');
  });
});
