// Where spdk-node's own files (package.json, prebuilds/, build/, scripts/) are. Found from this
// module's location rather than process.cwd(), so it is right from lib/ after tsc, from src/ under
// vitest, and inside node_modules/spdk-node when installed.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/** The nearest directory at or above this module that holds a package.json. */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`spdk-node cannot find its package.json above ${__dirname}; reinstall spdk-node`);
    }
    dir = parent;
  }
}

/** The `version` field of spdk-node's package.json. */
export function packageVersion(): string {
  const json: unknown = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8'));
  const version = typeof json === 'object' && json !== null ? (json as { version?: unknown }).version : undefined;
  return typeof version === 'string' ? version : 'unknown';
}
