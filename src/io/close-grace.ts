// How long a close waits for I/O a device may never complete. A device that stops answering must
// not hold Bdev.close(), IoQueue.close() or Spdk.stop() forever: past this grace period the bdev is
// reset, which makes its module abort what it holds (the I/O then fails with ECANCELED or the
// device's abort status). native/bdev/bdev.h (kCloseGraceUs) does the same for closes SPDK's
// thread waits on.

/**
 * How long {@link Bdev.close}, {@link IoQueue.close} and `Spdk.stop()` wait for in-flight I/O
 * before they reset the bdev to abort it (milliseconds).
 */
export const CLOSE_GRACE_MS = 5000;

/** @internal Whether `work` settles within CLOSE_GRACE_MS (it is not waited for beyond that). */
export async function settlesWithinGrace(work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS)));
  try {
    return await Promise.race([work.then(() => true, () => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * @internal Resolves once `drained` has; if that takes longer than CLOSE_GRACE_MS, starts
 * `overdue` and then also waits for it (a reset still running would abort the next I/O).
 */
export async function drainWithinGrace(drained: Promise<void>, overdue: () => Promise<void>): Promise<void> {
  if (await settlesWithinGrace(drained)) return drained;
  const aborting = overdue();
  await drained;
  await aborting;
}

/** @internal A close of `what` on bdev `native` waited CLOSE_GRACE_MS: say so, and reset the bdev. */
export function resetOverdueBdev(what: string, native: { reset(): Promise<void> }): Promise<void> {
  process.emitWarning(`${what}: I/O still in flight ${CLOSE_GRACE_MS / 1000} s after close; resetting the bdev to abort it`, { code: 'SPDK_NODE_CLOSE_RESET' });
  return native.reset().catch(() => undefined); // a reset the bdev refuses leaves the close waiting for the device
}
