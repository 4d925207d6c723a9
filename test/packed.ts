// The package as a user gets it: `npm pack` of this tree, installed from the tarball into a scratch
// project of its own. Used by test/unit/pack.test.ts (its shape: files, require, import, types,
// publint, attw) and test/spdk/pack.test.ts (the install builds the addon against the library).
// Installing needs the npm registry (for the package's dependencies).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild, shown, type ChildResult } from './child';
import { repoRoot } from './code-blocks';

export { shown };

export interface Packed {
  /** The .tgz `npm pack` wrote. */
  tarball: string;
  /** The files in it, without the leading `package/`. */
  files: string[];
}

/** Runs `npm pack` (which compiles lib/ afresh through `prepare`) into a temporary directory. */
export async function pack(): Promise<Packed> {
  const dir = mkdtempSync(join(tmpdir(), 'spdk-node-pack-'));
  const result = await runChild('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repoRoot, timeout: 600_000 });
  if (result.status !== 0) throw new Error(`npm pack failed:\n${shown(result)}`);
  const json = result.stdout;
  const [info] = JSON.parse(json.slice(json.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!info) throw new Error(`npm pack printed no package: ${json}`);
  return { tarball: join(dir, info.filename), files: info.files.map((f) => f.path).sort() };
}

/**
 * A scratch project with the tarball installed as a dependency. `scripts: false` skips install
 * scripts (the addon is then not built); true runs them as `npm install` would.
 */
export async function installInScratchProject(tarball: string, options: { scripts: boolean; env?: NodeJS.ProcessEnv }): Promise<string> {
  const project = mkdtempSync(join(tmpdir(), 'spdk-node-consumer-'));
  writeFileSync(join(project, 'package.json'), '{"name":"consumer","version":"1.0.0","private":true}\n');
  const args = ['install', '--no-audit', '--no-fund', '--no-package-lock', ...(options.scripts ? ['--foreground-scripts'] : ['--ignore-scripts']), tarball];
  const result = await runChild('npm', args, { cwd: project, timeout: 600_000, env: options.env ?? process.env });
  if (result.status !== 0) throw new Error(`npm install ${tarball} failed:\n${shown(result)}`);
  return project;
}

/** Runs `node args` in `cwd` and returns the result (status, stdout, stderr as text). */
export function node(args: readonly string[], cwd: string, timeout = 60_000): Promise<ChildResult> {
  return runChild(process.execPath, args, { cwd, timeout });
}
