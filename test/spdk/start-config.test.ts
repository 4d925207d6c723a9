// A config SPDK rejects fails the start with EINVAL and SPDK's own explanation.
import { expect, it } from 'vitest';
import { Spdk } from '../../src';
import { describeSpdk } from './support';

describeSpdk('start with a config SPDK rejects', () => {
  it('rejects with EINVAL naming the failed method', async () => {
    const error = await Spdk.start({
      config: { subsystems: [{ subsystem: 'bdev', config: [{ method: 'bdev_malloc_create', params: { num_blocks: -1 } }] }] },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'SpdkError', code: 'EINVAL', operation: 'Spdk.start' });
    expect((error as Error).message).toMatch(/config/);
  });
});
