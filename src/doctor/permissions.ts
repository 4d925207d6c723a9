// Whether this process may use what SPDK needs: hugetlbfs files for DMA memory and VFIO to claim
// PCI devices. Root may do everything; anyone else needs access granted. Software-only use (malloc
// and AIO bdevs with `hugepages: false`) needs neither, so this only ever warns.
import { accessSync, constants, existsSync } from 'node:fs';
import type { Findings } from './findings';
import type { HugetlbfsMount } from './hugepages';

/** `'ok'`: usable; `'missing'`: does not exist; `'denied'`: exists but this user lacks access. */
export type AccessState = 'ok' | 'missing' | 'denied';

export interface PermissionsReport {
  uid: number;
  root: boolean;
  /** The hugetlbfs directory DPDK would create its files in (the first mount, or /dev/hugepages). */
  hugepagesDir: string;
  hugepages: AccessState;
  /** /dev/vfio, through which SPDK claims devices bound to vfio-pci. */
  vfio: AccessState;
}

function access(path: string, mode: number): AccessState {
  if (!existsSync(path)) return 'missing';
  try {
    accessSync(path, mode);
    return 'ok';
  } catch {
    return 'denied';
  }
}

export function probePermissions(mounts: readonly HugetlbfsMount[]): PermissionsReport {
  const uid = process.getuid?.() ?? -1;
  const hugepagesDir = mounts[0]?.path ?? '/dev/hugepages';
  return {
    uid,
    root: uid === 0,
    hugepagesDir,
    hugepages: access(hugepagesDir, constants.R_OK | constants.W_OK),
    vfio: access('/dev/vfio/vfio', constants.R_OK | constants.W_OK),
  };
}

export function permissionFindings(report: PermissionsReport, findings: Findings): void {
  if (report.root) return;
  const lacking = [
    ...(report.hugepages !== 'ok' ? [`${report.hugepagesDir} (${report.hugepages})`] : []),
    ...(report.vfio !== 'ok' ? [`/dev/vfio (${report.vfio})`] : []),
  ];
  if (lacking.length === 0) return;
  findings.warning(
    'permissions',
    `not running as root and no access to ${lacking.join(' and ')}: SPDK can only use ordinary memory (\`hugepages: false\`) and no PCI devices`,
    `run as root (sudo), or grant access: sudo chown -R "$(id -un)" ${report.hugepagesDir} /dev/vfio && ulimit -l unlimited`,
  );
}
