import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkFatLibrary, formatReport, type CheckOptions, type FatLibraryReport } from '../../src/doctor';
import { parseHugetlbfsMounts, parseMeminfo } from '../../src/doctor/hugepages';
import { parseLdconfig } from '../../src/doctor/library';
import { doctorCommand } from '../../src/cli/doctor';
import { main } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/command';
import { cc, fakeAddon, fakeFatLibrary, fakePackage, fakePackageTree, NO_CC_REASON, REQUIRED, tempDir } from './fake-spdk';
import { packageInstall } from '../../src/doctor/findings';
import { ensureCompiledLib } from '../code-blocks';

const repoRoot = join(__dirname, '..', '..');

/** A check that sees only what the test sets up: no ldconfig cache, no system directories. */
function isolated(env: Record<string, string>, packageRoot = tempDir('spdk-node-empty-')): CheckOptions {
  return { env, packageRoot, ldconfig: false, libraryDirs: [] };
}

function ids(findings: FatLibraryReport['problems']): string[] {
  return findings.map((f) => f.id);
}

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

describe('when no library is installed', () => {
  const report = checkFatLibrary(isolated({}, fakePackageTree({ gitClone: true }).root));

  it('is not ok and has the single problem "libspdk_fat.so is not installed"', () => {
    expect(report.ok).toBe(false);
    expect(report.library).toBeNull();
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]?.message).toContain('libspdk_fat.so is not installed');
  });

  it('gives the build commands as the fix (in a clone: the submodule)', () => {
    expect(report.problems[0]?.fix).toContain('git submodule update --init --recursive && sudo scripts/pkgdep.sh && sudo ./build.sh (or ./build.sh --spdk-dir DIR)');
  });
});

describe('the advice depends on where the package is', () => {
  const cloneCommand = 'git clone --depth 1 --branch v26.01 --recurse-submodules --shallow-submodules https://github.com/spdk/spdk.git';

  it('tells a clone, node_modules (npm, pnpm, nested) and anything else apart', () => {
    expect(packageInstall(fakePackageTree({ gitClone: true }).root)).toBe('clone');
    expect(packageInstall(fakePackageTree({ at: 'node_modules/spdk-node' }).root)).toBe('node_modules');
    expect(packageInstall(fakePackageTree({ at: 'node_modules/.pnpm/spdk-node@0.1.0/node_modules/spdk-node' }).root)).toBe('node_modules');
    expect(packageInstall(fakePackageTree({ at: 'node_modules/spdk-node', gitClone: true }).root)).toBe('node_modules');
    expect(packageInstall(fakePackageTree().root)).toBe('unpacked');
  });

  it('in node_modules: no git submodule; SPDK cloned at the pinned release, the shipped build.sh, npm rebuild', () => {
    const { project, root } = fakePackageTree({ at: 'node_modules/spdk-node' });
    const report = checkFatLibrary({ ...isolated({}, root), cwd: project });
    expect(report.problems).toHaveLength(1);
    const fix = report.problems[0]?.fix ?? '';
    expect(fix).not.toContain('git submodule');
    expect(fix).toBe(`${cloneCommand} && sudo node_modules/spdk-node/scripts/pkgdep.sh && sudo node_modules/spdk-node/build.sh --spdk-dir spdk`
      + ' (or --spdk-dir DIR, an SPDK v26.01 tree of your own), then npm rebuild spdk-node');
  });

  it('in node_modules, asked from elsewhere: absolute paths and a cd to the project for npm rebuild', () => {
    const { project, root } = fakePackageTree({ at: 'node_modules/.pnpm/spdk-node@0.1.0/node_modules/spdk-node' });
    const fix = checkFatLibrary({ ...isolated({}, root), cwd: tempDir() }).problems[0]?.fix ?? '';
    expect(fix).toContain(`sudo ${join(root, 'build.sh')} --spdk-dir spdk`);
    expect(fix).toContain(`sudo ${join(root, 'scripts', 'pkgdep.sh')}`);
    expect(fix).toMatch(new RegExp(`then cd ${project.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} && npm rebuild spdk-node$`));
    expect(fix).not.toContain('git submodule');
  });

  it('in a clone: the submodule, build.sh and npm run build:native, from the package directory', () => {
    const { root } = fakePackageTree({ gitClone: true });
    const fix = checkFatLibrary({ ...isolated({}, root), cwd: root }).problems[0]?.fix;
    expect(fix).toBe('git submodule update --init --recursive && sudo scripts/pkgdep.sh && sudo ./build.sh (or ./build.sh --spdk-dir DIR), then npm run build:native');
  });

  it('neither (an unpacked copy): SPDK cloned, the copy\'s own build.sh, npm run build:native there', () => {
    const { root } = fakePackageTree();
    const fix = checkFatLibrary({ ...isolated({}, root), cwd: root }).problems[0]?.fix;
    expect(fix).toBe(`${cloneCommand} && sudo scripts/pkgdep.sh && sudo ./build.sh --spdk-dir spdk (or --spdk-dir DIR, an SPDK v26.01 tree of your own), then npm run build:native`);
  });

  (cc ? it : it.skip)(`in node_modules, a mismatched addon is rebuilt with npm rebuild${cc ? '' : ` (${NO_CC_REASON})`}`, () => {
    const pkg = fakePackage({ addonVersion: 'SPDK v98.98', at: 'node_modules/spdk-node' });
    const project = join(pkg.root, '..', '..');
    const problem = checkFatLibrary({ ...isolated({ SPDK_FAT_LIB: pkg.library }, pkg.root), cwd: project }).problems.find((p) => p.id === 'addon-version-mismatch');
    expect(problem?.message).toContain('rebuild with `npm rebuild spdk-node` (or reinstall)');
    expect(problem?.fix).toBe('npm rebuild spdk-node');
  });
});

