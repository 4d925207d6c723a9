// The startup check: is libspdk_fat.so installed and whole, is the native addon built against the
// same SPDK release, and is the machine set up for SPDK? It reads files only (ELF headers, /proc,
// /sys) and loads nothing, so it can refuse a mismatched library before dlopen() could crash on it.
// loadNative() runs it before every first load; `spdk-node doctor` prints it.
import { availableParallelism } from 'node:os';
import { packageRoot } from './package-root';
import { findAddonCandidates, inspectAddon, neededLibrarySoname, type AddonReport } from './doctor/addon';
import { Findings, Fixes, type Finding } from './doctor/findings';
import { hugepageFindings, probeHugepages, type HugepagesReport } from './doctor/hugepages';
import {
  DEFAULT_LIBRARY_DIRS, LIBRARY_FILE, REQUIRED_SYMBOLS, inspectLibrary, locateLibrary, readLoaderCache,
  type LibraryReport, type LoaderCache,
} from './doctor/library';
import { inspectManifest, type ManifestReport } from './doctor/manifest';
import { permissionFindings, probePermissions, type PermissionsReport } from './doctor/permissions';

export type { AddonCandidate, AddonKind, AddonReport } from './doctor/addon';
export type { Finding } from './doctor/findings';
export type { HugepagePool, HugepagesReport, HugetlbfsMount } from './doctor/hugepages';
export type { LibraryReport, LibrarySource } from './doctor/library';
export type { FatManifest, ManifestReport } from './doctor/manifest';
export type { AccessState, PermissionsReport } from './doctor/permissions';
export { ADDON_VERSION_SYMBOL } from './doctor/addon';
export { SPDK_HUGEPAGE_MB } from './doctor/findings';
export { LIBRARY_VERSION_SYMBOL, REQUIRED_SYMBOLS } from './doctor/library';

export interface CoresReport {
  /** os.availableParallelism(): the CPUs this process may run on. */
  available: number;
}

export interface FatLibraryReport {
  /** True when spdk-node can be loaded: there are no problems (warnings may remain). */
  ok: boolean;
  /** The library checked; null when none was found. */
  library: LibraryReport | null;
  /** libspdk_fat.json beside the library; null when there is no library. */
  manifest: ManifestReport | null;
  addon: AddonReport;
  hugepages: HugepagesReport;
  permissions: PermissionsReport;
  cores: CoresReport;
  /** What prevents loading, each with its fix. */
  problems: Finding[];
  /** What will limit or hurt SPDK once loaded, each with its fix. */
  warnings: Finding[];
}

export interface CheckOptions {
  /** Environment to read SPDK_FAT_LIB and LD_LIBRARY_PATH from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where to look for the addon (prebuilds/, build/); default the spdk-node package. */
  packageRoot?: string;
  /** Directories searched after LD_LIBRARY_PATH and the ldconfig cache. */
  libraryDirs?: readonly string[];
  /** Consult `ldconfig -p`; default true. */
  ldconfig?: boolean;
  /** The directory the fix commands are written for (`cd` and relative paths); default `process.cwd()`. */
  cwd?: string;
}

/** Checks the SPDK library, the addon and the machine. Synchronous; never throws for a bad install. */
export function checkFatLibrary(options: CheckOptions = {}): FatLibraryReport {
  const env = options.env ?? process.env;
  const root = options.packageRoot ?? packageRoot();
  const findings = new Findings();
  const fixes = new Fixes(root, options.cwd);
  const cache: LoaderCache = options.ldconfig === false ? new Map() : readLoaderCache();

  // The addon names the exact SONAME it needs; look for that file first, as the loader would.
  const candidates = findAddonCandidates(root);
  const soname = neededLibrarySoname(candidates[0]);
  const search = {
    env, cache, dirs: options.libraryDirs ?? DEFAULT_LIBRARY_DIRS,
    names: soname && soname !== LIBRARY_FILE ? [soname, LIBRARY_FILE] : [LIBRARY_FILE],
  };
  const { found, searched } = locateLibrary(search);
  const library = found ? inspectLibrary(found, search, findings, fixes) : null;
  const manifest = library?.sharedObject ? inspectManifest(library, findings, fixes) : null;
  const addon = inspectAddon(root, candidates, library, findings, fixes);
  if (!found) {
    const thenAddon = addon.path === null ? `, then ${fixes.buildAddon()}` : '';
    findings.problems.unshift({
      id: 'library-missing',
      message: `${LIBRARY_FILE} is not installed (searched ${searched.join(', ')})`,
      fix: fixes.buildLibrary() + thenAddon,
    });
  }

  const hugepages = probeHugepages();
  hugepageFindings(hugepages, findings, fixes);
  const permissions = probePermissions(hugepages.mounts);
  permissionFindings(permissions, findings);
  const cores = { available: availableParallelism() };
  if (cores.available < 2) {
    findings.warning('cores-few', `only ${cores.available} CPU is available: SPDK's reactor polls its core continuously and will starve Node.js`, 'run on a machine (or cgroup/taskset) with at least 2 CPUs');
  }

  return {
    ok: findings.problems.length === 0,
    library, manifest, addon, hugepages, permissions, cores,
    problems: findings.problems,
    warnings: findings.warnings,
  };
}

