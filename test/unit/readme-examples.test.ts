// The README's (and docs/'s) code blocks and examples/ as a reader meets them: JavaScript that parses
// as the file type it would be pasted into, TypeScript that type-checks against the package as
// installed, shell lines naming only scripts, npm scripts and CLI commands that exist. Running the
// JavaScript against SPDK is test/spdk/readme-examples.test.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFunction } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands';
import type { Command } from '../../src/cli/command';
import {
  allBlocks, ensureCompiledLib, extractBlocks, isKnownTag, markdownFiles, packageReference, repoRoot, shellCommands, shellWords, unmetNeed, type CodeBlock,
} from '../code-blocks';

const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string>; files: string[] };
const typescriptVersion = (JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'typescript', 'package.json'), 'utf8')) as { version: string }).version;
const here = { node: process.versions.node, typescript: typescriptVersion, pcie: false, root: true };
const blocks = allBlocks();

describe('the extractor', () => {
  it('finds fenced blocks with their language, line and the tags of the comment just before', () => {
    const md = [
      '# t', '', '```js', 'a();', '```', '', '<!-- example: needs-pcie needs-node-22 -->', '', '```typescript', 'let b = 1;', '```',
      'text', '<!-- example: needs-root -->', 'a paragraph between', '```sh', 'npm test', '```', '~~~', 'plain', '~~~',
    ].join('\n');
    const found = extractBlocks(md, 'X.md');
    expect(found.map((b) => [b.where, b.language, b.code, b.tags])).toEqual([
      ['X.md:3', 'js', 'a();\n', []],
      ['X.md:9', 'ts', 'let b = 1;\n', ['needs-pcie', 'needs-node-22']],
      ['X.md:15', 'sh', 'npm test\n', []], // the marker was not just before this block
      ['X.md:18', 'text', 'plain\n', []],
    ]);
  });

  it('knows its tags, and no others', () => {
    for (const tag of ['needs-pcie', 'needs-root', 'needs-node-24', 'needs-ts-5.2', 'cli-usage', 'not-checked']) expect(isKnownTag(tag)).toBe(true);
    for (const tag of ['needs-pcie-ssd', 'needs-node', 'needs-ts-5', 'skip']) expect(isKnownTag(tag)).toBe(false);
  });

  it('says why a block cannot run here', () => {
    const block = (tags: string[]): CodeBlock => ({ where: 'x', language: 'js', info: 'js', code: '', tags });
    const env = { node: '20.20.2', typescript: '5.6.3', pcie: false, root: false };
    expect(unmetNeed(block([]), env)).toBeNull();
    expect(unmetNeed(block(['needs-node-20']), env)).toBeNull();
    expect(unmetNeed(block(['needs-node-24']), env)).toBe('needs Node.js 24+ (this is 20.20.2)');
    expect(unmetNeed(block(['needs-ts-5.2']), env)).toBeNull();
    expect(unmetNeed(block(['needs-ts-5.10']), env)).toBe('needs TypeScript 5.10+ (this is 5.6.3)');
    expect(unmetNeed(block(['needs-pcie']), env)).toMatch(/PCIe NVMe SSD/);
    expect(unmetNeed(block(['needs-pcie']), { ...env, pcie: true })).toBeNull();
    expect(unmetNeed(block(['needs-root']), env)).toBe('needs root');
  });

  it('splits shell lines into commands: comments, sudo, assignments, quotes, && and pipes', () => {
    expect(shellCommands("sudo SPDK_DIR=/x scripts/setup.sh  # a comment\nnpm test && npx spdk-node rpc m '{\"a\": 1}' | jq .\n"))
      .toEqual([['scripts/setup.sh'], ['npm', 'test'], ['npx', 'spdk-node', 'rpc', 'm', '{"a": 1}'], ['jq', '.']]);
    expect(shellCommands('docker run --rm \\\n  spdk-node demo')).toEqual([['docker', 'run', '--rm', 'spdk-node', 'demo']]);
    expect(shellWords(`echo 'a # b' "c d"`)).toEqual(['echo', 'a # b', 'c d']);
  });

  it('tells this package\'s commands from other programs', () => {
    expect(packageReference(['npx', 'spdk-node', 'doctor'])).toEqual({ kind: 'cli', argv: ['doctor'] });
    expect(packageReference(['npm', 'run', 'build:native'])).toEqual({ kind: 'npm-script', script: 'build:native' });
    expect(packageReference(['npm', 'test'])).toEqual({ kind: 'npm-script', script: 'test' });
    expect(packageReference(['npm', 'ci'])).toEqual({ kind: 'npm' });
    expect(packageReference(['./build.sh', '--lean'])).toEqual({ kind: 'file', path: 'build.sh', shipped: false });
    expect(packageReference(['node_modules/spdk-node/build.sh'])).toEqual({ kind: 'file', path: 'build.sh', shipped: true });
    expect(packageReference(['node', 'examples/bdev-io.js'])).toEqual({ kind: 'file', path: 'examples/bdev-io.js', shipped: false });
    expect(packageReference(['.ci/run'])).toEqual({ kind: 'file', path: '.ci/run', shipped: false });
    expect(packageReference(['spdk/scripts/setup.sh'])).toBeNull(); // SPDK's own, in the submodule
    expect(packageReference(['/usr/local/libexec/spdk-node/spdk_tgt'])).toBeNull();
    expect(packageReference(['git', 'clone', 'x'])).toBeNull();
  });

  it('finds the README, docs/ and examples/', () => {
    expect(markdownFiles()).toContain('README.md');
    expect(blocks.some((b) => b.where.startsWith('README.md:') && b.language === 'js')).toBe(true);
    expect(blocks.some((b) => b.where.startsWith('README.md:') && b.language === 'ts')).toBe(true);
    expect(blocks.some((b) => b.where.startsWith('examples/'))).toBe(true);
  });
});

