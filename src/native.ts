// Loading the native addon, the only place spdk-node calls dlopen().
//
// Order matters. First the doctor checks, from the files alone, that libspdk_fat.so is complete and
// that the addon was compiled against the same SPDK release: SPDK's ABI changes between releases
// and a mismatched pair would load and then corrupt memory, so it is refused here with the fix.
// Then the checked library is preloaded by path, so that the addon's DT_NEEDED (a SONAME such as
// libspdk_fat.so.26.01) is satisfied by the very file that was checked, wherever it lives; glibc
// matches a DT_NEEDED against the SONAMEs of objects already loaded before searching any path.
import { constants } from 'node:os';
import { checkFatLibrary, type FatLibraryReport } from './doctor';
import { Fixes, type Finding } from './doctor/findings';
import { SpdkLoadError } from './load-error';
import { packageRoot } from './package-root';

/**
 * glibc's RTLD_NODELETE, which os.constants.dlopen does not list. process.dlopen() dlclose()s a
 * library that registers no Node module ("Module did not self-register"), which would unload the
 * preloaded library again at once; NODELETE keeps it mapped for the addon.
 */
const RTLD_NODELETE = 0x1000;
const PRELOAD_FLAGS = constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE;

let cached: { exports: unknown } | undefined;

function failed(report: FatLibraryReport, problem: Finding, cause: unknown): SpdkLoadError {
  return new SpdkLoadError({ ...report, ok: false, problems: [...report.problems, problem] }, { cause });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** dlopen()s the library globally; the expected "did not self-register" error means it worked. */
function preloadLibrary(path: string, report: FatLibraryReport, fixes: Fixes): void {
  try {
    process.dlopen({ exports: {} }, path, PRELOAD_FLAGS);
  } catch (error) {
    const message = messageOf(error);
    if (message.includes('did not self-register')) return;
    const missingDependency = message.includes('cannot open shared object file');
    throw failed(report, {
      id: 'library-load-failed',
      message: `${path} passed the checks but could not be loaded: ${message}`,
      fix: missingDependency ? fixes.installDependencies() : fixes.buildLibrary(),
    }, error);
  }
}

/**
 * The native addon's exports, loaded once and cached. `T` is the shape the caller expects; the
 * doctor has checked the addon's SPDK version, not its exports.
 *
 * @throws SpdkLoadError when the library or addon is missing, mismatched or fails to load; its
 *   message lists each problem with the command that fixes it. Nothing is cached on failure, so a
 *   later call (after the user fixes SPDK_FAT_LIB, say) checks again.
 */
export function loadNative<T>(): T {
  cached ??= loadChecked(checkFatLibrary({ devices: false }));
  return cached.exports as T;
}

/**
 * Loads the library and addon a doctor report found (uncached; loadNative() is the way in).
 * @internal exported for tests, which check fixtures outside the package.
 */
export function loadChecked(report: FatLibraryReport, root: string = packageRoot()): { exports: unknown } {
  if (!report.ok) throw new SpdkLoadError(report);
  const fixes = new Fixes(root);
  const library = report.library;
  if (!library?.realPath || !library.spdkVersion || !report.addon.path) {
    // ok with no library or addon would be a doctor bug; refuse rather than dlopen blindly.
    throw failed(report, { id: 'doctor-incomplete', message: 'the startup check found no library or addon to load', fix: 'npx spdk-node doctor' }, undefined);
  }
  preloadLibrary(library.realPath, report, fixes);

  // The doctor's choice first, then any other addon built for the same SPDK.
  const paths = [report.addon.path, ...report.addon.candidates.filter((c) => c.spdkVersion === library.spdkVersion).map((c) => c.path)];
  const attempts: string[] = [];
  let lastError: unknown;
  for (const path of new Set(paths)) {
    const module = { exports: {} as unknown };
    try {
      process.dlopen(module, path);
      return module;
    } catch (error) {
      lastError = error;
      attempts.push(`${path}: ${messageOf(error)}`);
    }
  }
  const undefinedSymbol = attempts.some((a) => a.includes('undefined symbol'));
  throw failed(report, {
    id: 'addon-load-failed',
    message: `the native addon failed to load after preloading ${library.realPath}; tried ${attempts.join('; ')}`
      + (undefinedSymbol ? ' (the addon and the library come from different builds)' : ''),
    fix: fixes.buildAddon(),
  }, lastError);
}
