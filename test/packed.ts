// The package as a user gets it: `npm pack` of this tree, installed from the tarball into a scratch
// project of its own. Used by test/unit/pack.test.ts (its shape: files, require, import, types,
// publint, attw) and test/spdk/pack.test.ts (the install builds the addon against the library).
// Installing needs the npm registry (for the package's dependencies).
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './code-blocks';

export interface Packed {
  /** The .tgz `npm pack` wrote. */
  tarball: string;
  /** The files in it, without the leading `package/`. */
  files: string[];
}

/** Runs `npm pack` (which compiles lib/ afresh through `prepare`) into a temporary directory. */
export function pack(): Packed {
  const dir = mkdtempSync(join(tmpdir(), 'spdk-node-pack-'));
  const json = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [info] = JSON.parse(json.slice(json.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!info) throw new Error(`npm pack printed no package: ${json}`);
  return { tarball: join(dir, info.filename), files: info.files.map((f) => f.path).sort() };
}

/**
 * A scratch project with the tarball installed as a dependency. `scripts: false` skips install
 * scripts (the addon is then not built); true runs them as `npm install` would.
 */
export function installInScratchProject(tarball: string, options: { scripts: boolean; env?: NodeJS.ProcessEnv }): string {
  const project = mkdtempSync(join(tmpdir(), 'spdk-node-consumer-'));
  writeFileSync(join(project, 'package.json'), '{"name":"consumer","version":"1.0.0","private":true}\n');
  const args = ['install', '--no-audit', '--no-fund', '--no-package-lock', ...(options.scripts ? ['--foreground-scripts'] : ['--ignore-scripts']), tarball];
  const result = spawnSync('npm', args, { cwd: project, encoding: 'utf8', timeout: 600_000, env: options.env ?? process.env });
  if (result.status !== 0) throw new Error(`npm install ${tarball} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return project;
}

/** Runs `node args` in `cwd` and returns the result (status, stdout, stderr as text). */
export function node(args: readonly string[], cwd: string, timeout = 60_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout });
}

/** A result as text for an assertion message. */
export function shown(result: SpawnSyncReturns<string>): string {
  return `status ${result.status} signal ${result.signal ?? 'none'}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}
