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
    for (const argv of [['doctor'], ['demo'], ['bdev', 'list'], ['bdev', 'perf'], ['rpc']]) {
      const c = capture();
      expect(await main([...argv, '--help'], c.io)).toBe(0);
      expect(c.out).toMatch(/Options:/);
    }
  });
});
