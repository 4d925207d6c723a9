// Global set-up of `npm run test:vm`: decides whether the rig can run here, and if so builds (or
// reuses) the VM image. Test files read the outcome with inject('vmImage') / inject('vmSkipReason').
import type { TestProject } from 'vitest/node';
import { buildImage, rigUnavailable } from './vm';

declare module 'vitest' {
  export interface ProvidedContext {
    vmImage: string;
    vmSkipReason: string;
  }
}

export default function setup(project: TestProject): void {
  let reason = rigUnavailable();
  let image = '';
  if (!reason) {
    const started = Date.now();
    try {
      image = buildImage();
      console.log(`vm: image ${image} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      reason = `the VM image could not be built: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  if (reason) console.log(`vm: every rig test skips: ${reason}`);
  project.provide('vmImage', image);
  project.provide('vmSkipReason', reason);
}
