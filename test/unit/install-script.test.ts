// scripts/build-native.js, the package's install script, where there is no library to build against:
// it must not fail the install, and its advice depends on where the package is (a clone has the
// submodule; an installed package ships build.sh and is rebuilt with npm rebuild).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../code-blocks';

/** A package tree at `<temp>/<at>` holding only the install script; the temp directory is the project. */
function tree(at: string, gitClone = false): { project: string; root: string } {
  const project = mkdtempSync(join(tmpdir(), 'spdk-node-install-'));
  const root = join(project, at);
  mkdirSync(join(root, 'scripts'), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{"name":"spdk-node"}\n');
  copyFileSync(join(repoRoot, 'scripts', 'build-native.js'), join(root, 'scripts', 'build-native.js'));
  if (gitClone) mkdirSync(join(root, '.git'));
  return { project, root };
}

/** Runs the install script as npm would (cwd the package, INIT_CWD the project) with pkg-config finding nothing. */
function install(root: string, project: string, args: string[] = ['--if-possible']) {
  return spawnSync(process.execPath, [join(root, 'scripts', 'build-native.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, INIT_CWD: project, PKG_CONFIG_LIBDIR: '/nonexistent', PKG_CONFIG_PATH: '' },
  });
}

describe('the install script without the library', () => {
  it('in node_modules: exits 0 (the install goes on) and says to clone SPDK, run the shipped build.sh, then npm rebuild', () => {
    const { project, root } = tree('node_modules/spdk-node');
    const result = install(root, project);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('libspdk_fat.so is not installed');
    expect(result.stdout).toContain('git clone --depth 1 --branch v26.01 --recurse-submodules --shallow-submodules https://github.com/spdk/spdk.git');
    expect(result.stdout).toContain('sudo node_modules/spdk-node/scripts/pkgdep.sh && sudo node_modules/spdk-node/build.sh --spdk-dir spdk');
    expect(result.stdout).toContain('then build the addon: npm rebuild spdk-node');
    expect(result.stdout).not.toContain('git submodule');
  });

  it('in a clone: the submodule, build.sh and npm run build:native', () => {
    const { project, root } = tree('spdk-node', true);
    const result = install(root, project);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('git submodule update --init --recursive && sudo scripts/pkgdep.sh && sudo ./build.sh');
    expect(result.stdout).toContain('npm run build:native');
  });

  it('asked to build (npm run build:native), fails with exit 1 and the advice on stderr', () => {
    const { project, root } = tree('node_modules/spdk-node');
    const result = install(root, project, []);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('libspdk_fat.so is not installed');
    expect(result.stderr).toContain('npm rebuild spdk-node');
  });
});
