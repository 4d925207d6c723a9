// The npm install path with the library installed: `npm install` of the packed tarball runs the
// package's install script, which builds the addon with cmake-js against libspdk_fat.so inside
// node_modules/spdk-node; the installed package then passes its doctor and starts SPDK.
// (The package's shape, without SPDK, is test/unit/pack.test.ts.) Needs the npm registry.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { runChild } from '../child';
import { installInScratchProject, node, pack, shown, type Packed } from '../packed';
import { describeSpdk } from './support';

let packed: Promise<Packed> | undefined;
const tarball = async (): Promise<string> => (await (packed ??= pack())).tarball;

describeSpdk('npm install spdk-node where the library is installed', () => {
  let project: string;

  beforeAll(async () => {
    project = await installInScratchProject(await tarball(), { scripts: true });
  }, 900_000);

  it('builds the addon in node_modules/spdk-node/build/Release', () => {
    expect(existsSync(join(project, 'node_modules', 'spdk-node', 'build', 'Release', 'spdk_node.node'))).toBe(true);
  });

  it('the installed package\'s doctor finds the library and that addon, and is ready', async () => {
    const result = await node([join(project, 'node_modules', 'spdk-node', 'lib', 'cli.js'), 'doctor', '--json'], project);
    expect(result.status, shown(result)).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; addon: { kind: string; path: string } };
    expect(report.ok).toBe(true);
    expect(report.addon.kind).toBe('build');
    expect(report.addon.path).toBe(join(project, 'node_modules', 'spdk-node', 'build', 'Release', 'spdk_node.node'));
  });

  it('starts SPDK from the installed package, writes and reads a malloc bdev, and stops', async () => {
    const script = `const { Spdk } = require('spdk-node');
(async () => {
  const spdk = await Spdk.start({ hugepages: false, memSizeMb: 1536, config: { subsystems: [{ subsystem: 'bdev', config: [
    { method: 'bdev_malloc_create', params: { name: 'M0', num_blocks: 256, block_size: 4096 } }] }] } });
  try {
    const bdev = await spdk.openBdev('M0', { write: true });
    await bdev.write(4096, Buffer.alloc(4096, 7));
    const back = await bdev.read(4096, 4096);
    console.log(JSON.stringify({ version: spdk.version, same: back.equals(Buffer.alloc(4096, 7)) }));
  } finally {
    await spdk.stop();
  }
})().catch((e) => { console.error(e); process.exitCode = 1; });`;
    const result = await node(['-e', script], project, 90_000);
    expect(result.status, shown(result)).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').pop() ?? '')).toEqual({ version: expect.stringMatching(/^v\d+\.\d+/), same: true });
  }, 120_000);
});

describeSpdk('npm install spdk-node before the library, then npm rebuild spdk-node (the README\'s order)', () => {
  let project: string;
  let addon: string;
  // pkg-config looks nowhere: to the install script, libspdk_fat.so is not installed yet.
  const withoutLibrary = { ...process.env, PKG_CONFIG_LIBDIR: '/nonexistent', PKG_CONFIG_PATH: '' };

  beforeAll(async () => {
    project = await installInScratchProject(await tarball(), { scripts: true, env: withoutLibrary });
    addon = join(project, 'node_modules', 'spdk-node', 'build', 'Release', 'spdk_node.node');
  }, 900_000);

  it('installs without the addon, and the doctor says to run npm rebuild spdk-node (no git submodule)', async () => {
    expect(existsSync(addon)).toBe(false);
    const result = await node([join(project, 'node_modules', 'spdk-node', 'lib', 'cli.js'), 'doctor', '--json'], project);
    const report = JSON.parse(result.stdout) as { ok: boolean; problems: Array<{ id: string; fix: string }> };
    expect(report.ok).toBe(false);
    expect(report.problems.find((p) => p.id === 'addon-missing')?.fix).toBe('npm rebuild spdk-node');
    expect(JSON.stringify(report.problems)).not.toContain('git submodule');
  });

  it('npm rebuild spdk-node then builds the addon, and the package is ready', async () => {
    const rebuild = await runChild('npm', ['rebuild', 'spdk-node', '--foreground-scripts'], { cwd: project, timeout: 600_000 });
    expect(rebuild.status, shown(rebuild)).toBe(0);
    expect(existsSync(addon)).toBe(true);
    const doctor = await node([join(project, 'node_modules', 'spdk-node', 'lib', 'cli.js'), 'doctor'], project);
    expect(doctor.status, shown(doctor)).toBe(0);
    expect(doctor.stdout).toMatch(/^spdk-node doctor: ready/);
  }, 600_000);
});
