import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkFatLibrary } from '../../src/doctor';
import { SpdkLoadError } from '../../src/load-error';
import { loadChecked, loadNative } from '../../src/native';
import { cc, fakePackage, NO_CC_REASON } from './fake-spdk';

describe('loadNative', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('throws SpdkLoadError listing each problem and its fix instead of a dlopen error', () => {
    vi.stubEnv('SPDK_FAT_LIB', '/nonexistent/libspdk_fat.so');
    let error: unknown;
    try {
      loadNative();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpdkLoadError);
    const loadError = error as SpdkLoadError;
    expect(loadError.report.ok).toBe(false);
    expect(loadError.message).toContain('SPDK_FAT_LIB=/nonexistent/libspdk_fat.so does not exist');
    expect(loadError.message).toContain('fix: ');
  });
});

describe(cc ? 'loading a checked library and addon' : `loading a checked library and addon (${NO_CC_REASON})`, () => {
  const run = cc ? it : it.skip;

  run('preloads a library outside the loader path so the addon\'s DT_NEEDED finds it by SONAME', () => {
    // hidden-lib/ is on no search path: without the preload, dlopen of the addon fails with
    // "libspdk_fat.so.99.99: cannot open shared object file".
    const pkg = fakePackage();
    const report = checkFatLibrary({ env: { SPDK_FAT_LIB: pkg.library }, packageRoot: pkg.root, ldconfig: false, libraryDirs: [] });
    expect(report.ok).toBe(true);
    const module = loadChecked(report, pkg.root);
    expect(module.exports).toEqual({ answer: 42 });
    expect(readFileSync('/proc/self/maps', 'utf8')).toContain(pkg.libDir); // as the next test checks the opposite
  });

  run('refuses a report with problems without loading anything', () => {
    const pkg = fakePackage({ addonVersion: 'SPDK v98.98' });
    const report = checkFatLibrary({ env: { SPDK_FAT_LIB: pkg.library }, packageRoot: pkg.root, ldconfig: false, libraryDirs: [] });
    expect(() => loadChecked(report, pkg.root)).toThrow(/addon built for SPDK v98.98 but library is SPDK v99.99/);
    // Neither the library nor the addon was mapped into this process.
    const maps = readFileSync('/proc/self/maps', 'utf8');
    expect(maps).not.toContain(pkg.libDir);
    expect(maps).not.toContain(pkg.addon);
  });
});
