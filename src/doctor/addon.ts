// Finding spdk-node's native addon and checking it was compiled against the same SPDK release as the
// library. SPDK's ABI changes between releases, so a mismatched pair must be refused before dlopen():
// it would not fail there, it would corrupt memory later.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readElf, readStringSymbol } from '../elf';
import type { Findings, Fixes } from './findings';
import type { LibraryReport } from './library';

/** `const char[]` in the addon naming the SPDK headers it was compiled against, e.g. `"SPDK v26.01"`. */
export const ADDON_VERSION_SYMBOL = 'spdk_node_spdk_version';
export const PREBUILD_DIR = join('prebuilds', 'linux-x64');
export const BUILD_ADDON = join('build', 'Release', 'spdk_node.node');

/** `'prebuild'`: shipped in prebuilds/linux-x64/; `'build'`: compiled here into build/Release/. */
export type AddonKind = 'prebuild' | 'build';

export interface AddonCandidate {
  path: string;
  kind: AddonKind;
  /** Its `spdk_node_spdk_version`, or null when it has none or cannot be read. */
  spdkVersion: string | null;
}

export interface AddonReport {
  /** The addon that would be loaded; null when none was found. */
  path: string | null;
  kind: AddonKind | null;
  /** The SPDK it was compiled against, e.g. `'SPDK v26.01'`. */
  spdkVersion: string | null;
  /** The libspdk_fat SONAME in its DT_NEEDED, e.g. `'libspdk_fat.so.26.01'`. */
  librarySoname: string | null;
  /** Every addon found, in preference order. */
  candidates: AddonCandidate[];
  /** The places looked, relative to the package root. */
  searched: string[];
}

/** Prebuilds first, then the local build; within prebuilds, N-API builds and glibc ones first. */
export function findAddonCandidates(root: string): AddonCandidate[] {
  const candidates: AddonCandidate[] = [];
  const prebuildDir = join(root, PREBUILD_DIR);
  let names: string[] = [];
  try {
    names = readdirSync(prebuildDir).filter((name) => name.endsWith('.node') && !name.includes('musl'));
  } catch {
    // no prebuilds shipped
  }
  const rank = (name: string): number => (name.includes('napi') ? 0 : 1);
  names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const name of names) candidates.push({ path: join(prebuildDir, name), kind: 'prebuild', spdkVersion: null });
  const built = join(root, BUILD_ADDON);
  if (existsSync(built)) candidates.push({ path: built, kind: 'build', spdkVersion: null });
  for (const candidate of candidates) {
    const version = readStringSymbol(candidate.path, ADDON_VERSION_SYMBOL);
    candidate.spdkVersion = version.ok ? version.value : null;
  }
  return candidates;
}

/** The libspdk_fat SONAME the first candidate links against, so the library search can look for it. */
export function neededLibrarySoname(candidate: AddonCandidate | undefined): string | null {
  if (!candidate) return null;
  const elf = readElf(candidate.path);
  return elf.ok ? (elf.value.needed.find((name) => name.startsWith('libspdk_fat.so')) ?? null) : null;
}

/**
 * Picks the addon to load: the first candidate built for the library's SPDK (so a matching local
 * build is used when a shipped prebuild does not match), else the first candidate, to report on.
 */
export function inspectAddon(root: string, candidates: AddonCandidate[], library: LibraryReport | null, findings: Findings, fixes: Fixes): AddonReport {
  const searched = [join(PREBUILD_DIR, '*.node'), BUILD_ADDON];
  const chosen = candidates.find((c) => library?.spdkVersion && c.spdkVersion === library.spdkVersion) ?? candidates[0];
  const report: AddonReport = { path: null, kind: null, spdkVersion: null, librarySoname: null, candidates, searched };
  const rebuild = fixes.buildAddon();
  if (!chosen) {
    // Without a library there is nothing to build the addon against; doctor.ts folds this into that fix.
    if (library !== null) findings.problem('addon-missing', `spdk-node's native addon is not built (looked for ${searched.join(' and ')} in ${root})`, rebuild);
    return report;
  }
  report.path = chosen.path;
  report.kind = chosen.kind;
  report.spdkVersion = chosen.spdkVersion;
  const shown = relative(root, chosen.path);

  const elf = readElf(chosen.path);
  if (!elf.ok) {
    findings.problem('addon-unreadable', `the native addon ${shown} cannot be used: ${elf.message}`, rebuild);
    return report;
  }
  report.librarySoname = elf.value.needed.find((name) => name.startsWith('libspdk_fat.so')) ?? null;
  if (chosen.spdkVersion === null) {
    findings.problem('addon-no-version', `the native addon ${shown} does not say which SPDK it was compiled against (no ${ADDON_VERSION_SYMBOL}): it comes from an older or foreign build`, rebuild);
    return report;
  }
  if (library?.spdkVersion && chosen.spdkVersion !== library.spdkVersion) {
    findings.problem(
      'addon-version-mismatch',
      `addon built for ${chosen.spdkVersion} but library is ${library.spdkVersion}: rebuild with \`npm run build:native\` (or reinstall) (addon ${shown}, library ${library.path})`,
      rebuild,
    );
  } else if (library?.soname && report.librarySoname && report.librarySoname !== library.soname) {
    findings.problem('addon-soname-mismatch', `the native addon ${shown} links against ${report.librarySoname} but the library is ${library.soname}`, rebuild);
  }
  return report;
}
