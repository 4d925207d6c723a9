// Builds stand-ins for libspdk_fat.so and the addon with the system C compiler, so the doctor and
// the loader can be tested without SPDK. Tests that need them skip, saying why, when there is no cc.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function findCc(): string | null {
  for (const cc of ['cc', 'gcc', 'clang']) {
    try {
      execFileSync(cc, ['--version'], { stdio: 'ignore' });
      return cc;
    } catch {
      // try the next one
    }
  }
  return null;
}

/** The C compiler, or null when there is none (the tests that need it skip). */
export const cc = findCc();
export const NO_CC_REASON = 'skipped: no C compiler (cc, gcc or clang) on PATH';

export const REQUIRED = ['spdk_app_start', 'spdk_env_init', 'spdk_bdev_open_ext', 'spdk_nvme_connect',
  'spdk_nvmf_tgt_create', 'spdk_thread_send_msg', 'spdk_app_opts_init'];

export function tempDir(prefix = 'spdk-node-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Compiles C source into a shared object at `output`; `extra` are further cc arguments (libraries). */
export function compileSharedObject(output: string, source: string, extra: readonly string[] = []): string {
  if (!cc) throw new Error(NO_CC_REASON);
  const file = `${output}.c`;
  writeFileSync(file, source);
  execFileSync(cc, ['-shared', '-fPIC', '-O0', '-o', output, file, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  return output;
}

export interface FakeLibraryOptions {
  /** The `spdk_fat_version_string`; null leaves it out. */
  version?: string | null;
  /** Functions to define; default all required ones. */
  functions?: readonly string[];
  soname?: string;
}

/** A libspdk_fat look-alike in `dir`, named after its SONAME; `spdk_app_start` returns 42. */
export function fakeFatLibrary(dir: string, options: FakeLibraryOptions = {}): string {
  const { version = 'SPDK v99.99', functions = REQUIRED, soname = 'libspdk_fat.so.99.99' } = options;
  const source = [
    version === null ? '' : `const char spdk_fat_version_string[] = ${JSON.stringify(version)};`,
    ...functions.map((name) => `int ${name}(void) { return 42; }`),
  ].join('\n');
  mkdirSync(dir, { recursive: true });
  return compileSharedObject(join(dir, soname), source, [`-Wl,-soname,${soname}`]);
}

/**
 * An N-API addon look-alike linked against `library`: exports `{ answer: spdk_app_start() }`.
 * The N-API declarations are written out so no Node headers are needed.
 */
export function fakeAddon(output: string, library: string, version: string | null = 'SPDK v99.99'): string {
  const source = `
typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
int napi_create_int32(napi_env env, int value, napi_value *result);
int napi_set_named_property(napi_env env, napi_value object, const char *name, napi_value value);
extern int spdk_app_start(void);
${version === null ? '' : `const char spdk_node_spdk_version[] = ${JSON.stringify(version)};`}
napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value answer;
  napi_create_int32(env, spdk_app_start(), &answer);
  napi_set_named_property(env, exports, "answer", answer);
  return exports;
}
`;
  return compileSharedObject(output, source, [library]);
}

export interface FakePackage {
  root: string;
  library: string;
  libDir: string;
  /** The local build: build/Release/spdk_node.node. */
  addon: string;
}

/**
 * An empty package tree: `<temp>/<at>/package.json`, plus `.git/` for a clone. `at` is where the
 * package sits in it, e.g. `node_modules/spdk-node` for an installed package; the temp directory
 * is then the project that installed it.
 */
export function fakePackageTree(options: { at?: string; gitClone?: boolean } = {}): { project: string; root: string } {
  const project = tempDir('spdk-node-tree-');
  const root = join(project, options.at ?? 'spdk-node');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), '{"name":"spdk-node-fixture"}');
  if (options.gitClone) mkdirSync(join(root, '.git'));
  return { project, root };
}

/** A package root with build/Release/spdk_node.node and, elsewhere, the library it links against. */
export function fakePackage(options: { addonVersion?: string | null; library?: FakeLibraryOptions; at?: string } = {}): FakePackage {
  const root = options.at === undefined ? tempDir('spdk-node-pkg-') : fakePackageTree({ at: options.at }).root;
  writeFileSync(join(root, 'package.json'), '{"name":"spdk-node-fixture"}');
  const libDir = join(root, 'hidden-lib');
  const library = fakeFatLibrary(libDir, options.library);
  mkdirSync(join(root, 'build', 'Release'), { recursive: true });
  const addon = join(root, 'build', 'Release', 'spdk_node.node');
  fakeAddon(addon, library, options.addonVersion === undefined ? 'SPDK v99.99' : options.addonVersion);
  return { root, library, libDir, addon };
}
