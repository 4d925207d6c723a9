import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';

const repoRoot = path.resolve(__dirname, '../..');
const generatorPath = path.join(repoRoot, 'scripts/gen-rpc-types.js');
// SPDK v26.01's schema: the submodule's own, or the copy in the shared folder beside the
// repository. Neither is part of this repository, so without both the suite is skipped.
const schemaCandidates = [path.join(repoRoot, 'spdk/schema/schema.json'), path.resolve(repoRoot, '../shared/spdk/rpc-schema-v26.01.json')];
const sharedSchemaPath = schemaCandidates.find((p) => fs.existsSync(p)) ?? '';
const describeWithSchema = sharedSchemaPath
  ? describe
  : (name: string, body: () => void) => describe.skip(`${name} [skipped: no SPDK schema; run git submodule update --init, or keep ../shared beside the repo]`, body);
const committedPath = path.join(repoRoot, 'src/rpc/methods.generated.ts');

interface SchemaField { name: string; type: string; required?: boolean; description?: string }
interface Schema {
  methods: { name: string; params?: SchemaField[] }[];
  objects: { name: string; fields: SchemaField[] }[];
}
interface GenInfo { warn?: (message: string) => void; facts?: unknown; spdkVersion?: string }
interface Generator {
  generate(schema: unknown, info?: GenInfo): string;
  generateResults(schema: unknown, info?: GenInfo): { text: string; count: number };
  readFacts(): { spdkVersion: string; decoders: Record<string, unknown>; results: Record<string, { result?: unknown }> };
}
interface DocResults {
  shapeOf(value: unknown): unknown;
  mergeShapes(a: unknown, b: unknown): unknown;
  correct(shape: unknown, correction: { method: string; path: string; op: string; fields?: string[]; keep?: string[] }): unknown;
}
const load = createRequire(__filename);
const generator = load(generatorPath) as Generator;
const docResults = load(path.join(repoRoot, 'scripts/rpc-doc-results.js')) as DocResults;
const committedResultsPath = path.join(repoRoot, 'src/rpc/results.generated.ts');

let tempDir: string;
let generated: string;
let generatedResults: string;
let schema: Schema;

beforeAll(() => {
  if (!sharedSchemaPath) return;
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spdk-node-gen-'));
  execFileSync(process.execPath, [generatorPath, sharedSchemaPath, '--out', path.join(tempDir, 'methods.generated.ts')], { stdio: 'pipe' });
  generated = fs.readFileSync(path.join(tempDir, 'methods.generated.ts'), 'utf8');
  const resultsPath = path.join(tempDir, 'results.generated.ts');
  generatedResults = fs.existsSync(resultsPath) ? fs.readFileSync(resultsPath, 'utf8') : '';
  schema = JSON.parse(fs.readFileSync(sharedSchemaPath, 'utf8')) as Schema;
});

afterAll(() => {
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
});

/** The member lines of an exported interface, e.g. `  name?: string;`, without doc comments. */
function interfaceMembers(text: string, name: string): string[] {
  const body = new RegExp(`export interface ${name} \\{\\n([\\s\\S]*?)\\n\\}`).exec(text)?.[1] ?? '';
  return withoutComments(body).split('\n').filter((line) => line.trim() !== '');
}

