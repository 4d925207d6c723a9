// The published package, checked as a user meets it: the tarball `npm pack` makes, installed in a
// scratch project, loaded with require() and import(), compiled against by a TypeScript consumer,
// and judged by publint and attw (Are the Types Wrong?). Needs the npm registry for the package's
// dependencies. The install here skips install scripts; building the addon at install time is
// test/spdk/pack.test.ts.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../code-blocks';
import { installInScratchProject, node, pack, shown, type Packed } from '../packed';

const bin = (name: string): string => join(repoRoot, 'node_modules', '.bin', name);
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };

describe('the packed package', () => {
  let packed: Packed;
  let project: string;
  let installed: string;

  beforeAll(async () => {
    packed = await pack();
    project = await installInScratchProject(packed.tarball, { scripts: false });
    installed = join(project, 'node_modules', 'spdk-node');
  }, 600_000);

  it('ships what a user needs: the compiled library, its types, the addon sources, build.sh and what build.sh uses', () => {
    for (const file of ['package.json', 'README.md', 'LICENSE', 'lib/index.js', 'lib/index.d.ts', 'lib/cli.js', 'CMakeLists.txt', 'native/addon.cc',
      'build.sh', 'scripts/build-native.js', 'scripts/pkgdep.sh', 'scripts/hugepages.sh', 'scripts/fat/version.c', 'scripts/fat/smoke.c', 'examples/bdev-io.js']) {
      expect(packed.files).toContain(file);
    }
  });

  it('ships no benchmarks, image scripts, generators, tests, TypeScript sources or SPDK', () => {
    const unwanted = packed.files.filter((file) => /^(scripts\/(bench|make-base-image|verify-image|podman-flags|gen-rpc-types|setup)|test\/|src\/|spdk\/|\.ci\/|Dockerfile)/.test(file));
    expect(unwanted).toEqual([]);
  });

  it('has no source maps, and no JavaScript that points at one (src/ is not shipped)', () => {
    expect(packed.files.filter((file) => file.endsWith('.map'))).toEqual([]);
    const js = packed.files.filter((file) => file.endsWith('.js') && file.startsWith('lib/'));
    expect(js.length).toBeGreaterThan(10);
    expect(js.filter((file) => readFileSync(join(installed, file), 'utf8').includes('sourceMappingURL'))).toEqual([]);
  });

  it('publishes no @internal declarations', () => {
    const dts = packed.files.filter((file) => file.endsWith('.d.ts'));
    expect(dts.filter((file) => readFileSync(join(installed, file), 'utf8').includes('@internal'))).toEqual([]);
    // One that was @internal in src/ (Bdev's constructor takes native state) is gone from the types.
    expect(readFileSync(join(installed, 'lib', 'bdev', 'bdev.d.ts'), 'utf8')).not.toMatch(/constructor\(/);
  });

  it('installs cmake-js 8 (not 7, which pulls in about twice the packages) and the other runtime dependencies', () => {
    const cmakeJs = JSON.parse(readFileSync(join(project, 'node_modules', 'cmake-js', 'package.json'), 'utf8')) as { version: string };
    expect(cmakeJs.version).toMatch(/^8\./);
    expect(Object.keys(packageJson.dependencies).sort()).toEqual(['bindings', 'cmake-js', 'node-addon-api']);
    const packages = readdirSync(join(project, 'node_modules')).filter((name) => !name.startsWith('.'));
    expect(packages.length).toBeLessThan(60);
  });

  it('loads with require()', async () => {
    const result = await node(['-e', `const s = require('spdk-node');
      console.log(JSON.stringify([typeof s.Spdk, typeof s.RpcClient, typeof s.checkFatLibrary, require('spdk-node/package.json').version]));`], project);
    expect(result.status, shown(result)).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(['function', 'function', 'function', packageJson.version]);
  });

  it('loads with import(), named exports included', async () => {
    writeFileSync(join(project, 'esm.mjs'), `import { Spdk, SpdkError, checkFatLibrary } from 'spdk-node';
const whole = await import('spdk-node');
console.log(JSON.stringify([typeof Spdk, typeof SpdkError, typeof checkFatLibrary, whole.Spdk === Spdk]));
`);
    const result = await node(['esm.mjs'], project);
    expect(result.status, shown(result)).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(['function', 'function', 'function', true]);
  });

  it('keeps its bin: spdk-node --version', async () => {
    const result = await node([join(project, 'node_modules', 'spdk-node', 'lib', 'cli.js'), '--version'], project);
    expect(result.stdout.trim()).toBe(packageJson.version);
    expect(readFileSync(join(project, 'node_modules', '.bin', 'spdk-node'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node/);
  });

  it('type-checks a TypeScript consumer (CommonJS and ES module), and its types are real: a wrong option is an error', async () => {
    writeFileSync(join(project, 'consumer.ts'), `import { Spdk, type SpdkStartOptions, type BdevInfo } from 'spdk-node';
const options: SpdkStartOptions = { hugepages: false, memSizeMb: 512, config: { subsystems: [{ subsystem: 'bdev', config: [
  { method: 'bdev_malloc_create', params: { name: 'M0', num_blocks: 8, block_size: 512 } },
  { method: 'bdev_nvme_set_options', params: { bdev_retry_count: -1 } }] }] } };
export async function sizes(): Promise<number[]> {
  const spdk = await Spdk.start(options);
  try {
    return spdk.bdevs().map((b: BdevInfo) => b.sizeBytes);
  } finally {
    await spdk.stop();
  }
}
`);
    writeFileSync(join(project, 'consumer.mts'), `import { RpcClient, type RpcTypes } from 'spdk-node';
const params: RpcTypes.BdevMallocCreateParams = { name: 'M0', num_blocks: 8, block_size: 512 };
const client = await RpcClient.connect('/var/tmp/spdk.sock');
await client.call('bdev_malloc_create', params);
`);
    writeFileSync(join(project, 'wrong.ts'), `import { Spdk } from 'spdk-node';
void Spdk.start({ hugepages: 'maybe' });
void Spdk.start({ config: { subsystems: [{ subsystem: 'bdev', config: [{ method: 'bdev_malloc_create', params: { name: 'M0', num_blocks: 8, block_sise: 512 } }] }] } });
void Spdk.start({ config: { subsystems: [{ subsystem: 'bdev', config: [{ method: 'bdev_maloc_create', params: {} }] }] } });
`);
    const tsc = (files: string[]) => node([join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext',
      '--target', 'es2022', '--types', 'node', '--typeRoots', join(repoRoot, 'node_modules', '@types'), ...files], project, 120_000);
    const good = await tsc(['consumer.ts', 'consumer.mts']);
    expect(good.status, shown(good)).toBe(0);
    const bad = await tsc(['wrong.ts']);
    expect(bad.stdout).toMatch(/wrong\.ts\(2,\d+\): error TS2322/);
    // The start config is typed from SPDK's schema: a misspelt parameter, a misspelt method.
    expect(bad.stdout).toMatch(/wrong\.ts\(3,\d+\): error TS2322[\s\S]*'block_sise' does not exist in type 'BdevMallocCreateParams'/);
    expect(bad.stdout).toMatch(/wrong\.ts\(4,\d+\): error TS2820: Type '"bdev_maloc_create"'/);
  }, 120_000);

  it('passes publint (strict: warnings count)', async () => {
    const result = await node([bin('publint'), 'run', '--strict', packed.tarball], repoRoot, 120_000);
    expect(result.status, shown(result)).toBe(0);
    expect(result.stdout).toMatch(/All good/);
  }, 120_000);

  it('passes attw (Are the Types Wrong?) for node10, node16 CJS and ESM, and bundlers', async () => {
    const result = await node([bin('attw'), packed.tarball, '--format', 'json'], repoRoot, 120_000);
    expect(result.status, shown(result)).toBe(0);
    const report = JSON.parse(result.stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } };
    expect(report.analysis.problems).toEqual([]);
    expect(Object.keys(report.analysis.entrypoints)).toContain('.');
  }, 120_000);
});
