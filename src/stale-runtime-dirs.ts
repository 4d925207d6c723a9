// DPDK keeps a runtime directory per process (/var/run/dpdk/spdk_pid<N>, SPDK's file prefix). A
// clean stop removes it (native/runtime.cc); a process that was killed cannot. Starting SPDK
// removes such leftovers: empty directories with SPDK's prefix whose process is gone.
import { readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where DPDK puts runtime directories for this user (rte_eal's eal_get_runtime_dir). */
function runtimeBases(): string[] {
  if (process.getuid?.() === 0) return ['/var/run/dpdk'];
  const xdg = process.env['XDG_RUNTIME_DIR'];
  return [join(xdg ?? '/tmp', 'dpdk')];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, someone else's
  }
}

/** Removes empty spdk_pid<N> runtime directories of processes that are gone; returns how many. */
export function removeStaleRuntimeDirs(bases: readonly string[] = runtimeBases()): number {
  let removed = 0;
  for (const base of bases) {
    let names: string[];
    try {
      names = readdirSync(base);
    } catch {
      continue; // no such directory: nothing left behind
    }
    for (const name of names) {
      const m = /^spdk_pid(\d+)$/.exec(name);
      if (m === null || alive(Number(m[1]))) continue;
      try {
        rmdirSync(join(base, name)); // fails, and is left alone, unless empty
        removed++;
      } catch {
        // not empty, or not ours to remove
      }
    }
  }
  return removed;
}
