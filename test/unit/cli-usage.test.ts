// CLI usage errors: answered before anything starts, with exit status 2 and the usage.
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';

function capture() {
  let out = '';
  let err = '';
  return { io: { out: (t: string) => void (out += t), err: (t: string) => void (err += t) }, get out() { return out; }, get err() { return err; } };
}

describe('spdk-node usage errors', () => {
  const cases: Array<[string[], RegExp]> = [
    [['bdev', 'perf', '--config', '/x.json'], /name the bdev/],
    [['bdev', 'perf', 'B', '--config', '/x.json', '--workload', 'mixed'], /cannot read --config|--workload/],
    [['bdev', 'list'], /--config FILE .* or --rpc SOCKET/],
    [['rpc'], /name the method/],
    [['rpc', 'bdev_get_bdevs', '{nope'], /not valid JSON/],
    [['rpc', 'x', '"a string"'], /JSON object or array/],
    [['demo', '--size-mb', '0'], /--size-mb must be/],
    [['demo', '--hugepages', 'maybe'], /--hugepages must be auto, on or off/],
    [['devices', 'bind'], /name the devices .* or --all/],
    [['devices', 'bind', '0000:00:04.0', '--all'], /not both/],
    [['devices', 'bind', 'nvme0'], /'nvme0' is not a PCI address/],
    [['devices', 'bind', '--all', '--driver', 'igb_uio'], /--driver must be vfio-pci or uio_pci_generic/],
    [['devices', 'bind', '--all', '--force'], /Unknown option '--force'/],
    [['devices', 'unbind'], /name the devices/],
    [['devices', '--all'], /Unknown option '--all'/],
  ];
  for (const [argv, message] of cases) {
    it(`spdk-node ${argv.join(' ')} -> exit 2`, async () => {
      const c = capture();
      expect(await main(argv, c.io)).toBe(2);
      expect(c.err).toMatch(message);
      expect(c.err).toMatch(/Options:/);
    });
  }

  it('every command answers --help with its usage and exit status 0', async () => {
    for (const argv of [['doctor'], ['demo'], ['devices'], ['devices', 'bind'], ['devices', 'unbind'], ['bdev', 'list'], ['bdev', 'perf'], ['rpc']]) {
      const c = capture();
      expect(await main([...argv, '--help'], c.io)).toBe(0);
      expect(c.out).toMatch(/Options:/);
    }
  });

  it('the command list names the devices commands', async () => {
    const c = capture();
    expect(await main(['--help'], c.io)).toBe(0);
    expect(c.out).toMatch(/devices bind +Hand NVMe controllers to a user-space driver/);
    expect(c.out).toMatch(/devices unbind +Give NVMe controllers back/);
    expect(c.out).toMatch(/\n  devices +List the NVMe controllers/);
  });
});
