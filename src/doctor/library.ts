// Finding and checking libspdk_fat.so, the one shared library that holds all of SPDK, DPDK and
// ISA-L. The search follows the dynamic loader's order (LD_LIBRARY_PATH, the ldconfig cache, the
// usual directories) so that the file checked is the file that would be loaded.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EM_X86_64, readElf, readExportedSymbols, readStringSymbol, type ElfKind } from '../elf';
import type { Findings, Fixes } from './findings';

export const LIBRARY_FILE = 'libspdk_fat.so';
/** Symbols whose absence means the file is not a complete fat SPDK library. */
export const REQUIRED_SYMBOLS: readonly string[] = [
  'spdk_app_start', 'spdk_env_init', 'spdk_bdev_open_ext', 'spdk_nvme_connect',
  'spdk_nvmf_tgt_create', 'spdk_thread_send_msg', 'spdk_app_opts_init',
];
/** `const char[]` in the library naming the SPDK release it holds, e.g. `"SPDK v26.01"`. */
export const LIBRARY_VERSION_SYMBOL = 'spdk_fat_version_string';
/** Searched after LD_LIBRARY_PATH and the ldconfig cache. */
export const DEFAULT_LIBRARY_DIRS: readonly string[] = ['/usr/local/lib', '/usr/lib', '/usr/lib/x86_64-linux-gnu'];
/** Where the loader looks without being told (so a library there needs no ldconfig entry). */
const TRUSTED_DIRS: readonly string[] = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib'];

export type LibrarySource = 'SPDK_FAT_LIB' | 'LD_LIBRARY_PATH' | 'ldconfig' | 'default-dir';

export interface LibraryReport {
  /** The path as found (may be a symlink such as `/usr/local/lib/libspdk_fat.so`). */
  path: string;
  /** `path` with symlinks resolved; null when the file does not exist. */
  realPath: string | null;
  foundBy: LibrarySource;
  exists: boolean;
  readable: boolean;
  /** e.g. `'x86-64'`; null when the file is not ELF. */
  machine: string | null;
  kind: ElfKind | null;
  /** True for a 64-bit x86-64 ELF shared object. */
  sharedObject: boolean;
  soname: string | null;
  /** DT_NEEDED: the libraries it needs at run time. */
  needed: string[];
  /** DT_NEEDED entries the dynamic loader would not find. */
  unresolvedNeeded: string[];
  /** Entries of REQUIRED_SYMBOLS it does not export (all of them when it could not be read). */
  missingSymbols: string[];
  /** The value of `spdk_fat_version_string`, e.g. `'SPDK v26.01'`. */
  spdkVersion: string | null;
  /** Whether the ldconfig cache lists this file, so programs other than Node find it too. */
  inLoaderCache: boolean;
}

/** x86-64 entries of `ldconfig -p`: library file name -> paths, in the loader's order. */
export type LoaderCache = ReadonlyMap<string, readonly string[]>;

/** Parses `ldconfig -p` output, keeping the x86-64 entries. */
export function parseLdconfig(output: string): Map<string, string[]> {
  const cache = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    const match = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(.+?)\s*$/.exec(line);
    if (!match || !match[2]?.includes('x86-64')) continue;
    const [, name = '', , path = ''] = match;
    cache.set(name, [...(cache.get(name) ?? []), path]);
  }
  return cache;
}

/** The loader's cache; empty when ldconfig cannot be run (e.g. /sbin not on PATH and absent). */
export function readLoaderCache(): LoaderCache {
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      const output = execFileSync(ldconfig, ['-p'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
      return parseLdconfig(output);
    } catch {
      // try the next location
    }
  }
  return new Map();
}

export interface LibrarySearch {
  env: Readonly<Record<string, string | undefined>>;
  cache: LoaderCache;
  dirs: readonly string[];
  /** File names to look for, most specific first (the addon's DT_NEEDED SONAME, then libspdk_fat.so). */
  names: readonly string[];
}

function ldLibraryPath(env: LibrarySearch['env']): string[] {
  return (env['LD_LIBRARY_PATH'] ?? '').split(':').filter((dir) => dir !== '');
}

/** Where the library is, or null; `searched` lists every place looked, for the error message. */
export function locateLibrary(search: LibrarySearch): { found: { path: string; foundBy: LibrarySource } | null; searched: string[] } {
  const explicit = search.env['SPDK_FAT_LIB'];
  if (explicit) {
    // An explicit choice is never second-guessed: if it is wrong, that is what gets reported.
    return { found: { path: resolve(explicit), foundBy: 'SPDK_FAT_LIB' }, searched: [explicit] };
  }
  const searched: string[] = [];
  const inDirs = (dirs: readonly string[]): string | undefined => {
    for (const dir of dirs) {
      for (const name of search.names) {
        const path = join(dir, name);
        searched.push(path);
        if (existsSync(path)) return path;
      }
    }
    return undefined;
  };
  const fromEnv = inDirs(ldLibraryPath(search.env));
  if (fromEnv) return { found: { path: fromEnv, foundBy: 'LD_LIBRARY_PATH' }, searched };
  searched.push('the ldconfig cache');
  for (const name of search.names) {
    const cached = search.cache.get(name)?.find((path) => existsSync(path));
    if (cached) return { found: { path: cached, foundBy: 'ldconfig' }, searched };
  }
  const fromDirs = inDirs(search.dirs);
  return { found: fromDirs ? { path: fromDirs, foundBy: 'default-dir' } : null, searched };
}

