// The soak's own checks, without SPDK: stamped units tell a correct block from a lost, stale,
// misplaced or corrupt one, and the stamped load reports a device that loses or misplaces a write.
import { describe, expect, it } from 'vitest';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { stamp, verify, UNIT } = require('../../scripts/soak/stamp.js') as { stamp: (v: Uint8Array, at: number, unit: number, gen: number, tag: number) => void; verify: (v: Uint8Array, at: number, unit: number, gen: number, tag: number) => string | null; UNIT: number };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { StampedBdev } = require('../../scripts/soak/load.js') as typeof import('../../scripts/soak/load.js');

/** A bdev in memory, with a fault: `lose` drops the n-th write, `shift` writes it one unit further on. */
function fakeBdev(units: number, fault: { lose?: number; shift?: number } = {}) {
  const data = new Uint8Array(units * UNIT);
  let writes = 0;
  return {
    name: 'Fake0',
    blockSize: 512,
    sizeBytes: data.length,
    async write(offset: number, view: Uint8Array) {
      writes++;
      if (writes === fault.lose) return;
      const at = writes === fault.shift ? offset + UNIT : offset;
      data.set(view.subarray(0, Math.min(view.length, data.length - at)), at);
    },
    async read(offset: number, into: Uint8Array) {
      into.set(data.subarray(offset, offset + into.length));
      return into;
    },
  };
}
const spdk = { allocBuffer: (n: number) => Buffer.alloc(n) };

describe('stamped units', () => {
  it('verify accepts the unit as written, and names each way it can be wrong', () => {
    const view = new Uint8Array(UNIT * 2);
    stamp(view, 1, 42, 3, 9);
    expect(verify(view, 1, 42, 3, 9)).toBeNull();
    expect(verify(view, 1, 42, 4, 9)).toMatch(/stale generation 3/);
    expect(verify(view, 1, 43, 3, 9)).toMatch(/unit 42 \(misplaced\)/);
    expect(verify(view, 1, 42, 3, 8)).toMatch(/another writer/);
    expect(verify(view, 0, 0, 1, 9)).toMatch(/lost/);
    expect(verify(view, 0, 0, 0, 9)).toBeNull();
    view[UNIT + 2000] ^= 0x10;
    expect(verify(view, 1, 42, 3, 9)).toMatch(/corrupt/);
  });
});

describe('the stamped load', () => {
  const run = async (bdev: ReturnType<typeof fakeBdev>) => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const s = new StampedBdev(bdev as never, { tag: 1, units: 64, random });
    let n = 0;
    await s.promiseLoad(spdk as never, { chains: 4, maxUnits: 4, writeShare: 0.6, running: () => n++ < 400 });
    await s.verifyAll(spdk as never);
    return s;
  };

  it('finds nothing wrong on a device that keeps every write', async () => {
    const s = await run(fakeBdev(64));
    expect(s.stats.writes).toBeGreaterThan(100);
    expect(s.mismatches).toEqual([]);
  });

  it('reports a lost write', async () => {
    const s = await run(fakeBdev(64, { lose: 50 }));
    expect(s.mismatches.length).toBeGreaterThan(0);
    expect(s.mismatches.map((m) => m.problem).join()).toMatch(/stale generation|lost/);
  });

  it('reports a misplaced write', async () => {
    const s = await run(fakeBdev(64, { shift: 50 }));
    expect(s.mismatches.map((m) => m.problem).join()).toMatch(/misplaced|stale/);
  });
});
