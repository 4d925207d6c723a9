// stop() with a queue's I/O in flight (found by the PCIe rig): SPDK's stop waits for the I/O, so
// every completion must reach onCompletions before stop() resolves, with the slot memory still
// readable there; afterwards buffer() is empty rather than a throw, and submit() says SPDK stopped.
import { expect, it } from 'vitest';
import { Spdk, SpdkError } from '../../src';
import { describeSpdk } from './support';

describeSpdk('stop() with queue I/O in flight', () => {
  it('delivers every completion, with readable slot memory, before it resolves', async () => {
    const spdk = await Spdk.start({
      hugepages: false,
      memSizeMb: 1024,
      config: { subsystems: [{ subsystem: 'bdev', config: [
        // A delay bdev keeps the reads in flight while stop() begins.
        { method: 'bdev_malloc_create', params: { name: 'M', num_blocks: 1024, block_size: 4096 } },
        { method: 'bdev_delay_create', params: { name: 'D', base_bdev_name: 'M', avg_read_latency: 20000, p99_read_latency: 20000, avg_write_latency: 0, p99_write_latency: 0 } },
      ] }] },
    });
    const bdev = await spdk.openBdev('D');
    const q = bdev.createQueue({ depth: 32 });
    let delivered = 0;
    let failed = 0;
    const thrown: string[] = [];
    let lengths = 0;
    q.onCompletions = (count, slots, results) => {
      for (let i = 0; i < count; i++) {
        if (results[i] === 0) delivered++;
        else failed++;
        try {
          lengths += q.buffer(slots[i]!).length;
        } catch (error) {
          thrown.push(String(error));
        }
      }
    };
    for (let s = 0; s < 32; s++) q.prepRead(s, s * 4096);
    expect(q.submit()).toBe(32);
    await spdk.stop();
    expect(thrown).toEqual([]);
    expect({ delivered, failed }).toEqual({ delivered: 32, failed: 0 });
    expect(lengths).toBe(32 * 4096);
    expect(q.buffer(0).length).toBe(0);
    q.prepRead(0, 0);
    expect(() => q.submit()).toThrow(SpdkError);
  });
});
