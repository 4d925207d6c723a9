#!/usr/bin/env node
// The `spdk-node` executable. Everything is in cli/main.ts so that tests can run it in-process.
import { main } from './cli/main';

main(process.argv.slice(2)).then(
  (status) => {
    // exitCode rather than exit(): let stdout drain (a piped `doctor --json` can be large).
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(`spdk-node: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
