// What a failed start says to do names the package's scripts as the user can run them: from a
// clone's directory, or from a project that installed the package into node_modules.
import { describe, expect, it } from 'vitest';
import { Fixes } from '../../src/doctor/findings';
import { SpdkError } from '../../src/errors';
import { explainStartFailure } from '../../src/start-failure';
import type { NativeStartOptions } from '../../src/addon';
import { fakePackageTree } from './fake-spdk';

const options: NativeStartOptions = {
  name: 'spdk-node', cpuMask: '[1]', rpcSocket: '', jsonConfig: '{}', hugeDir: '', memSizeMb: 512,
  hugepages: false, interruptMode: false, lockCores: false, pci: false, logLevel: 4,
};
const outOfMemory = new SpdkError('start failed', { operation: 'Spdk.start', errno: 12, log: ['EAL: Cannot allocate memory'] });

describe('the ENOMEM advice of a failed start', () => {
  it('in node_modules, names the installed package\'s hugepages.sh and build.sh', () => {
    const { project, root } = fakePackageTree({ at: 'node_modules/spdk-node' });
    const error = explainStartFailure(outOfMemory, options, new Fixes(root, project));
    expect(error.code).toBe('ENOMEM');
    expect(error.message).toContain('use hugepages (sudo node_modules/spdk-node/scripts/hugepages.sh 2048)');
    expect(error.message).toContain('(node_modules/spdk-node/build.sh --lean)');
  });

  it('in a clone, from its directory: scripts/hugepages.sh and ./build.sh', () => {
    const { root } = fakePackageTree({ gitClone: true });
    const error = explainStartFailure(outOfMemory, { ...options, hugepages: true }, new Fixes(root, root));
    expect(error.message).toContain('Reserve more with `sudo scripts/hugepages.sh 2048`');
    const noHuge = explainStartFailure(outOfMemory, options, new Fixes(root, root));
    expect(noHuge.message).toContain('(./build.sh --lean)');
  });
});
