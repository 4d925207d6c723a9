// Shared by the rig's test files: a describe that boots one VM for the file (or skips, naming why),
// and guest-side helpers.
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { Vm, type BootOptions } from './vm';

export { bindInGuest } from './vm';

/**
 * `describe` with a booted VM (one per file; `boot` picks its options): `vm()` inside the tests.
 * Skips visibly, with the reason, where the rig cannot run.
 */
export function describeVm(name: string, body: (vm: () => Vm) => void, boot: Omit<BootOptions, 'image'> = {}): void {
  const reason = inject('vmSkipReason');
  if (reason) {
    describe.skip(`${name} [skipped: ${reason}]`, () => body(() => undefined as never));
    return;
  }
  describe(name, () => {
    let machine: Vm | undefined;
    beforeAll(async () => {
      machine = await Vm.boot({ ...boot, image: inject('vmImage') });
      console.log(`vm: ${name}: booted ${machine.kernel} in ${(machine.bootMs / 1000).toFixed(1)} s`);
    });
    afterAll(async () => {
      await machine?.close();
    });
    body(() => {
      if (!machine) throw new Error('vm: not booted');
      return machine;
    });
  });
}

/**
 * Polls a shell condition in the guest until it holds. If `alongside` (a guest program that should
 * get there first) ends before, its result is the error.
 */
export async function waitInGuest(vm: Vm, condition: string, timeoutMs: number, alongside?: Promise<unknown>): Promise<void> {
  let ended: unknown;
  alongside?.then(
    (r) => (ended = r),
    (e) => (ended = e),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await vm.run(['/bin/sh', '-c', condition])).code === 0) return;
    if (ended !== undefined) throw new Error(`vm: the guest program ended before \`${condition}\` held: ${JSON.stringify(ended)}`);
    if (Date.now() > deadline) throw new Error(`vm: \`${condition}\` did not hold within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