describe('SPDK_FAT_LIB', () => {
  it('pointing at a missing file is a problem, not a silent fallback', () => {
    const report = checkFatLibrary(isolated({ SPDK_FAT_LIB: '/nonexistent/libspdk_fat.so' }));
    expect(report.ok).toBe(false);
    expect(ids(report.problems)).toContain('library-missing');
    expect(report.library).toMatchObject({ foundBy: 'SPDK_FAT_LIB', exists: false });
    expect(report.problems[0]?.message).toContain('SPDK_FAT_LIB=/nonexistent/libspdk_fat.so does not exist');
    expect(report.problems[0]?.fix).toContain('SPDK_FAT_LIB');
  });

  it('pointing at a text file says it is not a shared object', () => {
    const path = join(tempDir(), 'libspdk_fat.so');
    writeFileSync(path, 'this is not a library\n');
    const report = checkFatLibrary(isolated({ SPDK_FAT_LIB: path }));
    expect(report.ok).toBe(false);
    const problem = report.problems.find((p) => p.id === 'library-not-shared-object');
    expect(problem?.message).toContain('not a shared object');
  });

  it('pointing at a directory asks for the file inside it', () => {
    const dir = tempDir();
    const report = checkFatLibrary(isolated({ SPDK_FAT_LIB: dir }));
    expect(report.problems.find((p) => p.id === 'library-not-a-file')?.fix).toBe(`export SPDK_FAT_LIB=${join(dir, 'libspdk_fat.so')}`);
  });
});

