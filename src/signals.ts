// SIGINT and SIGTERM while SPDK runs. SPDK's own handlers are disabled (Node owns the process's
// signals), so a program that has no handler of its own would die at once, with SPDK mid-I/O.
// Instead: stop SPDK cleanly, then re-raise the signal so the process ends the way it would have.
// A program that handles the signal itself is left to do so.

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const STOP_LIMIT_MS = 5000;

let stopper: (() => Promise<void>) | undefined;

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return; // the program handles it
  const stop = stopper;
  uninstall();
  const reraise = (): void => {
    process.kill(process.pid, signal);
  };
  if (stop === undefined) return reraise();
  const timer = setTimeout(reraise, STOP_LIMIT_MS);
  stop().catch(() => undefined).finally(() => {
    clearTimeout(timer);
    reraise();
  });
}

/** While SPDK runs: on SIGINT/SIGTERM (and no handler of the program's own), call `stop` first. */
export function installSignalHandlers(stop: () => Promise<void>): void {
  stopper = stop;
  for (const s of SIGNALS) {
    if (!process.listeners(s).includes(onSignal)) process.on(s, onSignal);
  }
}

export function uninstall(): void {
  stopper = undefined;
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}
