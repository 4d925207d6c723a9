// The code a reader is shown: fenced blocks in Markdown (README.md, docs/) and the files in examples/,
// with what each needs. Used by test/unit/readme-examples.test.ts (extraction, shell commands, the
// TypeScript type-check) and test/spdk/readme-examples.test.ts (running the JavaScript).
//
// A block may be preceded by an HTML comment naming what it needs, which the rendered page does not
// show (say it in the text too):
//
//   <!-- example: needs-pcie -->        a local PCIe NVMe SSD: run only with SPDK_NODE_TEST_PCIE=1,
//                                       or =ADDR (e.g. 0000:00:05.0), which each such block or
//                                       example also gets as its first argument
//   <!-- example: needs-root -->        root: run only as root
//   <!-- example: needs-node-22 -->     Node.js 22 or newer: run only there
//   <!-- example: needs-ts-5.2 -->      TypeScript 5.2 or newer: type-checked only there
//   <!-- example: cli-usage -->         a plain block listing `spdk-node ...` synopses, checked
//                                       against the CLI's commands (and that it lists them all)
//   <!-- example: not-checked -->       shown for reading only (output, a file's layout); say why
//                                       in the text
//
// Several tags go in one comment, separated by spaces. Anything else is an error, so a typo cannot
// silently switch a check off.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative } from 'node:path';

export const repoRoot = join(__dirname, '..');

export type BlockLanguage = 'js' | 'mjs' | 'ts' | 'sh' | 'text' | 'json' | 'other';

export interface CodeBlock {
  /** Where it is, for test names: `README.md:12` or `examples/bdev-io.js`. */
  where: string;
  language: BlockLanguage;
  /** The info string as written (`js`, `javascript`, `sh`...). */
  info: string;
  code: string;
  tags: readonly string[];
}

const LANGUAGES: Record<string, BlockLanguage> = {
  js: 'js', javascript: 'js', cjs: 'js', mjs: 'mjs',
  ts: 'ts', typescript: 'ts', mts: 'ts',
  sh: 'sh', bash: 'sh', shell: 'sh', console: 'sh',
  '': 'text', text: 'text', txt: 'text',
  json: 'json',
};

const FIXED_TAGS = new Set(['needs-pcie', 'needs-root', 'cli-usage', 'not-checked']);
const VERSIONED_TAG = /^needs-(node-\d+|ts-\d+\.\d+)$/;

/** Whether `tag` is one this module understands. */
export function isKnownTag(tag: string): boolean {
  return FIXED_TAGS.has(tag) || VERSIONED_TAG.test(tag);
}

