// What every `spdk-node` command is: a module exporting one Command, listed in commands.ts. The
// dispatcher (main.ts) handles --help, usage errors and exit codes, so commands only do their job.

/** Where a command writes; tests pass their own to capture output. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

export interface Command {
  /** The words that select it: `'doctor'`, `'bdev list'`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The synopsis after `spdk-node ` (e.g. `'doctor [--json]'`), then, if any, an option list. */
  readonly usage: string;
  /**
   * Runs with the arguments after the command's words (--help already handled).
   * @returns the exit code: 0 success, 1 failure. Throw UsageError for bad arguments (exit 2).
   */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Bad command-line arguments: the dispatcher prints the message and the command's usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Runs an argument parser (usually util.parseArgs with `strict: true`), turning what it throws into
 * a UsageError: `const { values } = parsingArgs(() => parseArgs({ args: [...args], options, strict: true }))`.
 */
export function parsingArgs<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