describe(cc ? 'fake libraries compiled here' : `fake libraries compiled here (${NO_CC_REASON})`, () => {
  const run = cc ? it : it.skip;

  run('a library lacking SPDK symbols is reported with the missing names', () => {
    const library = fakeFatLibrary(tempDir(), { functions: ['spdk_app_start'] });
    const report = checkFatLibrary(isolated({ SPDK_FAT_LIB: library }));
    expect(report.ok).toBe(false);
    const problem = report.problems.find((p) => p.id === 'library-missing-symbols');
    expect(problem?.message).toContain('spdk_nvmf_tgt_create');
    expect(problem?.message).not.toContain('spdk_app_start,');
    expect(problem?.fix).toContain('build.sh');
    expect(report.library?.missingSymbols).toEqual(REQUIRED.filter((s) => s !== 'spdk_app_start'));
  });

  run('a library without spdk_fat_version_string is refused', () => {
    const library = fakeFatLibrary(tempDir(), { version: null });
    const report = checkFatLibrary(isolated({ SPDK_FAT_LIB: library }));
    expect(ids(report.problems)).toContain('library-no-version');
  });

  run('a complete library with a matching addon is ok', () => {
    const pkg = fakePackage();
    const report = checkFatLibrary(isolated({ SPDK_FAT_LIB: pkg.library }, pkg.root));
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.library).toMatchObject({ spdkVersion: 'SPDK v99.99', soname: 'libspdk_fat.so.99.99', sharedObject: true, missingSymbols: [] });
    expect(report.addon).toMatchObject({ kind: 'build', spdkVersion: 'SPDK v99.99', librarySoname: 'libspdk_fat.so.99.99' });
  });

  run('an addon built for another SPDK is refused with the rebuild command', () => {
    const pkg = fakePackage({ addonVersion: 'SPDK v98.98' });
    const report = checkFatLibrary(isolated({ SPDK_FAT_LIB: pkg.library }, pkg.root));
    expect(report.ok).toBe(false);
    const problem = report.problems.find((p) => p.id === 'addon-version-mismatch');
    expect(problem?.message).toContain('addon built for SPDK v98.98 but library is SPDK v99.99: rebuild with `npm run build:native` (or reinstall)');
    expect(problem?.fix).toContain('npm run build:native');
  });

  run('an addon that does not name its SPDK is refused', () => {
    const pkg = fakePackage({ addonVersion: null });
    const report = checkFatLibrary(isolated({ SPDK_FAT_LIB: pkg.library }, pkg.root));
    expect(ids(report.problems)).toContain('addon-no-version');
  });

  run('a local build is preferred over a prebuild, and a prebuild for the right SPDK wins over a mismatched build', () => {
    const pkg = fakePackage();
    const prebuilds = join(pkg.root, 'prebuilds', 'linux-x64');
    mkdirSync(prebuilds, { recursive: true });
    fakeAddon(join(prebuilds, 'node.napi.node'), pkg.library, 'SPDK v98.98');
    const report = checkFatLibrary(isolated({ SPDK_FAT_LIB: pkg.library }, pkg.root));
    expect(report.ok).toBe(true);
    expect(report.addon.kind).toBe('build');
    expect(report.addon.candidates.map((c) => c.kind)).toEqual(['build', 'prebuild']);

    // A matching prebuild beside a matching local build: the local build (a fresh build:native) wins.
    fakeAddon(join(prebuilds, 'node.napi.node'), pkg.library, 'SPDK v99.99');
    expect(checkFatLibrary(isolated({ SPDK_FAT_LIB: pkg.library }, pkg.root)).addon.kind).toBe('build');

    // A local build for another SPDK: the matching prebuild is used.
    fakeAddon(pkg.addon, pkg.library, 'SPDK v98.98');
    expect(checkFatLibrary(isolated({ SPDK_FAT_LIB: pkg.library }, pkg.root)).addon.kind).toBe('prebuild');
  });

  run('a Debug build is found as bindings finds it', () => {
    const pkg = fakePackage();
    const debugDir = join(pkg.root, 'build', 'Debug');
    mkdirSync(debugDir, { recursive: true });
    renameSync(pkg.addon, join(debugDir, 'spdk_node.node'));
    const report = checkFatLibrary(isolated({ SPDK_FAT_LIB: pkg.library }, pkg.root));
    expect(report.ok).toBe(true);
    expect(report.addon.path).toBe(join(debugDir, 'spdk_node.node'));
  });

  run('the library is found by its SONAME in LD_LIBRARY_PATH', () => {
    const pkg = fakePackage();
    const report = checkFatLibrary(isolated({ LD_LIBRARY_PATH: `/nonexistent:${pkg.libDir}` }, pkg.root));
    expect(report.library).toMatchObject({ path: pkg.library, foundBy: 'LD_LIBRARY_PATH' });
    expect(report.ok).toBe(true);
  });

  run('a manifest that agrees is read; one that disagrees is a warning', () => {
    const pkg = fakePackage();
    const manifest = {
      name: 'libspdk_fat', spdkVersion: 'v99.99', spdkVersionString: 'SPDK v99.99', spdkCommit: '2ef883ef96e79c3cc16da02f667a7a58c2453f2f',
      dpdkVersion: '25.11.0', isalVersion: '2.31.1', isalCryptoVersion: '2.25.0', targetArch: 'x86-64-v2',
      configureArgs: ['--target-arch=x86-64-v2'], archives: ['libspdk_bdev.a'], soname: 'libspdk_fat.so.99.99',
      buildDate: '2026-11-23T07:00:00Z', builder: 'spdk-node build.sh 0.1.0',
    };
    const path = join(pkg.libDir, 'libspdk_fat.json');
    writeFileSync(path, JSON.stringify(manifest));
    const good = checkFatLibrary(isolated({ SPDK_FAT_LIB: pkg.library }, pkg.root));
    expect(good.manifest).toMatchObject({ present: true, agreesWithLibrary: true, contents: { dpdkVersion: '25.11.0' } });
    expect(ids(good.warnings)).not.toContain('manifest-mismatch');

    writeFileSync(path, JSON.stringify({ ...manifest, spdkVersionString: 'SPDK v26.01' }));
    const stale = checkFatLibrary(isolated({ SPDK_FAT_LIB: pkg.library }, pkg.root));
    expect(stale.ok).toBe(true);
    expect(ids(stale.warnings)).toContain('manifest-mismatch');
  });
});

