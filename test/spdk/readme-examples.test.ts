// Every JavaScript block of the README (and docs/) and every JavaScript file in examples/, run as a
// reader would run it: pasted into a file in a project of their own whose node_modules/spdk-node is
// this package, then `node file.js`, in a child process. The static checks (syntax, TypeScript,
// shell commands) are test/unit/readme-examples.test.ts.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { runChild, shown } from '../child';
import { allBlocks, ensureCompiledLib, repoRoot, unmetNeed, type CodeBlock } from '../code-blocks';
import { describeSpdk } from './support';

/**
 * SPDK_NODE_TEST_PCIE=1 runs the blocks tagged needs-pcie too; SPDK_NODE_TEST_PCIE=0000:00:05.0
 * (a controller whose data may be overwritten) also passes that address to each as its argument.
 */
const pcieSetting = process.env['SPDK_NODE_TEST_PCIE'] ?? '';
const pcieArgs = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(pcieSetting) ? [pcieSetting] : [];
const here = {
  node: process.versions.node,
  typescript: '0', // not used for JavaScript
  pcie: pcieSetting !== '' && pcieSetting !== '0',
  root: process.getuid?.() === 0,
};
const runnable = allBlocks().filter((b) => (b.language === 'js' || b.language === 'mjs') && !b.tags.includes('not-checked'));

/** Runs `file` with node in `cwd`; the result as text for the assertion message. */
async function run(file: string, cwd: string, block: CodeBlock): Promise<{ status: number | null; output: string }> {
  const args = block.tags.includes('needs-pcie') ? pcieArgs : [];
  const child = await runChild(process.execPath, [file, ...args], { cwd, timeout: 90_000 });
  return { status: child.status, output: shown(child) };
}

describeSpdk('README and examples/ JavaScript, run as shown', () => {
  const project = mkdtempSync(join(tmpdir(), 'spdk-node-readme-'));

  beforeAll(() => {
    ensureCompiledLib();
    writeFileSync(join(project, 'package.json'), '{"name":"readme-reader","private":true}\n');
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(repoRoot, join(project, 'node_modules', 'spdk-node'), 'dir');
  });

  it('there is JavaScript to run, in the README and in examples/', () => {
    expect(runnable.some((b) => b.where.startsWith('README.md:'))).toBe(true);
    expect(runnable.some((b) => b.where.startsWith('examples/'))).toBe(true);
  });

  runnable.forEach((block: CodeBlock, i) => {
    const reason = unmetNeed(block, here);
    (reason === null ? it : it.skip)(`${block.where} exits 0${reason === null ? '' : ` [skipped: ${reason}]`}`, async () => {
      const file = `block-${i}.${block.language === 'mjs' ? 'mjs' : 'js'}`;
      writeFileSync(join(project, file), block.code);
      const result = await run(file, project, block);
      expect(result.status, result.output).toBe(0);
    });
  });

  for (const block of runnable.filter((b) => b.where.startsWith('examples/'))) {
    const reason = unmetNeed(block, here);
    (reason === null ? it : it.skip)(`node ${block.where} in the clone exits 0${reason === null ? '' : ` [skipped: ${reason}]`}`, async () => {
      const result = await run(block.where, repoRoot, block);
      expect(result.status, result.output).toBe(0);
    });
  }
});