function describeLibrary(library: LibraryReport | null): string[] {
  if (!library) return ['not found'];
  const lines = [`${library.path}${library.realPath && library.realPath !== library.path ? ` -> ${library.realPath}` : ''} (via ${library.foundBy})`];
  if (library.sharedObject) {
    const required = REQUIRED_SYMBOLS.length;
    const symbols = `${required - library.missingSymbols.length}/${required} required symbols`;
    lines.push(`${library.spdkVersion ?? 'unknown SPDK version'}, soname ${library.soname ?? 'none'}, ${symbols}`);
  }
  return lines;
}

function describeManifest(manifest: ManifestReport | null): string[] {
  if (!manifest) return ['-'];
  const m = manifest.contents;
  if (!m) return [`${manifest.path}: ${manifest.present ? `invalid (${manifest.error ?? ''})` : 'missing'}`];
  return [
    `${m.spdkVersionString} (${m.spdkCommit.slice(0, 12)}), DPDK ${m.dpdkVersion}, ISA-L ${m.isalVersion}, ${m.targetArch}`,
    `built ${m.buildDate} by ${m.builder}`,
  ];
}

function describeAddon(addon: AddonReport): string[] {
  if (!addon.path) return [`not built (looked for ${addon.searched.join(', ')})`];
  return [`${addon.kind} ${addon.path}, built for ${addon.spdkVersion ?? 'an unknown SPDK'}`];
}

function describeHugepages(h: HugepagesReport): string[] {
  const size = (kb: number): string => (kb >= 1048576 ? `${kb / 1048576} GB` : kb >= 1024 ? `${kb / 1024} MB` : `${kb} kB`);
  const pools = h.pools.map((p) => `${p.free}/${p.total} free of ${size(p.pageSizeKb)}`);
  const mounts = h.mounts.length > 0 ? `mounted at ${h.mounts.map((m) => m.path).join(', ')}` : 'hugetlbfs not mounted';
  return [`${h.freeMb} of ${h.totalMb} MB free (${pools.join('; ') || 'no pools'}), ${mounts}`];
}

/** The report as text for a terminal. */
export function formatReport(report: FatLibraryReport): string {
  const verdict = report.ok ? 'ready' : 'NOT USABLE';
  const counts = `${report.problems.length} problem(s), ${report.warnings.length} warning(s)`;
  const p = report.permissions;
  const rows: Array<[string, string[]]> = [
    ['library', describeLibrary(report.library)],
    ['manifest', describeManifest(report.manifest)],
    ['addon', describeAddon(report.addon)],
    ['hugepages', describeHugepages(report.hugepages)],
    ['access', [p.root ? 'root' : `uid ${p.uid}: ${p.hugepagesDir} ${p.hugepages}, /dev/vfio ${p.vfio}`]],
    ['cores', [String(report.cores.available)]],
  ];
  const out = [`spdk-node doctor: ${verdict} (${counts})`, ''];
  for (const [label, lines] of rows) {
    lines.forEach((line, i) => out.push(`${(i === 0 ? label : '').padEnd(11)}${line}`));
  }
  const list = (title: string, items: Finding[]): void => {
    if (items.length === 0) return;
    out.push('', `${title}:`);
    for (const item of items) out.push(`  - ${item.message}`, `    fix: ${item.fix}`);
  };
  list('Problems', report.problems);
  list('Warnings', report.warnings);
  return out.join('\n') + '\n';
}