describe('every finding', () => {
  it('comes with a fix', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'text.so'), 'text');
    const reports = [
      checkFatLibrary(isolated({})),
      checkFatLibrary(isolated({ SPDK_FAT_LIB: join(dir, 'missing.so') })),
      checkFatLibrary(isolated({ SPDK_FAT_LIB: join(dir, 'text.so') })),
      checkFatLibrary(isolated({ SPDK_FAT_LIB: dir })),
    ];
    for (const finding of reports.flatMap((r) => [...r.problems, ...r.warnings])) {
      expect(finding.fix.length, finding.id).toBeGreaterThan(5);
    }
  });
});

describe('formatReport', () => {
  it('shows the verdict, each problem and its fix', () => {
    const report = checkFatLibrary(isolated({}));
    const text = formatReport(report);
    expect(text).toContain('NOT USABLE');
    expect(text).toContain('libspdk_fat.so is not installed');
    expect(text).toContain('fix: ');
  });
});

describe('system file parsers', () => {
  it('parseLdconfig keeps x86-64 entries by name', () => {
    const cache = parseLdconfig([
      '3 libs found in cache `/etc/ld.so.cache\'',
      '\tlibspdk_fat.so.26.01 (libc6,x86-64) => /usr/local/lib/libspdk_fat.so.26.01',
      '\tlibspdk_fat.so (libc6,x86-64) => /usr/local/lib/libspdk_fat.so',
      '\tlibc.so.6 (libc6) => /lib/i386-linux-gnu/libc.so.6',
    ].join('\n'));
    expect(cache.get('libspdk_fat.so.26.01')).toEqual(['/usr/local/lib/libspdk_fat.so.26.01']);
    expect(cache.has('libc.so.6')).toBe(false);
  });

  it('parseMeminfo reads the hugepage counters', () => {
    const info = parseMeminfo('HugePages_Total:     512\nHugePages_Free:      500\nHugepagesize:       2048 kB\n');
    expect([info.get('HugePages_Total'), info.get('HugePages_Free'), info.get('Hugepagesize')]).toEqual([512, 500, 2048]);
  });

  it('parseHugetlbfsMounts finds hugetlbfs mounts and their page size', () => {
    const mounts = parseHugetlbfsMounts([
      'proc /proc proc rw,nosuid 0 0',
      'hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0',
      'nodev /mnt/huge\\0401g hugetlbfs rw,pagesize=1024M 0 0',
      'none /mnt/default hugetlbfs rw 0 0',
    ].join('\n'));
    expect(mounts).toEqual([
      { path: '/dev/hugepages', pageSizeKb: 2048 },
      { path: '/mnt/huge 1g', pageSizeKb: 1048576 },
      { path: '/mnt/default', pageSizeKb: null },
    ]);
  });
});