/** Would the loader find `name` for an object living in `origin`? (An approximation of ld.so.) */
function loaderFinds(name: string, origin: string, runpath: readonly string[], search: LibrarySearch): boolean {
  if (search.cache.has(name)) return true;
  const dirs = [...ldLibraryPath(search.env), ...runpath.map((dir) => dir.replace(/\$\{?ORIGIN\}?/g, origin)), ...TRUSTED_DIRS];
  return dirs.some((dir) => existsSync(join(dir, name)));
}

/** Checks the library at `path`, recording what is wrong in `findings`. */
export function inspectLibrary(
  found: { path: string; foundBy: LibrarySource },
  search: LibrarySearch,
  findings: Findings,
  fixes: Fixes,
): LibraryReport {
  const { path, foundBy } = found;
  const report: LibraryReport = {
    path, realPath: null, foundBy, exists: false, readable: false, machine: null, kind: null, sharedObject: false,
    soname: null, needed: [], unresolvedNeeded: [], missingSymbols: [...REQUIRED_SYMBOLS], spdkVersion: null, inLoaderCache: false,
  };
  const viaEnv = foundBy === 'SPDK_FAT_LIB';
  const where = viaEnv ? `SPDK_FAT_LIB=${search.env['SPDK_FAT_LIB'] ?? path}` : path;
  const envFix = `export SPDK_FAT_LIB=/usr/local/lib/${LIBRARY_FILE} (the file build.sh installed), or unset SPDK_FAT_LIB to search the usual places`;
  const rebuild = fixes.buildLibrary();

  let stats;
  try {
    stats = statSync(path);
  } catch {
    findings.problem('library-missing', `${where} does not exist${isDanglingSymlink(path) ? ' (it is a dangling symlink)' : ''}`, viaEnv ? envFix : rebuild);
    return report;
  }
  report.exists = true;
  report.realPath = realpathSync(path);
  if (stats.isDirectory()) {
    findings.problem('library-not-a-file', `${where} is a directory, not the library file`, viaEnv ? `export SPDK_FAT_LIB=${join(path, LIBRARY_FILE)}` : rebuild);
    return report;
  }
  try {
    accessSync(path, constants.R_OK);
    report.readable = true;
  } catch {
    findings.problem('library-unreadable', `${where} is not readable by this user`, `sudo chmod a+r ${report.realPath}`);
    return report;
  }

  const elf = readElf(path);
  if (!elf.ok) {
    const what = elf.reason === 'not-elf' ? 'is not a shared object (not an ELF file)'
      : elf.reason === 'truncated' ? 'is truncated (an interrupted build or copy)'
        : `is not a usable shared object: ${elf.message}`;
    findings.problem('library-not-shared-object', `${where} ${what}`, viaEnv ? envFix : rebuild);
    return report;
  }
  const info = elf.value;
  Object.assign(report, { machine: info.machineName, kind: info.kind, soname: info.soname, needed: info.needed });
  if (info.machine !== EM_X86_64) {
    findings.problem('library-wrong-architecture', `${where} is built for ${info.machineName}; spdk-node needs x86-64`, viaEnv ? envFix : rebuild);
    return report;
  }
  if (info.kind !== 'shared-object') {
    findings.problem('library-not-shared-object', `${where} is not a shared object (it is an ELF ${info.kind})`, viaEnv ? envFix : rebuild);
    return report;
  }
  report.sharedObject = true;
  report.inLoaderCache = [...search.cache.values()].some((paths) => paths.some((p) => safeRealpath(p) === report.realPath));

  const exported = readExportedSymbols(path, REQUIRED_SYMBOLS);
  if (!exported.ok) {
    findings.problem('library-not-shared-object', `${where} has an unreadable symbol table: ${exported.message}`, viaEnv ? envFix : rebuild);
    return report;
  }
  const have = new Set(exported.value.map((s) => s.name));
  report.missingSymbols = REQUIRED_SYMBOLS.filter((name) => !have.has(name));
  if (report.missingSymbols.length > 0) {
    findings.problem(
      'library-missing-symbols',
      `${where} does not export ${report.missingSymbols.join(', ')}: it is not a complete libspdk_fat.so from spdk-node's build.sh`,
      viaEnv ? `${envFix}; or rebuild it: ${rebuild}` : rebuild,
    );
  }
  const version = readStringSymbol(path, LIBRARY_VERSION_SYMBOL);
  if (version.ok) {
    report.spdkVersion = version.value;
  } else {
    findings.problem('library-no-version', `${where} does not say which SPDK it holds (${version.message}), so the addon cannot be checked against it`, rebuild);
  }

  const origin = dirname(report.realPath);
  report.unresolvedNeeded = info.needed.filter((name) => !loaderFinds(name, origin, info.runpath, search));
  if (report.unresolvedNeeded.length > 0) {
    // A warning, not a problem: this imitates ld.so and could be wrong; loading reports the truth.
    findings.warning('library-dependencies-missing', `${path} needs ${report.unresolvedNeeded.join(', ')}, which the dynamic loader may not find`, fixes.installDependencies());
  }
  if (!report.inLoaderCache && !TRUSTED_DIRS.includes(dirname(path)) && foundBy !== 'SPDK_FAT_LIB' && foundBy !== 'LD_LIBRARY_PATH') {
    findings.warning('library-not-in-loader-cache', `${path} is not in the dynamic loader's cache: spdk-node preloads it, but other programs will not find it`, 'sudo ldconfig');
  }
  return report;
}

function safeRealpath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

function isDanglingSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
