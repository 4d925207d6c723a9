// The bdevs the benchmark runs on, as SPDK JSON config: the same config for native bdevperf and
// for spdk-node, so both paths drive identical bdevs.
'use strict';

const BLOCK_SIZE = 4096;

// null: no data at all, the pure cost of a round trip. malloc: a RAM disk (memcpy through
// SPDK's accel framework). aio/uring: a file through Linux AIO / io_uring; SPDK opens it with
// O_DIRECT (no page cache) where the filesystem allows it. The data file is on the disk (--dir);
// the -tmpfs targets use a second one in tmpfs, where every path reads memory. `fsTarget`: the
// fs.promises rows on the same file.
const TARGETS = {
  null: { bdev: 'Null0', file: false, method: 'bdev_null_create', params: () => ({ name: 'Null0', num_blocks: 1 << 20, block_size: BLOCK_SIZE }) },
  malloc: { bdev: 'Malloc0', file: false, method: 'bdev_malloc_create', params: () => ({ name: 'Malloc0', num_blocks: 65536, block_size: BLOCK_SIZE }) },
  aio: { bdev: 'Aio0', file: true, fsTarget: 'file', method: 'bdev_aio_create', params: (file) => ({ name: 'Aio0', filename: file, block_size: BLOCK_SIZE }) },
  uring: { bdev: 'Uring0', file: true, fsTarget: 'file', method: 'bdev_uring_create', params: (file) => ({ name: 'Uring0', filename: file, block_size: BLOCK_SIZE }) },
  'aio-tmpfs': { bdev: 'Aio0', file: true, fsTarget: 'tmpfs', method: 'bdev_aio_create', params: (file) => ({ name: 'Aio0', filename: file, block_size: BLOCK_SIZE }) },
  // bdev_nvme over NVMe/TCP to the bench's target (nvmf.js makes its config).
  'bdev-nvme-tcp': { bdev: 'Nvme0n1', file: false, method: null, params: null },
  'uring-tmpfs': { bdev: 'Uring0', file: true, fsTarget: 'tmpfs', method: 'bdev_uring_create', params: (file) => ({ name: 'Uring0', filename: file, block_size: BLOCK_SIZE }) },
};

/** Which data file a target reads: 'file' (--dir) or 'tmpfs'. */
function fileSetOf(target) {
  return target === 'tmpfs' ? 'tmpfs' : (TARGETS[target]?.fsTarget ?? (target === 'file' ? 'file' : null));
}

/** SPDK JSON config with the one bdev of `target` (file: the data file, for aio and uring). */
function spdkConfig(target, file) {
  const t = TARGETS[target];
  if (t === undefined) throw new Error(`unknown target '${target}'`);
  return { subsystems: [{ subsystem: 'bdev', config: [{ method: t.method, params: t.params(file) }] }] };
}

module.exports = { TARGETS, BLOCK_SIZE, spdkConfig, fileSetOf };