describe('spdk-node doctor', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('--json prints the report and exits 1 when SPDK_FAT_LIB is wrong', async () => {
    vi.stubEnv('SPDK_FAT_LIB', '/nonexistent/libspdk_fat.so');
    const io = capture();
    expect(await doctorCommand.run(['--json'], io)).toBe(1);
    const report = JSON.parse(io.stdout) as FatLibraryReport;
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.id)).toContain('library-missing');
  });

  it('prints the human report without --json', async () => {
    vi.stubEnv('SPDK_FAT_LIB', '/nonexistent/libspdk_fat.so');
    const io = capture();
    expect(await doctorCommand.run([], io)).toBe(1);
    expect(io.stdout).toContain('spdk-node doctor: NOT USABLE');
  });

  it('rejects an unknown flag with exit 2 and the usage on stderr', async () => {
    const io = capture();
    expect(await main(['doctor', '--bogus'], io)).toBe(2);
    expect(io.stderr).toContain("Unknown option '--bogus'");
    expect(io.stderr).toContain('Usage: spdk-node doctor [--json]');
    expect(io.stdout).toBe('');
  });

  it('answers --help with the command usage and exit 0', async () => {
    const io = capture();
    expect(await main(['doctor', '--help'], io)).toBe(0);
    expect(io.stdout).toContain('Usage: spdk-node doctor [--json]');
  });
});

describe('spdk-node', () => {
  it('rejects an unknown command with exit 2 and the command list on stderr', async () => {
    const io = capture();
    expect(await main(['frobnicate'], io)).toBe(2);
    expect(io.stderr).toContain('unknown command "frobnicate"');
    expect(io.stderr).toContain('doctor');
  });

  it('answers --help with the command list and exit 0', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.stdout).toContain('Usage: spdk-node <command>');
  });

  it('prints usage on stderr and exits 2 when run with no command', async () => {
    const io = capture();
    expect(await main([], io)).toBe(2);
    expect(io.stderr).toContain('Usage: spdk-node <command>');
  });

  it('lists a group\'s subcommands when only the group is named', async () => {
    const noop = async (): Promise<number> => 0;
    const commands = [
      { name: 'bdev list', summary: 'List bdevs', usage: 'bdev list', run: noop },
      { name: 'bdev perf', summary: 'Measure a bdev', usage: 'bdev perf', run: noop },
    ];
    const io = capture();
    expect(await main(['bdev'], io, commands)).toBe(2);
    expect(io.stderr).toContain('missing subcommand');
    expect(io.stderr).toContain('bdev perf');
    expect(await main(['bdev', 'perf'], capture(), commands)).toBe(0);
  });

  // The compiled executable, as users run it (lib/ compiled afresh if src/ is newer).
  const cliJs = join(repoRoot, 'lib', 'cli.js');
  it('exits non-zero as a real process when the library is unusable', () => {
    ensureCompiledLib();
    const result = spawnSync(process.execPath, [cliJs, 'doctor', '--json'], {
      cwd: repoRoot,
      env: { ...process.env, SPDK_FAT_LIB: '/nonexistent/libspdk_fat.so' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as FatLibraryReport;
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.message).join('\n')).toMatch(/nonexistent/);
  }, 60_000);
});
