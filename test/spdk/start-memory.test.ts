// Too little memory at start is reported as ENOMEM with what to do, not "Subsystem initialization failed".
import { expect, it } from 'vitest';
import { Spdk } from '../../src';
import { describeSpdk } from './support';

describeSpdk('start without enough memory', () => {
  it('rejects with ENOMEM, names memSizeMb and keeps what SPDK logged', async () => {
    const error = await Spdk.start({ hugepages: false, memSizeMb: 128 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'SpdkError', code: 'ENOMEM', operation: 'Spdk.start' });
    expect((error as Error).message).toMatch(/memSizeMb 128/);
    expect((error as Error).message).toMatch(/hugepages\.sh|lean/);
    expect((error as { log: string[] }).log.join('\n')).toMatch(/-12/);
  });
});
