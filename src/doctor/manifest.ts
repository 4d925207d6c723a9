// The manifest build.sh writes beside the library (libspdk_fat.json): which SPDK, DPDK and ISA-L
// went into it and how it was configured. The library's own version symbol is what loading relies
// on; the manifest explains a build, so a missing or stale one is a warning, never a refusal.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Findings, Fixes } from './findings';
import type { LibraryReport } from './library';

export const MANIFEST_FILE = 'libspdk_fat.json';

/** The contents of libspdk_fat.json, as build.sh writes it. */
export interface FatManifest {
  name: string;
  /** e.g. `'v26.01'`. */
  spdkVersion: string;
  /** e.g. `'SPDK v26.01'`: the same text as the library's `spdk_fat_version_string`. */
  spdkVersionString: string;
  spdkCommit: string;
  dpdkVersion: string;
  isalVersion: string;
  isalCryptoVersion: string;
  /** The `--target-arch` SPDK was configured with, e.g. `'x86-64-v2'`. */
  targetArch: string;
  configureArgs: string[];
  /** The static archives linked into the library. */
  archives: string[];
  soname: string;
  /** ISO 8601. */
  buildDate: string;
  builder: string;
}

export interface ManifestReport {
  /** Where the manifest was looked for (or found). */
  path: string;
  present: boolean;
  /** Null when absent or invalid. */
  contents: FatManifest | null;
  /** Why it could not be used, when present but invalid. */
  error: string | null;
  /** Whether its SPDK version and SONAME match the library's; null when either side is unknown. */
  agreesWithLibrary: boolean | null;
}

const STRING_FIELDS = ['name', 'spdkVersion', 'spdkVersionString', 'spdkCommit', 'dpdkVersion', 'isalVersion',
  'isalCryptoVersion', 'targetArch', 'soname', 'buildDate', 'builder'] as const;
const LIST_FIELDS = ['configureArgs', 'archives'] as const;

/** Validates parsed JSON as a manifest: the manifest, or what is wrong with it. */
export function parseManifest(json: unknown): FatManifest | string {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'it is not a JSON object';
  const record = json as Record<string, unknown>;
  for (const field of STRING_FIELDS) {
    if (typeof record[field] !== 'string') return `field "${field}" is missing or not a string`;
  }
  for (const field of LIST_FIELDS) {
    const value = record[field];
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return `field "${field}" is missing or not a list of strings`;
  }
  return record as unknown as FatManifest;
}

/** Reads the manifest beside the library (the symlink's directory first, then the real file's). */
export function inspectManifest(library: LibraryReport, findings: Findings, fixes: Fixes): ManifestReport {
  const dirs = [dirname(library.path), ...(library.realPath ? [dirname(library.realPath)] : [])];
  const path = dirs.map((dir) => join(dir, MANIFEST_FILE)).find((candidate) => existsSync(candidate)) ?? join(dirs[0] ?? '.', MANIFEST_FILE);
  const report: ManifestReport = { path, present: existsSync(path), contents: null, error: null, agreesWithLibrary: null };
  const rebuild = fixes.buildLibrary();
  if (!report.present) {
    findings.warning('manifest-missing', `${path} is missing, so the build behind ${library.path} is unknown`, rebuild);
    return report;
  }
  let parsed: FatManifest | string;
  try {
    parsed = parseManifest(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    parsed = error instanceof Error ? error.message : String(error);
  }
  if (typeof parsed === 'string') {
    report.error = parsed;
    findings.warning('manifest-invalid', `${path} cannot be used: ${parsed}`, rebuild);
    return report;
  }
  report.contents = parsed;
  if (library.spdkVersion !== null && library.soname !== null) {
    report.agreesWithLibrary = parsed.spdkVersionString === library.spdkVersion && parsed.soname === library.soname;
    if (!report.agreesWithLibrary) {
      findings.warning(
        'manifest-mismatch',
        `${path} describes ${parsed.spdkVersionString} (${parsed.soname}) but the library is ${library.spdkVersion} (${library.soname}): the library was replaced without its manifest`,
        rebuild,
      );
    }
  }
  return report;
}
