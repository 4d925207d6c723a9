// Turning "SPDK failed to start" into what went wrong and what to do, from what SPDK and DPDK
// logged while starting.
import { SpdkError } from './errors';
import { Fixes } from './doctor/findings';
import { defaultPoolFreeMb, probeHugepages } from './doctor/hugepages';
import { packageRoot } from './package-root';
import { DEFAULT_NO_HUGE_MEM_MB } from './start-options';
import type { NativeStartOptions } from './addon';

interface Cause {
  test: RegExp;
  errno: number;
  explain: (o: NativeStartOptions, line: string, fixes: Fixes) => string;
}

// The package's scripts as the user can type them: `scripts/hugepages.sh` in a clone,
// `node_modules/spdk-node/scripts/hugepages.sh` from a project that installed it.
function memoryAdvice(o: NativeStartOptions, fixes: Fixes): string {
  const hugepages = `sudo ${fixes.packageFile('scripts/hugepages.sh')} 2048`;
  if (o.hugepages) {
    return `SPDK ran out of hugepage memory (${Math.floor(defaultPoolFreeMb(probeHugepages()))} MB of hugepages free now${o.memSizeMb > 0 ? `, memSizeMb ${o.memSizeMb}` : ''}). ` +
      `Reserve more with \`${hugepages}\` (SPDK with every subsystem needs about 1 GiB), ` +
      `or start without hugepages: Spdk.start({ hugepages: false, memSizeMb: ${DEFAULT_NO_HUGE_MEM_MB} })`;
  }
  return `SPDK ran out of memory with memSizeMb ${o.memSizeMb} and no hugepages. ` +
    `Raise memSizeMb (${DEFAULT_NO_HUGE_MEM_MB} is enough for every subsystem), use hugepages (${hugepages}), ` +
    `or build a lean library that leaves out the subsystems Node programs do not use (${fixes.packageFile('build.sh')} --lean)`;
}

const causes: Cause[] = [
  {
    test: /lock on core|Cannot create lock|claim.*core/i,
    errno: 16, // EBUSY
    explain: (o) => `another SPDK process holds a lock on a core in ${o.cpuMask}; pass another cpuMask, or lockCores: false`,
  },
  {
    test: /in use|Address already|bind.*fail|listen.*fail/i,
    errno: 98, // EADDRINUSE
    explain: (o, line) => `SPDK's RPC socket ${o.rpcSocket} is in use by another process (${line}); pass another rpcSocket, or rpcSocket: false`,
  },
  {
    // SPDK reports a failed subsystem initialisation as "... failed with code: -12" (ENOMEM).
    test: /(code|rc)\s*[:=]?\s*-12\b|Cannot (allocate|get|reserve).*memory|ENOMEM|out of memory|No free .*hugepages|not enough memory|Cannot init memory|mempool|Could not allocate|alloc.*fail|failed to alloc|Cannot allocate/i,
    errno: 12, // ENOMEM
    explain: (o, _line, fixes) => memoryAdvice(o, fixes),
  },
  {
    test: /json|config|Failed to load subsystems|method|Invalid parameters|does not exist|not found/i,
    errno: 22, // EINVAL
    explain: (_o, line) => `the SPDK config given to Spdk.start() was rejected: ${line}`,
  },
  {
    test: /permission|EACCES|EPERM|run as root/i,
    errno: 13, // EACCES
    explain: (_o, line) => `SPDK lacks a permission it needs (${line}); run as root, or see "Running without root" in the README`,
  },
];

export function explainStartFailure(error: SpdkError, options: NativeStartOptions, fixes: Fixes = new Fixes(packageRoot())): SpdkError {
  const log = error.log;
  for (const cause of causes) {
    const line = log.find((l) => cause.test.test(l));
    if (line !== undefined) {
      return new SpdkError(cause.explain(options, line, fixes), { operation: 'Spdk.start', errno: cause.errno, log, cause: error });
    }
  }
  const last = log.at(-1);
  // Otherwise, the errno SPDK reported ("... failed with code: -22"), if any.
  const reported = log.map((l) => /(?:code|rc)\s*[:=]?\s*-(\d+)\b/.exec(l)?.[1]).find((n) => n !== undefined);
  return new SpdkError(`SPDK failed to start${last ? `: ${last}` : ''} (see error.log for what SPDK said)`, {
    operation: 'Spdk.start',
    errno: reported !== undefined ? Number(reported) : error.errno,
    log,
    cause: error,
  });
}