describe('every block says what it is', () => {
  for (const block of blocks) {
    it(`${block.where} (${block.info || 'plain'}): known language and tags`, () => {
      expect(block.tags.filter((tag) => !isKnownTag(tag))).toEqual([]);
      if (block.language === 'other') expect(block.tags, `a \`\`\`${block.info} block is not checked: tag it not-checked`).toContain('not-checked');
    });
  }
});

/** Longest-name match, as the CLI dispatcher does. */
function findCommand(argv: readonly string[]): Command | undefined {
  let best: Command | undefined;
  for (const command of commands) {
    const words = command.name.split(' ');
    if (words.every((word, i) => argv[i] === word) && words.length > (best?.name.split(' ').length ?? 0)) best = command;
  }
  return best;
}

/** Problems with `spdk-node <argv>`: the command does not exist, or takes no such option. */
function cliProblems(argv: readonly string[], text = argv.join(' ')): string[] {
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === '--version' || argv[0] === '-V') return [];
  const command = findCommand(argv);
  if (!command) return [`spdk-node ${text}: no such command`];
  const options = text.match(/--[a-z][\w-]*/g) ?? [];
  return options.filter((option) => option !== '--help' && !new RegExp(`${option}\\b`).test(command.usage)).map((option) => `spdk-node ${command.name} has no ${option}`);
}

function isShipped(path: string): boolean {
  return packageJson.files.some((entry) => path === entry || path.startsWith(`${entry.replace(/\/$/, '')}/`));
}

describe('shell blocks name only commands, scripts and files that exist', () => {
  for (const block of blocks.filter((b) => b.language === 'sh' && !b.tags.includes('not-checked'))) {
    it(`${block.where}`, () => {
      const problems: string[] = [];
      for (const words of shellCommands(block.code)) {
        const ref = packageReference(words);
        if (ref === null || ref.kind === 'npm') continue;
        if (ref.kind === 'npm-script' && !(ref.script in packageJson.scripts)) problems.push(`npm script "${ref.script}" does not exist`);
        if (ref.kind === 'cli') problems.push(...cliProblems(ref.argv));
        if (ref.kind === 'file') {
          const path = join(repoRoot, ref.path);
          if (!existsSync(path)) problems.push(`${ref.path} does not exist`);
          else if (ref.path.endsWith('.sh') && (statSync(path).mode & 0o111) === 0) problems.push(`${ref.path} is not executable`);
          if (ref.shipped && !isShipped(ref.path)) problems.push(`${ref.path} is used from node_modules but package.json "files" does not ship it`);
        }
      }
      expect(problems).toEqual([]);
    });
  }
});

describe('the CLI list', () => {
  const lists = blocks.filter((b) => b.tags.includes('cli-usage'));

  it('is in the README', () => {
    expect(lists.some((b) => b.where.startsWith('README.md:'))).toBe(true);
  });

  for (const block of lists) {
    const synopses = block.code.split('\n').filter((line) => line.startsWith('spdk-node '));

    it(`${block.where}: every line is a command with options it takes`, () => {
      expect(synopses.length).toBeGreaterThan(0);
      expect(synopses.flatMap((line) => cliProblems(shellWords(line.replace(/[[\]|<>]/g, ' ')).slice(1), line.slice('spdk-node '.length)))).toEqual([]);
    });

    it(`${block.where}: lists every command (${commands.map((c) => c.name).join(', ')})`, () => {
      const missing = commands.filter((command) => !synopses.some((line) => line.startsWith(`spdk-node ${command.name} `) || line === `spdk-node ${command.name}`));
      expect(missing.map((c) => c.name)).toEqual([]);
    });
  }
});