/** The fenced code blocks of a Markdown text, with the tags of an `<!-- example: ... -->` before each. */
export function extractBlocks(markdown: string, file: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let pendingTags: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const marker = /^\s*<!--\s*example:\s*(.*?)\s*-->\s*$/.exec(line);
    if (marker) {
      pendingTags = (marker[1] ?? '').split(/\s+/).filter((tag) => tag !== '');
      continue;
    }
    const fence = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)[^\n]*$/.exec(line);
    if (!fence) {
      if (line.trim() !== '') pendingTags = []; // a marker belongs to the very next block only
      continue;
    }
    const [, indent = '', ticks = '```', info = ''] = fence;
    const body: string[] = [];
    const start = i + 1;
    for (i++; i < lines.length; i++) {
      const inner = lines[i] ?? '';
      if (inner.trim().startsWith(ticks) && inner.trim().replace(/[`~]/g, '') === '') break;
      body.push(inner.startsWith(indent) ? inner.slice(indent.length) : inner);
    }
    const lower = info.toLowerCase();
    blocks.push({ where: `${file}:${start}`, language: LANGUAGES[lower] ?? 'other', info, code: body.join('\n') + '\n', tags: pendingTags });
    pendingTags = [];
  }
  return blocks;
}

/** Every block of a Markdown file in the repository (path relative to the root). */
export function markdownBlocks(path: string): CodeBlock[] {
  return extractBlocks(readFileSync(join(repoRoot, path), 'utf8'), path);
}

/** The Markdown files whose blocks are checked: README.md and docs/*.md (not the generated API docs). */
export function markdownFiles(): string[] {
  const docs = readdirSync(join(repoRoot, 'docs'), { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md'))
    .map((entry) => join('docs', entry.name));
  return ['README.md', ...docs.sort()];
}

/**
 * The files in examples/, each as one block. Their tags are in a `// example: needs-pcie` line
 * among the file's comment lines (`//` at the start of a line).
 */
export function exampleFiles(): CodeBlock[] {
  const dir = join(repoRoot, 'examples');
  return readdirSync(dir).sort().flatMap((name) => {
    const language = LANGUAGES[extname(name).slice(1)];
    if (language === undefined) return [];
    const code = readFileSync(join(dir, name), 'utf8');
    const leading = code.split('\n').filter((line) => line.startsWith('//'));
    const tags = leading.flatMap((line) => /^\/\/\s*example:\s*(.*)$/.exec(line)?.[1]?.split(/\s+/).filter((t) => t !== '') ?? []);
    return [{ where: relative(repoRoot, join(dir, name)), language, info: extname(name).slice(1), code, tags }];
  });
}

/** Every block checked: the Markdown files' blocks, then examples/. */
export function allBlocks(): CodeBlock[] {
  return [...markdownFiles().flatMap(markdownBlocks), ...exampleFiles()];
}

function major(version: string): number {
  return Number(version.split('.')[0]);
}

function atLeast(version: string, wanted: string): boolean {
  const have = version.split('.').map(Number);
  const want = wanted.split('.').map(Number);
  for (let i = 0; i < want.length; i++) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * Why this block cannot be run (or type-checked) here, or null when it can. `typescript` is the
 * installed TypeScript's version.
 */
export function unmetNeed(block: CodeBlock, env: { node: string; typescript: string; pcie: boolean; root: boolean }): string | null {
  for (const tag of block.tags) {
    const node = /^needs-node-(\d+)$/.exec(tag);
    if (node && major(env.node) < Number(node[1])) return `needs Node.js ${node[1]}+ (this is ${env.node})`;
    const ts = /^needs-ts-(\d+\.\d+)$/.exec(tag);
    if (ts?.[1] && !atLeast(env.typescript, ts[1])) return `needs TypeScript ${ts[1]}+ (this is ${env.typescript})`;
    if (tag === 'needs-pcie' && !env.pcie) return 'needs a local PCIe NVMe SSD (set SPDK_NODE_TEST_PCIE=1 where there is one)';
    if (tag === 'needs-root' && !env.root) return 'needs root';
  }
  return null;
}

// --- Shell blocks -------------------------------------------------------------------------------

/** Splits a command line into words, honouring quotes (no expansion beyond removing them). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      word += line.slice(i + 1, end < 0 ? line.length : end);
      inWord = true;
      i = end < 0 ? line.length : end;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The simple commands of a shell block: continuation lines joined, comments dropped, split at `&& || ; |`. */
export function shellCommands(code: string): string[][] {
  const joined = code.replace(/\\\n/g, ' ');
  const commands: string[][] = [];
  for (const rawLine of joined.split('\n')) {
    // A comment starts at a # at the start of a line or after a space, outside quotes.
    let line = '';
    let quote: string | null = null;
    for (let i = 0; i < rawLine.length; i++) {
      const c = rawLine[i] ?? '';
      if (quote) {
        if (c === quote) quote = null;
      } else if (c === "'" || c === '"') {
        quote = c;
      } else if (c === '#' && (i === 0 || /\s/.test(rawLine[i - 1] ?? ''))) {
        break;
      }
      line += c;
    }
    const prompt = line.replace(/^\s*\$\s+/, '');
    for (const part of prompt.split(/\s*(?:&&|\|\||;|\|)\s*/)) {
      let words = shellWords(part);
      // Leading VAR=value assignments and sudo (with its own VAR=value) do not change what runs.
      for (;;) {
        if (words[0] === 'sudo') words = words.slice(1);
        else if (words[0] !== undefined && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) words = words.slice(1);
        else break;
      }
      if (words.length > 0) commands.push(words);
    }
  }
  return commands;
}

/** What a shell command refers to in this package, to check it exists; null for other programs. */
export type PackageReference =
  | { kind: 'file'; path: string; shipped: boolean }
  | { kind: 'npm-script'; script: string }
  | { kind: 'cli'; argv: string[] }
  | { kind: 'npm' }
  | null;

/** npm's own commands that name no script of ours. */
const NPM_BUILTINS = new Set(['ci', 'install', 'i', 'rebuild', 'pack', 'exec', 'root', 'install-scripts', 'uninstall', 'ls', 'view', 'config']);
/** How a shell line can name this package's own files: from a clone, or inside node_modules. */
const INSTALLED_PREFIXES = ['node_modules/spdk-node/', '$(npm root)/spdk-node/'];

export function packageReference(words: readonly string[]): PackageReference {
  const [first = '', second, ...rest] = words;
  if (first === 'npx' && second === 'spdk-node') return { kind: 'cli', argv: rest };
  if (first === 'spdk-node') return { kind: 'cli', argv: words.slice(1) };
  if (first === 'npm') {
    if (second === 'run' || second === 'run-script') return { kind: 'npm-script', script: rest[0] ?? '' };
    if (second === 'test' || second === 't' || second === 'start') return { kind: 'npm-script', script: second === 't' ? 'test' : second };
    if (second !== undefined && NPM_BUILTINS.has(second)) return { kind: 'npm' };
    return { kind: 'npm-script', script: `(npm ${second ?? ''}: not a command this README should use)` };
  }
  const program = first === 'node' || first === 'bash' || first === 'sh' ? (second ?? '') : first;
  for (const prefix of INSTALLED_PREFIXES) {
    if (program.startsWith(prefix)) return { kind: 'file', path: program.slice(prefix.length), shipped: true };
  }
  // A relative path is a file of this repository (`./build.sh`, `scripts/hugepages.sh`, `.ci/run`),
  // except SPDK's own tree (the `spdk` submodule, often not checked out) and home-relative paths.
  const relativePath = program.startsWith('./') || (program.includes('/') && !/^[/~$]/.test(program));
  if (relativePath || /^[\w.-]+\.(sh|js|mjs)$/.test(program)) {
    const path = program.replace(/^\.\//, '');
    return path.startsWith('spdk/') ? null : { kind: 'file', path, shipped: false };
  }
  return null;
}

/** Compiles src/ into lib/ (what `require('spdk-node')` loads) unless lib/ is newer than every source. */
export function ensureCompiledLib(): void {
  const index = join(repoRoot, 'lib', 'index.d.ts');
  if (existsSync(index)) {
    const stale = execFileSync('find', [join(repoRoot, 'src'), '-name', '*.ts', '-newer', index], { encoding: 'utf8' }).trim();
    if (stale === '') return;
  }
  execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repoRoot, 'tsconfig.json')], { stdio: 'inherit' });
}
