// The bench's NVMe-over-PCIe rows (npm run bench -- --pcie-vm), run by scripts/bench.js with
// vite-node: boots the rig's VM (the image scripts/vm/build-image.sh makes, as test:vm does), hands
// controller A to uio_pci_generic, and runs test/vm/guest/nvme-bench.js there pinned to the
// guest's core 1, SPDK's reactor's and spdk_nvme_perf's (that script says why). Parameters come in
// SPDK_NODE_BENCH_VM as JSON { durationS, points: [{ workload, qd }] }; the last line of stdout
// is { rows, kernel, bootMs } or { error }.
import { CTRL_A } from './layout';
import { bindInGuest, buildImage, rigUnavailable, Vm } from './vm';

// The namespace with 4 KiB blocks, so that one I/O is one block as in the other rows.
const NSID = 2;

interface Params {
  durationS: number;
  points: Array<{ workload: 'randread' | 'randwrite'; qd: number }>;
}

async function main(): Promise<unknown> {
  const params = JSON.parse(process.env.SPDK_NODE_BENCH_VM ?? '') as Params;
  const unavailable = rigUnavailable();
  if (unavailable) throw new Error(unavailable);
  const vm = await Vm.boot({ image: buildImage() });
  try {
    await bindInGuest(vm, CTRL_A.pciAddress, 'uio_pci_generic');
    const guestParams = { addr: CTRL_A.pciAddress, nsid: NSID, durationS: params.durationS, points: params.points };
    // Per point: spdk_nvme_perf and two spdk-node paths, each a warm-up second and the window.
    const timeoutMs = params.points.length * 3 * (params.durationS + 30) * 1000 + 120_000;
    const result = await vm.node<{ rows?: unknown[]; error?: { message?: string } }>('nvme-bench.js', guestParams, { timeoutMs, cpu: 1 });
    if (result.error !== undefined) throw new Error(`in the guest: ${result.error.message ?? JSON.stringify(result.error)}`);
    return { rows: result.rows, kernel: vm.kernel, bootMs: vm.bootMs };
  } finally {
    await vm.close();
  }
}

main().then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
    process.exitCode = 1;
  },
);