describe('npm scripts named in prose and comments exist', () => {
  const texts = [...markdownFiles().map((file) => ({ file, text: readFileSync(join(repoRoot, file), 'utf8') })), ...blocks.filter((b) => b.where.startsWith('examples/')).map((b) => ({ file: b.where, text: b.code }))];
  for (const { file, text } of texts) {
    it(file, () => {
      const named = [...text.matchAll(/npm run ([\w:.-]+)/g)].map((m) => m[1] ?? '');
      expect(named.filter((script) => !(script in packageJson.scripts))).toEqual([]);
    });
  }
});

const CJS_WRAPPER = ['exports', 'require', 'module', '__filename', '__dirname'];

describe('JavaScript blocks parse as the file they would be pasted into', () => {
  for (const block of blocks.filter((b) => b.language === 'js' || b.language === 'mjs')) {
    it(`${block.where} is valid ${block.language === 'mjs' ? 'ES module' : 'CommonJS (no top-level await)'} code`, () => {
      if (block.language === 'js') {
        expect(() => compileFunction(block.code, CJS_WRAPPER, { filename: block.where })).not.toThrow();
      } else {
        const file = join(mkdtempSync(join(tmpdir(), 'spdk-node-mjs-')), 'block.mjs');
        writeFileSync(file, block.code);
        const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
        expect(check.stderr).toBe('');
        expect(check.status).toBe(0);
      }
    });

    it(`${block.where} uses no syntax this Node lacks, and loads the package as a user would`, () => {
      const needsNewerNode = block.tags.some((tag) => /^needs-node-/.test(tag));
      // `await using` is in no Node before 24; TypeScript compiles it, plain JavaScript cannot use it.
      if (!needsNewerNode) expect(block.code).not.toMatch(/\bawait\s+using\b|^\s*using\s+\w+\s*=/m);
      const specifiers = [...block.code.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)|from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
      expect(specifiers.filter((s) => s.startsWith('.') || s.includes('/lib/') || s.includes('/src/'))).toEqual([]);
    });
  }
});

describe('TypeScript blocks type-check against the package as installed', () => {
  const tsBlocks = blocks.filter((b) => b.language === 'ts' && !b.tags.includes('not-checked'));
  const dir = mkdtempSync(join(tmpdir(), 'spdk-node-ts-blocks-'));
  const fileOf = new Map<CodeBlock, string>();
  let output = '';
  let status: number | null = null;

  beforeAll(() => {
    ensureCompiledLib();
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(repoRoot, join(dir, 'node_modules', 'spdk-node'), 'dir');
    tsBlocks.forEach((block, i) => {
      if (unmetNeed(block, here) !== null) return;
      const file = `block-${i}.mts`;
      fileOf.set(block, file);
      // `export {}` makes a fragment a module, so its declarations do not clash with another's.
      writeFileSync(join(dir, file), `${block.code}\nexport {};\n`);
    });
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext',
        lib: ['es2022', 'esnext.disposable'], types: ['node'], typeRoots: [join(repoRoot, 'node_modules', '@types')], skipLibCheck: true,
      },
      files: [join(repoRoot, 'test', 'readme-prelude.d.ts'), ...fileOf.values()],
    }));
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir, '--pretty', 'false'], { encoding: 'utf8', cwd: dir });
    output = tsc.stdout + tsc.stderr;
    status = tsc.status;
  }, 120_000);

  it('tsc ran over them (and either passed or reported errors)', () => {
    expect(fileOf.size).toBeGreaterThan(0);
    expect(status === 0 || (status === 2 && /error TS/.test(output)), output).toBe(true);
  });

  it('there are TypeScript blocks', () => {
    expect(tsBlocks.length).toBeGreaterThan(0);
  });

  it('the check itself works: a block with a type error is reported', () => {
    const bad = join(dir, 'bad.mts');
    writeFileSync(bad, "import { Spdk } from 'spdk-node';\nconst n: number = Spdk;\nexport {};\n");
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--skipLibCheck', '--types', 'node', '--typeRoots', join(repoRoot, 'node_modules', '@types'), bad], { encoding: 'utf8', cwd: dir });
    expect(tsc.stdout).toMatch(/bad\.mts\(2,7\): error TS2322/);
  });

  for (const [i, block] of tsBlocks.entries()) {
    const reason = unmetNeed(block, here);
    (reason === null ? it : it.skip)(`${block.where}${reason === null ? '' : ` [skipped: ${reason}]`}`, () => {
      const file = `block-${i}.mts`;
      const errors = output.split('\n').filter((line) => line.startsWith(file) || (line.includes('error TS') && !/^block-\d+\.mts/.test(line)));
      expect(errors.map((line) => line.replace(file, block.where))).toEqual([]);
    });
  }
});
