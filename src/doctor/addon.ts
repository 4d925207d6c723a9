// Finding spdk-node's native addon and checking it was compiled against the same SPDK release as the
// library. SPDK's ABI changes between releases, so a mismatched pair must be refused before dlopen():
// it would not fail there, it would corrupt memory later.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import bindings from 'bindings';
import { readElf, readStringSymbol } from '../elf';
import type { Findings, Fixes } from './findings';
import type { LibraryReport } from './library';

/** `const char[]` in the addon naming the SPDK headers it was compiled against, e.g. `"SPDK v26.01"`. */
export const ADDON_VERSION_SYMBOL = 'spdk_node_spdk_version';
export const PREBUILD_DIR = join('prebuilds', 'linux-x64');
/** The addon's file name in a local build (cmake-js: build/Release/ or build/Debug/). */
export const ADDON_FILE = 'spdk_node.node';
/** How the places a local build is looked for are shown: `bindings` tries build/, build/Debug/, build/Release/ and the rest. */
export const BUILD_ADDON = join('build', '{,Debug,Release}', ADDON_FILE);

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

/**
 * The local build first, found the conventional way (`bindings`, which tries build/, build/Debug/,
 * build/Release/...), then the prebuilds shipped in prebuilds/linux-x64/ (N-API builds and glibc ones
 * first). A fresh `npm run build:native` is thus used rather than an older prebuild beside it.
 */
export function findAddonCandidates(root: string): AddonCandidate[] {
  const candidates: AddonCandidate[] = [];
  const built = localBuild(root);
  if (built !== null) candidates.push({ path: built, kind: 'build', spdkVersion: null });
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
  for (const candidate of candidates) {
    const version = readStringSymbol(candidate.path, ADDON_VERSION_SYMBOL);
    candidate.spdkVersion = version.ok ? version.value : null;
  }
  return candidates;
}

/** Where `bindings` finds the locally built addon under `root` (without loading it), or null. */
function localBuild(root: string): string | null {
  // `path: true` (not in @types/bindings) makes bindings return the file it found instead of loading it.
  const options: bindings.Options & { path: boolean } = { bindings: ADDON_FILE, module_root: root, path: true };
  try {
    return bindings(options) as string;
  } catch {
    return null; // bindings throws "Could not locate the bindings file" when there is none
  }
}

/** The libspdk_fat SONAME the first candidate links against, so the library search can look for it. */
export function neededLibrarySoname(candidate: AddonCandidate | undefined): string | null {
  if (!candidate) return null;
  const elf = readElf(candidate.path);
  return elf.ok ? (elf.value.needed.find((name) => name.startsWith('libspdk_fat.so')) ?? null) : null;
}

/**
 * Picks the addon to load: the first candidate built for the library's SPDK (the local build when it
 * matches, else a prebuild that does), else the first candidate, to report on.
 */
export function inspectAddon(root: string, candidates: AddonCandidate[], library: LibraryReport | null, findings: Findings, fixes: Fixes): AddonReport {
  const searched = [BUILD_ADDON, join(PREBUILD_DIR, '*.node')];
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
      `addon built for ${chosen.spdkVersion} but library is ${library.spdkVersion}: rebuild with \`${fixes.addonCommand()}\` (or reinstall) (addon ${shown}, library ${library.path})`,
      rebuild,
    );
  } else if (library?.soname && report.librarySoname && report.librarySoname !== library.soname) {
    findings.problem('addon-soname-mismatch', `the native addon ${shown} links against ${report.librarySoname} but the library is ${library.soname}`, rebuild);
  }
  return report;
}
