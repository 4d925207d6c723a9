// NVMe-oF path loss and return, through bdev_nvme as a user configures it: the target process is
// killed with stamped reads and writes running (Promise API and IoQueue at once), and
//   - comes back within ctrlr_loss_timeout_sec: the I/O held through the outage completes after
//     the reconnect, with no error, and every block reads back as last acknowledged;
//   - stays away past fast_io_fail_timeout_sec: the held I/O fails then (not before, and nothing
//     hangs), and I/O works again once the target is back;
//   - stays away past ctrlr_loss_timeout_sec: the controller and its bdev are deleted, the open
//     Bdev's I/O fails with ENODEV, and the instance keeps serving its other bdevs.
// The target's namespace is an aio bdev over a file, so its data outlives the process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Spdk, SpdkError, type Bdev, type RpcTypes } from '../../src';
import { describeRemote, freePort, startChildTarget, type ChildTarget, type TargetSpec } from './nvme-target';
import { mallocConfig } from './support';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { StampedBdev } = require('../../scripts/soak/load.js') as typeof import('../../scripts/soak/load.js');

const UNITS = 2048; // 8 MiB of 4 KiB units
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeRemote('NVMe-oF path lost and regained (bdev_nvme reconnect options)', () => {
  let spdk: Spdk;
  let dir: string;
  let target: TargetSpec;
  let child: ChildTarget | undefined;
  let attached = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spdk-node-pathloss-'));
    const file = join(dir, 'namespace.img');
    writeFileSync(file, Buffer.alloc(UNITS * 4096));
    target = {
      port: await freePort(),
      nqn: 'nqn.2016-06.io.spdk:pathloss',
      serial: 'PATHLOSS',
      model: 'spdk-node path loss',
      bdevs: [{ name: 'Aio0', numBlocks: UNITS * 8, blockSize: 512, file }],
    };
    [spdk, child] = await Promise.all([Spdk.start({ config: mallocConfig([{ name: 'Bystander', numBlocks: 1024, blockSize: 512 }]) }), startChildTarget(target)]);
  }, 120_000);

  afterAll(async () => {
    await child?.kill();
    await spdk?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Attaches a controller to the target with these reconnect options; opens its namespace's bdev. */
  async function attach(options: Pick<RpcTypes.BdevNvmeAttachControllerParams, 'ctrlr_loss_timeout_sec' | 'reconnect_delay_sec' | 'fast_io_fail_timeout_sec'>): Promise<{ name: string; bdev: Bdev }> {
    const name = `Lost${attached++}`;
    const bdevs = await spdk.rpc.call('bdev_nvme_attach_controller', {
      name, trtype: 'TCP', adrfam: 'IPv4', traddr: '127.0.0.1', trsvcid: String(target.port), subnqn: target.nqn, ...options,
    });
    expect(bdevs).toEqual([`${name}n1`]);
    const bdev = await spdk.openBdev(`${name}n1`, { write: true });
    await bdev.writeZeroes(0, UNITS * 4096); // every unit at generation 0, whatever an earlier test left
    return { name, bdev };
  }

  /** Runs the stamped load until `running()` turns false: 8 Promise chains and a queue of depth 16. */
  function load(stamped: InstanceType<typeof StampedBdev>, running: () => boolean): Promise<unknown> {
    const common = { maxUnits: 4, writeShare: 0.6, running };
    return Promise.all([stamped.promiseLoad(spdk, { chains: 8, ...common }), stamped.queueLoad({ depth: 16, ...common })]);
  }

  async function restartTarget(): Promise<void> {
    child = await startChildTarget(target);
  }

  /**
   * Attaches with `options`, runs the stamped load for half a second, then kills the target with
   * it running. `stopLoad()` ends the load and resolves once every I/O of it has settled.
   */
  async function killTargetUnderLoad(options: Parameters<typeof attach>[0], tag: number) {
    const { name, bdev } = await attach(options);
    const stamped = new StampedBdev(bdev, { tag, units: UNITS });
    let running = true;
    const loading = load(stamped, () => running);
    await sleep(500);
    const writesBefore = stamped.stats.writes;
    await child!.kill();
    const killedAt = performance.now();
    const stopLoad = async (): Promise<void> => {
      running = false;
      await loading;
    };
    return { name, bdev, stamped, writesBefore, killedAt, stopLoad };
  }

  it('target back within ctrlr_loss_timeout_sec: the held I/O completes after the reconnect, no error, no lost write', { timeout: 90_000 }, async () => {
    const { name, bdev, stamped, writesBefore, killedAt, stopLoad } = await killTargetUnderLoad({ ctrlr_loss_timeout_sec: 30, reconnect_delay_sec: 1 }, 1);
    await sleep(2000);
    await restartTarget();
    await sleep(3000);
    await stopLoad();
    const outageMs = performance.now() - killedAt;

    expect(stamped.errors).toEqual([]);
    expect(stamped.stats.writes).toBeGreaterThan(writesBefore); // I/O ran on after the reconnect
    // Some I/O was held through the whole outage (it did not just start after it).
    expect(stamped.stats.maxLatencyMs).toBeGreaterThan(2000);
    expect(stamped.stats.maxLatencyMs).toBeLessThan(outageMs);
    expect(stamped.mismatches).toEqual([]);
    expect(await stamped.verifyAll(spdk)).toEqual([]);
    await bdev.close();
    await spdk.rpc.call('bdev_nvme_detach_controller', { name });
  });

  it('target away past fast_io_fail_timeout_sec: held I/O fails then, and I/O works again once it is back', { timeout: 90_000 }, async () => {
    const { name, bdev, stamped, killedAt, stopLoad } = await killTargetUnderLoad({ ctrlr_loss_timeout_sec: 60, reconnect_delay_sec: 1, fast_io_fail_timeout_sec: 2 }, 2);
    // An I/O issued during the outage: held until fast-fail, then rejected.
    const error = await bdev.read(0, spdk.allocBuffer(4096)).then(() => null, (e: unknown) => e);
    const failedAfter = performance.now() - killedAt;
    await stopLoad(); // every I/O of the load settled too (with errors, during the outage)
    expect(error).toBeInstanceOf(SpdkError);
    expect((error as SpdkError).code).toBe('EIO');
    expect(failedAfter).toBeGreaterThan(1500);
    expect(failedAfter).toBeLessThan(10_000);
    expect(stamped.stats.errors).toBeGreaterThan(0);

    await restartTarget();
    // Reconnected within a few reconnect delays: reads work again, and what was acknowledged is there.
    const deadline = performance.now() + 20_000;
    for (;;) {
      try {
        await bdev.read(0, spdk.allocBuffer(4096));
        break;
      } catch (e) {
        if (performance.now() > deadline) throw e;
        await sleep(250);
      }
    }
    expect(stamped.mismatches).toEqual([]);
    expect(await stamped.verifyAll(spdk)).toEqual([]);
    await bdev.close();
    await spdk.rpc.call('bdev_nvme_detach_controller', { name });
  });

  it('target away past ctrlr_loss_timeout_sec: the controller and bdev go, open I/O fails with ENODEV, the instance serves on', { timeout: 90_000 }, async () => {
    const { name, bdev, stamped, stopLoad } = await killTargetUnderLoad({ ctrlr_loss_timeout_sec: 3, reconnect_delay_sec: 1 }, 3);
    const deadline = performance.now() + 20_000;
    while (spdk.bdevs().some((b) => b.name === `${name}n1`)) {
      if (performance.now() > deadline) throw new Error(`${name}n1 still there 20 s after its target died`);
      await sleep(200);
    }
    await stopLoad();
    expect(stamped.stats.errors).toBeGreaterThan(0);
    await expect(bdev.read(0, spdk.allocBuffer(4096))).rejects.toMatchObject({ code: 'ENODEV' });
    await bdev.close();
    expect((await spdk.rpc.call('bdev_nvme_get_controllers', {})).map((c) => c.name)).not.toContain(name);
    const bystander = await spdk.openBdev('Bystander', { write: true });
    await bystander.write(0, Buffer.alloc(512, 9));
    expect(Buffer.from(await bystander.read(0, 512))).toEqual(Buffer.alloc(512, 9));
    await bystander.close();
    await restartTarget(); // for afterAll's symmetry
  });
});
