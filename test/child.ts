// A child program run to completion without blocking this process's event loop. Tests use this
// rather than spawnSync for anything that may take long (npm install, a compiler, a CLI starting
// SPDK): a test worker whose loop is blocked for a minute misses vitest's own RPC deadline
// ("Timeout calling onTaskUpdate"), which fails the whole run though every test passed.
import { spawn } from 'node:child_process';

/** How a child ended and what it printed. */
export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Milliseconds before the child is killed with SIGKILL (its result then shows the signal). */
  timeout?: number;
  /** Written to the child's stdin, which is then closed. */
  input?: string;
}

/** Runs `command args` and resolves when it has exited; rejects only if it could not be started. */
export function runChild(command: string, args: readonly string[], options: ChildOptions = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    if (options.input !== undefined) child.stdin?.end(options.input);
    const timer = options.timeout === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeout);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (status, signal) => { clearTimeout(timer); resolve({ status, signal, stdout, stderr }); });
  });
}

/** A result as text for an assertion message. */
export function shown(result: ChildResult): string {
  return `status ${result.status} signal ${result.signal ?? 'none'}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}