function withoutComments(text: string): string {
  return text.replace(/\/\*\*[\s\S]*?\*\//g, '').replace(/^\s*\n/gm, '').replace(/^\s*\/\/.*$/gm, '');
}

/** The doc comment right above `  member` in an exported interface, as one line of text. */
function memberDoc(text: string, iface: string, member: string): string {
  const body = new RegExp(`export interface ${iface} \\{\\n([\\s\\S]*?)\\n\\}`).exec(text)?.[1] ?? '';
  const match = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\n {2}"?${member}"?\\??:`).exec(body);
  return (match?.[1] ?? '').replace(/^\s*\*\s?/gm, ' ').replace(/\s+/g, ' ').trim();
}

function paramsMapEntries(text: string): string[] {
  return interfaceMembers(text, 'RpcParamsMap');
}

describeWithSchema('gen-rpc-types', () => {
  it('maps every one of the 292 methods of the SPDK v26.01 schema', () => {
    expect(schema.methods).toHaveLength(292);
    const names = paramsMapEntries(generated).map((line) => line.trim().split(':')[0]);
    expect(names).toHaveLength(292);
    expect(new Set(names)).toEqual(new Set(schema.methods.map((method) => method.name)));
    for (const method of schema.methods) {
      expect(generated).toContain(`  ${method.name}(`);
    }
  });

  it('lists methods in sorted order', () => {
    const names = paramsMapEntries(generated).map((line) => line.trim().split(':')[0] as string);
    expect(names).toEqual([...names].sort());
  });

  it('writes a header marking the file as generated, with its schema, SPDK version and command', () => {
    const header = generated.split('\n').slice(0, 4).join('\n');
    expect(header).toContain('GENERATED FILE - DO NOT EDIT');
    expect(header).toContain('rpc-schema-v26.01.json');
    expect(header).toContain('SPDK v26.01');
    expect(header).toMatch(/Regenerate with: npm run gen:rpc/);
  });

  it('types a method without parameters as void and gives its method no argument', () => {
    expect(generated).toContain('  framework_start_init: void;');
    expect(generated).toContain("  framework_start_init(): Promise<RpcResult<'framework_start_init'>> {");
  });

  it('makes params optional when every parameter is optional', () => {
    expect(generated).toContain("  bdev_get_bdevs(params?: BdevGetBdevsParams): Promise<RpcResult<'bdev_get_bdevs'>> {");
    expect(interfaceMembers(generated, 'BdevGetBdevsParams')).toEqual(['  name?: string;', '  timeout?: number;']);
  });

  it('makes params required when a parameter is required, and marks which ones', () => {
    expect(generated).toContain("  bdev_malloc_create(params: BdevMallocCreateParams): Promise<RpcResult<'bdev_malloc_create'>> {");
    expect(interfaceMembers(generated, 'BdevMallocCreateParams')).toEqual(
      expect.arrayContaining(['  num_blocks: number;', '  block_size: number;', '  name?: string;']),
    );
  });

  it('types object parameters with the interface of their schema class', () => {
    expect(interfaceMembers(generated, 'NvmfListenAddress')).toContain('  trtype: string;');
    expect(interfaceMembers(generated, 'NvmfSubsystemAddListenerParams')).toContain('  listen_address: NvmfListenAddress;');
  });

  it('gives array parameters the element type of SPDK\'s decoder where the schema has none', () => {
    expect(interfaceMembers(generated, 'BdevGetIostatParams')).toContain('  names?: string[];');
    expect(interfaceMembers(generated, 'IscsiCreatePortalGroupParams')).toContain('  portals: IscsiPortal[];');
  });

  it('types bdev_raid_create.base_bdevs as the string[] SPDK\'s decoder takes, saying what the schema said', () => {
    expect(schema.methods.find((m) => m.name === 'bdev_raid_create')?.params?.find((p) => p.name === 'base_bdevs')?.type).toBe('string');
    expect(interfaceMembers(generated, 'BdevRaidCreateParams')).toContain('  base_bdevs: string[];');
    expect(memberDoc(generated, 'BdevRaidCreateParams', 'base_bdevs')).toMatch(/decode_base_bdevs\); the schema says "string"/);
  });

  it('writes each parameter\'s and object field\'s schema description as its doc comment', () => {
    const pascal = (name: string) => name.split('_').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
    const owners = [
      ...schema.methods.map((method) => ({ iface: `${pascal(method.name)}Params`, fields: method.params ?? [] })),
      ...schema.objects.map((object) => ({ iface: pascal(object.name), fields: object.fields })),
    ];
    let described = 0;
    let checked = 0;
    for (const { iface, fields } of owners) {
      for (const field of fields) {
        if (!field.description) continue;
        described++;
        // Doxygen's `@ref rpc_x` reads as `x` in TSDoc.
        const expected = field.description.replace(/@ref\s+(?:rpc_)?([\w.]+)/g, '`$1`').replace(/\s+/g, ' ').trim();
        expect(memberDoc(generated, iface, field.name).replace(/\\@/g, '@').replace(/\*\\\//g, '*/'), `${iface}.${field.name}`).toContain(expected);
        checked++;
      }
    }
    // SPDK v26.01's decoders read every described parameter, so none was left out.
    expect(described).toBe(822);
    expect(checked).toBe(described);
  });

  it('documents each method with SPDK\'s description and a link to its reference', () => {
    expect(generated).toMatch(/\/\*\*\n {3}\* Constructs new RAID bdev\.\n {3}\* @see https:\/\/spdk\.io\/doc\/jsonrpc\.html#rpc_bdev_raid_create\n {3}\*\/\n {2}bdev_raid_create\(/);
  });

  it('takes types, optionality and presence from SPDK\'s decoders where they disagree with the schema', () => {
    const text = generator.generate({
      objects: [],
      methods: [
        {
          name: 'demo_create',
          params: [
            { name: 'names', type: 'string', required: true, description: 'Names, space separated' },
            { name: 'size', type: 'number', required: true },
            { name: 'gone', type: 'string', description: 'Not read by SPDK' },
          ],
        },
        { name: 'demo_unknown', params: [{ name: 'x', type: 'array', required: true }] },
      ],
    }, {
      warn: () => {},
      facts: {
        decoders: {
          demo_create: {
            handler: 'rpc_demo_create', file: 'lib/demo/demo_rpc.c',
            tables: [{ name: 'rpc_demo_decoders', file: 'lib/demo/demo_rpc.c', in: 'lib/demo/demo_rpc.c rpc_demo_create' }],
            params: {
              names: { optional: false, type: { kind: 'array', element: { kind: 'string' }, via: 'lib/demo/demo_rpc.c decode_names' }, table: 0 },
              size: { optional: true, type: { kind: 'number', via: 'spdk_json_decode_uint64' }, table: 0 },
              extra: { optional: true, type: { kind: 'object', fields: { a: { optional: false, type: { kind: 'boolean' } } } }, table: 0 },
            },
          },
        },
      },
    });
    expect(interfaceMembers(text, 'DemoCreateParams')).toEqual(['  names: string[];', '  size?: number;', '  extra?: {', '    a: boolean;', '  };']);
    expect(memberDoc(text, 'DemoCreateParams', 'names')).toBe('Names, space separated SPDK\'s decoder takes string[] (lib/demo/demo_rpc.c decode_names); the schema says "string".');
    expect(memberDoc(text, 'DemoCreateParams', 'size')).toBe('Optional for SPDK\'s decoder; the schema marks it required.');
    expect(memberDoc(text, 'DemoCreateParams', 'extra')).toBe('Not in the schema; SPDK\'s decoder reads it.');
    expect(text).toMatch(/The schema also lists `gone`, which SPDK's decoder does not read; left out\.\s*\*\/\nexport interface DemoCreateParams/);
    // `names` is required by the decoder, so the params argument is too.
    expect(text).toContain('  demo_create(params: DemoCreateParams)');
    // A method the facts do not know keeps the schema's types.
    expect(interfaceMembers(text, 'DemoUnknownParams')).toEqual(['  x: unknown[];']);
  });

  it('infers result types from example responses: fields, merged array elements, true as boolean', () => {
    const shape = docResults.shapeOf([
      { name: 'a', size: 1, tags: [], flags: { ro: true } },
      { name: 'b', size: 2, tags: ['x'], extra: null },
    ]);
    const { text, count } = generator.generateResults({ methods: [{ name: 'demo_get' }, { name: 'demo_set' }, { name: 'demo_undocumented' }] }, {
      facts: { results: { demo_get: { responseText: 'The list.', result: shape }, demo_set: { result: docResults.shapeOf(true) }, demo_undocumented: {} } },
    });
    expect(count).toBe(2);
    expect(interfaceMembers(text, 'RpcDocumentedResultMap')).toEqual([
      '  demo_get: {',
      '    name: string;',
      '    size: number;',
      '    tags: string[];',
      '    flags?: {',
      '      ro: boolean;',
      '    };',
      '    extra?: null;',
      '  }[];',
      '  demo_set: boolean;',
    ]);
    expect(docResults.mergeShapes(docResults.shapeOf(1), docResults.shapeOf('x'))).toEqual({ kind: 'union', of: [{ kind: 'number' }, { kind: 'string' }] });
  });

  it('corrects example shapes where the example misleads: element, optional, opaque, map', () => {
    const example = docResults.shapeOf([{ mask: '0x1', bdev: { enabled: true }, nvmf: { enabled: false }, config: [{ method: 'a', params: { x: 1 } }] }]);
    let shape = docResults.correct(example, { method: 'demo', path: '', op: 'element' });
    shape = docResults.correct(shape, { method: 'demo', path: '.config[]', op: 'optional', fields: ['params'] });
    shape = docResults.correct(shape, { method: 'demo', path: '.config[].params', op: 'opaque' });
    const mapped = docResults.correct(docResults.shapeOf({ mask: '0x1', bdev: { enabled: true }, nvmf: { enabled: false } }), { method: 'demo', path: '', op: 'map', keep: ['mask'] });
    const { text } = generator.generateResults({ methods: [{ name: 'demo_get' }, { name: 'demo_map' }] }, {
      facts: { results: { demo_get: { result: shape }, demo_map: { result: mapped } } },
    });
    expect(interfaceMembers(text, 'RpcDocumentedResultMap')).toEqual([
      '  demo_get: {',
      '    mask: string;',
      '    bdev: {',
      '      enabled: boolean;',
      '    };',
      '    nvmf: {',
      '      enabled: boolean;',
      '    };',
      '    config: {',
      '      method: string;',
      '      params?: Record<string, unknown>;',
      '    }[];',
      '  };',
      '  demo_map: {',
      '    mask: string;',
      '    [name: string]: {',
      '      enabled: boolean;',
      '    } | string;',
      '  };',
    ]);
    expect(() => docResults.correct(example, { method: 'demo', path: '.nothing', op: 'opaque' })).toThrow(/nothing at "\.nothing"/);
  });

  it('types the result of every method whose example response SPDK documents (289 of 292 in v26.01)', () => {
    const facts = generator.readFacts();
    const documented = schema.methods.filter((m) => facts.results[m.name]?.result !== undefined).map((m) => m.name).sort();
    expect(documented).toHaveLength(289);
    const members = interfaceMembers(generatedResults, 'RpcDocumentedResultMap').filter((line) => /^ {2}\w/.test(line)).map((line) => line.trim().split(':')[0]);
    expect(members).toEqual(documented);
    expect(generatedResults).toContain('  bdev_raid_create: boolean;');
    expect(generatedResults).toMatch(/ {2}bdev_raid_get_bdevs: \{\n {4}name: string;[^]*? {4}base_bdevs_list: \{\n {6}name: string;/);
  });

  it('marks deprecated aliases as @deprecated', () => {
    expect(generated).toMatch(/@deprecated A deprecated alias of `bdev_ftl_create`[^]*?bdev_ftl_load\(/);
  });

  it('never emits `any` (outside comments)', () => {
    expect(withoutComments(generated)).not.toMatch(/\bany\b/);
    expect(withoutComments(generatedResults)).not.toMatch(/\bany\b/);
  });

  it('produces the same output from the same schema', () => {
    const parsed: unknown = JSON.parse(fs.readFileSync(sharedSchemaPath, 'utf8'));
    const warnings: string[] = [];
    const first = generator.generate(parsed, { warn: (message) => warnings.push(message) });
    expect(generator.generate(parsed, { warn: () => {} })).toBe(first);
    expect(warnings).toEqual([]);
  });

  it('uses enums, array items and classes when a schema provides them', () => {
    const text = generator.generate({
      objects: [{ name: 'thing', fields: [{ name: 'id', type: 'number', required: true }] }],
      methods: [
        {
          name: 'demo_method',
          params: [
            { name: 'mode', type: 'string', enum: ['all', 'none'], required: true },
            { name: 'tags', type: 'array', items: { type: 'string' } },
            { name: 'things', type: 'array', class: 'thing' },
            { name: 'opaque', type: 'object' },
            { name: 'weird-name', type: 'boolean' },
          ],
        },
      ],
    }, { warn: () => {} });
    expect(text).toContain('  mode: "all" | "none";');
    expect(text).toContain('  tags?: string[];');
    expect(text).toContain('  things?: Thing[];');
    expect(text).toContain('  opaque?: Record<string, unknown>;');
    expect(text).toContain('  "weird-name"?: boolean;');
  });

  it('refuses a schema whose names would collide or shadow client members', () => {
    const quiet = { warn: () => {} };
    expect(() => generator.generate({ methods: [{ name: 'a_b', params: [{ name: 'x', type: 'string' }] }, { name: 'a_b', params: [] }] }, quiet)).toThrow(/appears twice/);
    expect(() => generator.generate({ methods: [{ name: 'close', params: [] }] }, quiet)).toThrow(/shadow/);
    expect(() => generator.generate({ objects: [{ name: 'x_params', fields: [] }], methods: [{ name: 'x', params: [{ name: 'a', type: 'string' }] }] }, quiet)).toThrow(/both be named XParams/);
    expect(() => generator.generate({ nothing: true }, quiet)).toThrow(/no "methods" array/);
  });

  it('matches the committed src/rpc/methods.generated.ts and results.generated.ts (run `npm run gen:rpc` if not)', () => {
    // The committed files come from the default schema: spdk/schema/schema.json, else the shared copy.
    const out = path.join(tempDir, 'default', 'methods.generated.ts');
    execFileSync(process.execPath, [generatorPath, '--out', out], { stdio: 'pipe' });
    expect(fs.readFileSync(committedPath, 'utf8')).toBe(fs.readFileSync(out, 'utf8'));
    expect(fs.readFileSync(committedResultsPath, 'utf8')).toBe(fs.readFileSync(path.join(tempDir, 'default', 'results.generated.ts'), 'utf8'));
  });

  it('compiles with the client under the project\'s compiler options, enforcing parameter types', () => {
    // The freshly generated file next to copies of the hand-written sources, plus a file of typed calls
    // where every @ts-expect-error line must fail to compile and every other line must compile.
    const project = path.join(tempDir, 'project');
    fs.mkdirSync(path.join(project, 'rpc'), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, 'src/errors.ts'), path.join(project, 'errors.ts'));
    for (const file of ['client.ts', 'json-stream.ts', 'results.ts', 'index.ts']) {
      fs.copyFileSync(path.join(repoRoot, 'src/rpc', file), path.join(project, 'rpc', file));
    }
    fs.writeFileSync(path.join(project, 'rpc/methods.generated.ts'), generated);
    fs.writeFileSync(path.join(project, 'rpc/results.generated.ts'), generatedResults);
    fs.writeFileSync(path.join(project, 'rpc/typed-calls.ts'), TYPED_CALLS);

    const configFile = ts.readConfigFile(path.join(repoRoot, 'tsconfig.json'), (file) => ts.sys.readFile(file));
    const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, repoRoot);
    const program = ts.createProgram([path.join(project, 'rpc/index.ts'), path.join(project, 'rpc/typed-calls.ts')], {
      ...options,
      rootDir: project,
      noEmit: true,
      typeRoots: [path.join(repoRoot, 'node_modules/@types')],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const where = diagnostic.file && diagnostic.start !== undefined
        ? `${path.basename(diagnostic.file.fileName)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1} `
        : '';
      return where + ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    });
    expect(diagnostics).toEqual([]);
  }, 120_000);

  it('type-checks the JSON-RPC tests against the committed types (test/spdk/rpc.test.ts calls bdev_raid_create as typed)', () => {
    const configFile = ts.readConfigFile(path.join(repoRoot, 'tsconfig.json'), (file) => ts.sys.readFile(file));
    const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, repoRoot);
    const program = ts.createProgram([path.join(repoRoot, 'test/spdk/rpc.test.ts')], { ...options, rootDir: repoRoot, noEmit: true });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const where = diagnostic.file && diagnostic.start !== undefined
        ? `${path.relative(repoRoot, diagnostic.file.fileName)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1} `
        : '';
      return where + ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    });
    expect(diagnostics).toEqual([]);
  }, 120_000);
});

const TYPED_CALLS = `
import { RpcClient, type BdevInfo } from './index';

export async function typedCalls(client: RpcClient, anyName: string): Promise<unknown[]> {
  const listed: BdevInfo[] = await client.bdev_get_bdevs();
  const viaCall: BdevInfo[] = await client.call('bdev_get_bdevs', { name: 'Malloc0' });
  const created: string = await client.bdev_malloc_create({ num_blocks: 1, block_size: 512 });
  const raided: boolean = await client.bdev_raid_create({ name: 'Raid0', raid_level: '0', base_bdevs: ['Malloc0', 'Malloc1'], strip_size_kb: 64 });
  const raids = await client.bdev_raid_get_bdevs({ category: 'all' });
  const baseNames: string[] = raids.flatMap((raid) => raid.base_bdevs_list.map((base) => base.name));
  // @ts-expect-error base_bdevs is an array, not the whitespace-separated string the schema describes
  await client.bdev_raid_create({ name: 'Raid1', raid_level: '0', base_bdevs: 'Malloc0 Malloc1' });
  // @ts-expect-error a documented result has the fields of SPDK's example, not others
  raids[0]?.no_such_field;
  const noParams = await client.call('framework_start_init');
  const untyped: unknown = await client.call('bdev_from_the_future', { depth: 1 });
  const dynamic: unknown = await client.call(anyName);
  // @ts-expect-error bdev_malloc_create requires params
  await client.call('bdev_malloc_create');
  // @ts-expect-error a misspelt parameter of a known method
  await client.call('bdev_get_bdevs', { nmae: 'x' });
  // @ts-expect-error framework_start_init takes no params
  await client.call('framework_start_init', {});
  // @ts-expect-error num_blocks is a number
  await client.bdev_malloc_create({ num_blocks: '1', block_size: 512 });
  await using disposable = await RpcClient.connect('/var/tmp/spdk.sock');
  return [listed, viaCall, created, raided, baseNames, noParams, untyped, dynamic, disposable];
}
`;
