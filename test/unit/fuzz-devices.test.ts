// bindDevices() / unbindDevices() / listDevices() fed random selections and options (fast-check),
// over a fake machine (nothing real is bound): a result, or a TypeError / RangeError / SpdkError.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bindDevices, listDevices, unbindDevices } from '../../src/devices';
import { SpdkError } from '../../src/errors';
import { FakeMachine } from './fake-devices';

const machines: FakeMachine[] = [];
afterAll(() => {
  for (const m of machines.splice(0)) m.cleanup();
});

const wild = fc.oneof(
  fc.anything({ withBigInt: true, withNullPrototype: true, withBoxedValues: true }),
  fc.constantFrom(Symbol('s'), Number.NaN, () => 1),
);
const address = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('0000:00:04.0', '00:05.0', '0000:00:05.0', '0000:00:06.0', '0000:00:07.0', 'nvme0', '0000:00:04.0 ', '') },
  { weight: 1, arbitrary: wild },
);
const selection = fc.oneof(address, fc.array(address, { maxLength: 3 }), fc.constant({ all: true }), fc.record({ all: wild }), wild);

async function typed<T>(what: string, promise: () => Promise<T>): Promise<boolean> {
  try {
    await promise();
    return true;
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError || error instanceof SpdkError)) {
      throw new Error(`${what}: untyped error ${String(error)}`, { cause: error });
    }
    return false;
  }
}

describe('devices API with random input (fast-check)', () => {
  it('bind, unbind and list give results or typed errors', async () => {
    let ok = 0;
    await fc.assert(
      fc.asyncProperty(
        selection,
        fc.option(fc.oneof(wild, fc.record({ driver: fc.oneof(fc.constantFrom('vfio-pci', 'uio_pci_generic', 'igb_uio'), wild), user: fc.oneof(fc.constantFrom('root', 'nobody', '0', 'no-such-user-x'), wild), allowData: fc.oneof(fc.boolean(), wild), bogus: wild }, { requiredKeys: [] })), { nil: undefined }),
        fc.boolean(),
        async (sel, options, iommu) => {
          const m = new FakeMachine({ iommu });
          machines.push(m);
          m.addNvme('0000:00:04.0', { serial: 'A' });
          m.addNvme('0000:00:05.0', { serial: 'B' });
          m.mount('nvme0n1', '/');
          const o = options !== null && typeof options === 'object' ? { ...(options as object), host: m } : options;
          if (await typed('bindDevices', () => bindDevices(sel as string, o as { host: FakeMachine }))) ok++;
          await typed('unbindDevices', () => unbindDevices(sel as string, o !== null && typeof o === 'object' ? { host: m } : (o as { host: FakeMachine })));
          await typed('listDevices', async () => listDevices(o as { host: FakeMachine }));
          // The mounted root disk is never taken from the kernel, whatever was asked.
          expect(listDevices({ host: m }).find((d) => d.address === '0000:00:04.0')?.driver).toBe('nvme');
          m.cleanup();
          machines.pop();
        },
      ),
      { numRuns: 150, examples: [[{ all: true }, undefined, true], ['0000:00:05.0', { driver: 'vfio-pci' }, true]] },
    );
    expect(ok).toBeGreaterThan(0);
  }, 120_000);
});
