// Hugepages: DPDK allocates SPDK's DMA-able memory from hugetlbfs. Without them SPDK still runs
// (`hugepages: false`, anonymous memory, no physical devices), so shortages are warnings.
import { readdirSync, readFileSync } from 'node:fs';
import { SPDK_HUGEPAGE_MB, type Findings, type Fixes } from './findings';

export interface HugepagePool {
  pageSizeKb: number;
  /** Pages reserved (nr_hugepages). */
  total: number;
  free: number;
}

export interface HugetlbfsMount {
  path: string;
  /** From the `pagesize=` mount option; null means the default size. */
  pageSizeKb: number | null;
}

export interface HugepagesReport {
  /** Hugepagesize from /proc/meminfo; null when the kernel has no hugepage support. */
  pageSizeKb: number | null;
  /** HugePages_Total / HugePages_Free from /proc/meminfo (pages of the default size). */
  total: number;
  free: number;
  /** Every page size from /sys/kernel/mm/hugepages. */
  pools: HugepagePool[];
  /** Over all pools. */
  totalMb: number;
  freeMb: number;
  /** Where hugetlbfs is mounted (DPDK needs at least one mount). */
  mounts: HugetlbfsMount[];
  /** At least SPDK_HUGEPAGE_MB free and a mount to allocate them through. */
  enoughForSpdk: boolean;
}

/** The `Key: value` numbers of /proc/meminfo (`kB` units dropped). */
export function parseMeminfo(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(\d+)/.exec(line);
    if (match?.[1] && match[2]) values.set(match[1], Number(match[2]));
  }
  return values;
}

function sizeKb(text: string): number | null {
  const match = /^(\d+)([kKmMgG]?)/.exec(text);
  if (!match?.[1]) return null;
  const unit = (match[2] ?? '').toLowerCase();
  return Number(match[1]) * (unit === 'g' ? 1024 * 1024 : unit === 'm' ? 1024 : unit === 'k' ? 1 : 1 / 1024);
}

/** The hugetlbfs entries of /proc/mounts. */
export function parseHugetlbfsMounts(text: string): HugetlbfsMount[] {
  const mounts: HugetlbfsMount[] = [];
  for (const line of text.split('\n')) {
    const [, mountPoint, type, options = ''] = line.split(' ');
    if (type !== 'hugetlbfs' || !mountPoint) continue;
    // /proc/mounts escapes spaces and the like as octal (\040).
    const path = mountPoint.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    const option = options.split(',').find((o) => o.startsWith('pagesize='));
    mounts.push({ path, pageSizeKb: option ? sizeKb(option.slice('pagesize='.length)) : null });
  }
  return mounts;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function readPools(): HugepagePool[] {
  const base = '/sys/kernel/mm/hugepages';
  let dirs: string[] = [];
  try {
    dirs = readdirSync(base);
  } catch {
    return [];
  }
  const pools: HugepagePool[] = [];
  for (const dir of dirs) {
    const match = /^hugepages-(\d+)kB$/.exec(dir);
    if (!match?.[1]) continue;
    pools.push({
      pageSizeKb: Number(match[1]),
      total: Number(readText(`${base}/${dir}/nr_hugepages`).trim() || 0),
      free: Number(readText(`${base}/${dir}/free_hugepages`).trim() || 0),
    });
  }
  return pools.sort((a, b) => a.pageSizeKb - b.pageSizeKb);
}

/** Free megabytes in the default page size's pool (the one DPDK uses unless told otherwise). */
export function defaultPoolFreeMb(report: HugepagesReport): number {
  return (report.free * (report.pageSizeKb ?? 0)) / 1024;
}

export function probeHugepages(): HugepagesReport {
  const meminfo = parseMeminfo(readText('/proc/meminfo'));
  const pageSizeKb = meminfo.get('Hugepagesize') ?? null;
  let pools = readPools();
  if (pools.length === 0 && pageSizeKb !== null) {
    // No sysfs (some containers): meminfo still describes the default pool.
    pools = [{ pageSizeKb, total: meminfo.get('HugePages_Total') ?? 0, free: meminfo.get('HugePages_Free') ?? 0 }];
  }
  const mb = (count: (p: HugepagePool) => number): number => pools.reduce((sum, p) => sum + (count(p) * p.pageSizeKb) / 1024, 0);
  const totalMb = mb((p) => p.total);
  const freeMb = mb((p) => p.free);
  const mounts = parseHugetlbfsMounts(readText('/proc/mounts'));
  return {
    pageSizeKb,
    total: meminfo.get('HugePages_Total') ?? 0,
    free: meminfo.get('HugePages_Free') ?? 0,
    pools,
    totalMb,
    freeMb,
    mounts,
    enoughForSpdk: freeMb >= SPDK_HUGEPAGE_MB && mounts.length > 0,
  };
}

export function hugepageFindings(report: HugepagesReport, findings: Findings, fixes: Fixes): void {
  const fallback = 'or start SPDK with `hugepages: false` (it then uses about 1500 MB of ordinary memory and cannot drive PCI devices)';
  if (report.pageSizeKb === null && report.pools.length === 0) {
    findings.warning('hugepages-unsupported', `this kernel has no hugepage support; SPDK can only run with \`hugepages: false\``, 'use a kernel built with CONFIG_HUGETLBFS, or start SPDK with `hugepages: false`');
    return;
  }
  if (report.totalMb === 0) {
    findings.warning('hugepages-none', `no hugepages are reserved; SPDK needs about ${SPDK_HUGEPAGE_MB} MB of them, ${fallback}`, fixes.hugepages(report.pageSizeKb));
    return;
  }
  if (report.freeMb < SPDK_HUGEPAGE_MB) {
    const size = report.pageSizeKb ?? 2048;
    const pages = report.total + Math.ceil(((SPDK_HUGEPAGE_MB - report.freeMb) * 1024) / size);
    findings.warning('hugepages-low', `only ${report.freeMb} MB of hugepages are free (${report.totalMb} MB reserved); SPDK needs about ${SPDK_HUGEPAGE_MB} MB, ${fallback}`, fixes.hugepages(size, pages));
  }
  if (report.mounts.length === 0) {
    findings.warning('hugepages-not-mounted', 'hugepages are reserved but no hugetlbfs is mounted, so DPDK cannot allocate them', fixes.mountHugetlbfs());
  }
}
