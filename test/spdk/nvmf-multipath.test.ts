// Scale-out as a user first meets it: a target reached over two network paths (two veth links
// between network namespaces on this machine), one bdev over both (bdev_nvme multipath), and one
// link taken down in the middle of stamped reads and writes. I/O must carry on over the other
// path with no error and no lost or stale write. The initiator runs in its own process inside its
// namespace (test/spdk/fixtures/multipath-initiator.js).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChild, shown as shownChild, type ChildResult } from '../child';
import { describeRemote, startChildTarget, type ChildTarget, type TargetSpec } from './nvme-target';
import { makeTwoPathNetwork, netnsUnavailable, type TwoPathNetwork } from './netns';

const fixture = join(__dirname, 'fixtures', 'multipath-initiator.js');
const unavailable = netnsUnavailable();
const describeNetns = unavailable === null ? describeRemote : (name: string, body: () => void) => describe.skip(`${name} [skipped: ${unavailable}]`, body);

interface Report {
  stats: { reads: number; writes: number; errors: number; mismatches: number; maxLatencyMs: number };
  writesBefore: number;
  errors: unknown[];
  mismatches: unknown[];
  finalMismatches: unknown[];
  pathsBefore: Array<{ traddr: string; state: string }>;
  pathsAfter: Array<{ traddr: string; state: string }>;
}

/** The initiator program in its namespace; its last stdout line is its report. */
function runInitiator(net: TwoPathNetwork, job: object): Promise<ChildResult> {
  return runChild('ip', ['netns', 'exec', net.initiator, process.execPath, fixture, JSON.stringify(job)], { timeout: 120_000 });
}

describeNetns('NVMe-oF multipath over two links, one taken down mid-I/O', () => {
  let net: TwoPathNetwork;
  let target: ChildTarget;
  let spec: TargetSpec;

  beforeAll(async () => {
    net = makeTwoPathNetwork();
    spec = {
      port: 4420,
      nqn: 'nqn.2016-06.io.spdk:multipath',
      serial: 'MULTIPATH',
      model: 'spdk-node multipath',
      bdevs: [{ name: 'Malloc0', numBlocks: 32768, blockSize: 512 }],
      traddrs: net.paths.map((p) => p.targetAddr),
      netns: net.target,
    };
    target = await startChildTarget(spec);
  }, 60_000);

  afterAll(async () => {
    await target?.kill();
    net?.remove();
  });

  it('keeps serving on the other path: no error, no lost write, every unit reads back as last written', { timeout: 150_000 }, async () => {
    const job = {
      paths: net.paths.map((p) => ({ traddr: p.targetAddr, dev: p.initiatorDev })),
      port: spec.port, nqn: spec.nqn, units: 4096, beforeS: 1.5, afterS: 8,
    };
    const run = await runInitiator(net, job);
    const shown = shownChild({ ...run, stderr: run.stderr.slice(-4000) }); // SPDK's log tail is enough
    expect(run.status, shown).toBe(0);
    const report = JSON.parse(run.stdout.trim().split('\n').pop()!) as Report;
    expect(report.pathsBefore.map((p) => p.traddr).sort(), shown).toEqual(net.paths.map((p) => p.targetAddr).sort());
    expect(report.errors, shown).toEqual([]);
    expect(report.mismatches).toEqual([]);
    expect(report.finalMismatches).toEqual([]);
    // The load ran on after the link went down (over the other path), not just before it; the
    // I/O the lost path held waited only for TCP to give up on it (about 3 s, see netns.ts).
    expect(report.stats.writes, shown).toBeGreaterThan(report.writesBefore + 100);
    expect(report.stats.maxLatencyMs).toBeLessThan(15_000);
    const after = new Map(report.pathsAfter.map((p) => [p.traddr, p.state]));
    expect(after.get(net.paths[0]!.targetAddr)).not.toBe('enabled');
    expect(after.get(net.paths[1]!.targetAddr)).toBe('enabled');
  });
});
