// Global set-up of `npm run test:vm`: decides whether the rig can run here, and if so builds (or
// reuses) the VM image. Test files read the outcome with inject('vmImage') / inject('vmSkipReason').
import { execFileSync, spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { checkFatLibrary } from '../../src/doctor';

declare module 'vitest' {
  export interface ProvidedContext {
    vmImage: string;
    vmSkipReason: string;
  }
}

function whyNot(): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the rig needs x86_64 Linux';
  if (spawnSync('qemu-system-x86_64', ['--version']).status !== 0) return 'qemu-system-x86_64 is not installed (scripts/pkgdep.sh installs it)';
  if (spawnSync('debootstrap', ['--version']).error) return 'debootstrap is not installed (scripts/pkgdep.sh installs it)';
  if (process.getuid?.() !== 0) return 'building the VM image needs root';
  const report = checkFatLibrary();
  if (!report.ok) return `SPDK is not usable here: ${report.problems[0]?.message ?? 'unknown'}; install it with ./build.sh`;
  return '';
}

export default function setup(project: TestProject): void {
  let reason = whyNot();
  let image = '';
  if (!reason) {
    const started = Date.now();
    try {
      image = execFileSync('scripts/vm/build-image.sh', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
      console.log(`vm: image ${image} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      reason = `the VM image could not be built: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  if (reason) console.log(`vm: every rig test skips: ${reason}`);
  project.provide('vmImage', image);
  project.provide('vmSkipReason', reason);
}
