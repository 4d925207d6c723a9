// The cross-check of the generated RPC types against SPDK's own JSON decoders: the C reader on a
// small tree written here (no SPDK needed), then scripts/check-rpc-decoders.js on the real SPDK tree
// (SPDK_DIR, /root/src/spdk or the spdk submodule; skipped, with the reason, where there is none).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '../..');
const load = createRequire(__filename);

interface Shape { kind: string; element?: Shape; fields?: Record<string, Field>; of?: string[]; via?: string }
interface Field { optional: boolean; type: Shape; requiredBy?: string }
interface MethodFacts {
  handler: string;
  file: string;
  tables: { name: string; in: string }[];
  params: Record<string, Field> | null;
  noParams: boolean;
  aliasOf?: string;
}
const decoders = load(path.join(repoRoot, 'scripts/rpc-decoders.js')) as {
  readDecoderFacts(dir: string): Record<string, MethodFacts>;
  findSpdkTree(repoRoot: string): string | undefined;
};
const generator = load(path.join(repoRoot, 'scripts/gen-rpc-types.js')) as {
  readFacts(): unknown;
  readFactsFromTree(dir: string): unknown;
};
const checkScript = path.join(repoRoot, 'scripts/check-rpc-decoders.js');

// A miniature SPDK tree in SPDK's style, covering each way the reader links methods to decoders.
const DEMO_RPC_C = `
/* static const struct spdk_json_object_decoder commented_out[] = { {"nope", 0, spdk_json_decode_bool} }; */
struct rpc_demo_create {
	char *name;
	struct { char *names[8]; size_t count; } list;
	uint32_t size;
	bool ro;
};

static int
decode_names(const struct spdk_json_val *val, void *out)
{
	struct rpc_demo_names *list = out;
	return spdk_json_decode_array(val, spdk_json_decode_string, list->names, 8, &list->count, sizeof(char *));
}

static const struct spdk_json_object_decoder rpc_demo_addr_decoders[] = {
	{"host", offsetof(struct rpc_demo_addr, host), spdk_json_decode_string},
	{"port", offsetof(struct rpc_demo_addr, port), spdk_json_decode_uint16, true},
};

static int
decode_addr(const struct spdk_json_val *val, void *out)
{
	return spdk_json_decode_object(val, rpc_demo_addr_decoders, SPDK_COUNTOF(rpc_demo_addr_decoders), out);
}

static int
decode_config(const struct spdk_json_val *val, void *out)
{
	if (val->type == SPDK_JSON_VAL_NULL) {
		return 0;
	}
	if (val->type != SPDK_JSON_VAL_OBJECT_BEGIN) {
		return -EINVAL;
	}
	return 0;
}

static const struct spdk_json_object_decoder rpc_demo_create_decoders[] = {
	{"name", offsetof(struct rpc_demo_create, name), spdk_json_decode_string},
	{
		"names", offsetof(struct rpc_demo_create, list.names),
		decode_names
	},
	{"size", offsetof(struct rpc_demo_create, size), spdk_json_decode_uint32, true},
	{"ro", offsetof(struct rpc_demo_create, ro), spdk_json_decode_bool, false},
	{"addr", offsetof(struct rpc_demo_create, addr), decode_addr, true},
	{"config", offsetof(struct rpc_demo_create, config), decode_config, true},
};

static void
rpc_demo_create(struct spdk_jsonrpc_request *request, const struct spdk_json_val *params)
{
	struct rpc_demo_create req = {};

	if (spdk_json_decode_object(params, rpc_demo_create_decoders,
				    SPDK_COUNTOF(rpc_demo_create_decoders), &req)) {
		spdk_jsonrpc_send_error_response(request, SPDK_JSONRPC_ERROR_INVALID_PARAMS, "Invalid parameters");
		return;
	}
	spdk_jsonrpc_send_bool_response(request, true);
}
SPDK_RPC_REGISTER("demo_create", rpc_demo_create, SPDK_RPC_RUNTIME)
SPDK_RPC_REGISTER_ALIAS_DEPRECATED(demo_create, demo_construct)

static const struct spdk_json_object_decoder rpc_demo_delete_decoders[] = {
	{"name", offsetof(struct rpc_demo_delete, name), spdk_json_decode_string},
};

static int
demo_delete_parse(struct rpc_demo_delete *req, const struct spdk_json_val *values)
{
	return spdk_json_decode_object(values, rpc_demo_delete_decoders, SPDK_COUNTOF(rpc_demo_delete_decoders), req);
}

static void
rpc_demo_delete(struct spdk_jsonrpc_request *request, const struct spdk_json_val *params)
{
	struct rpc_demo_delete req = {};

	if (demo_delete_parse(&req, params)) {
		return;
	}
	g_ops->apply(request, params);
}
SPDK_RPC_REGISTER("demo_delete", rpc_demo_delete, SPDK_RPC_RUNTIME)

static void
rpc_demo_get_stats(struct spdk_jsonrpc_request *request, const struct spdk_json_val *params)
{
	if (params != NULL) {
		spdk_jsonrpc_send_error_response(request, SPDK_JSONRPC_ERROR_INVALID_PARAMS, "takes no parameters");
		return;
	}
	spdk_jsonrpc_send_bool_response(request, true);
}
SPDK_RPC_REGISTER("demo_get_stats", rpc_demo_get_stats, SPDK_RPC_RUNTIME)
`;

const DEMO_OPS_C = `
static const struct spdk_json_object_decoder demo_ops_decoders[] = {
	{"force", offsetof(struct demo_ops_opts, force), spdk_json_decode_bool, true},
};

static void
demo_ops_apply(struct spdk_jsonrpc_request *request, const struct spdk_json_val *opts)
{
	struct demo_ops_opts o = {};

	spdk_json_decode_object_relaxed(opts, demo_ops_decoders, SPDK_COUNTOF(demo_ops_decoders), &o);
}

static const struct demo_ops g_demo_ops = {
	.name = "demo",
	.apply = demo_ops_apply,
};
`;

describe('the decoder reader (scripts/rpc-decoders.js) on a small tree in SPDK\'s style', () => {
  let tree: string;
  let facts: Record<string, MethodFacts>;

  beforeAll(() => {
    tree = fs.mkdtempSync(path.join(os.tmpdir(), 'spdk-node-decoders-'));
    fs.mkdirSync(path.join(tree, 'lib/demo'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'module/ops'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'lib/demo/demo_rpc.c'), DEMO_RPC_C);
    fs.writeFileSync(path.join(tree, 'module/ops/demo_ops.c'), DEMO_OPS_C);
    facts = decoders.readDecoderFacts(tree);
  });

  afterAll(() => {
    if (tree) fs.rmSync(tree, { recursive: true, force: true });
  });

  it('finds every registration and deprecated alias, and no table inside a comment', () => {
    expect(Object.keys(facts).sort()).toEqual(['demo_construct', 'demo_create', 'demo_delete', 'demo_get_stats']);
    expect(facts.demo_construct).toMatchObject({ aliasOf: 'demo_create', handler: 'rpc_demo_create' });
    expect(JSON.stringify(facts)).not.toContain('nope');
  });

  it('reads each table entry\'s name, decoder and optional flag, across lines and with nested offsetof', () => {
    const params = facts.demo_create!.params!;
    expect(Object.keys(params)).toEqual(['name', 'names', 'size', 'ro', 'addr', 'config']);
    expect(params.name).toMatchObject({ optional: false, type: { kind: 'string' } });
    expect(params.size).toMatchObject({ optional: true, type: { kind: 'number', via: 'spdk_json_decode_uint32' } });
    expect(params.ro).toMatchObject({ optional: false, type: { kind: 'boolean' } });
  });

  it('types custom decoders by what they do: decode an array, an object, or check val->type', () => {
    const params = facts.demo_create!.params!;
    expect(params.names!.type).toMatchObject({ kind: 'array', element: { kind: 'string' }, via: 'lib/demo/demo_rpc.c decode_names' });
    expect(params.addr!.type).toMatchObject({
      kind: 'object',
      fields: { host: { optional: false, type: { kind: 'string' } }, port: { optional: true, type: { kind: 'number' } } },
    });
    expect(params.config!.type).toMatchObject({ kind: 'union', of: ['null', 'object'] });
  });

  it('follows the params into helpers by argument position and through ops pointers to every implementation', () => {
    const { tables, params } = facts.demo_delete!;
    expect(tables.map((table) => table.name)).toEqual(['rpc_demo_delete_decoders', 'demo_ops_decoders']);
    expect(tables[1]!.in).toBe('module/ops/demo_ops.c demo_ops_apply');
    // The method's own table decides what is required; tables reached later are conditional.
    expect(params).toMatchObject({ name: { optional: false }, force: { optional: true, type: { kind: 'boolean' } } });
  });

  it('knows a handler that refuses params', () => {
    expect(facts.demo_get_stats).toMatchObject({ params: null, noParams: true });
  });
});

const spdkTree = decoders.findSpdkTree(repoRoot);
const describeWithTree = spdkTree
  ? describe
  : (name: string, body: () => void) => describe.skip(`${name} [skipped: no SPDK source tree; set SPDK_DIR, unpack one at /root/src/spdk, or run git submodule update --init spdk]`, body);

describeWithTree('check-rpc-decoders against the SPDK tree', () => {
  let tempDir: string;

  beforeAll(() => {
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spdk-node-check-'));
  });

  afterAll(() => {
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  });

  const runCheck = (...args: string[]) => spawnSync(process.execPath, [checkScript, '--spdk', spdkTree!, ...args], { encoding: 'utf8' });

  it('finds no mismatch between src/rpc/methods.generated.ts and SPDK\'s decoders, only documented exceptions', () => {
    const run = runCheck();
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('methods checked: 292');
    expect(run.stdout).toMatch(/\n0 mismatch\(es\), 8 documented exception\(s\)\n$/);
    // Each exception says why it is accepted.
    expect(run.stdout.match(/^ {10}accepted: the decoder marks it optional, but .+$/gm)).toHaveLength(8);
    expect(run.status).toBe(0);
  });

  it('reports a wrong type, a missing, an extra and a wrongly optional parameter, and fails', () => {
    const committed = fs.readFileSync(path.join(repoRoot, 'src/rpc/methods.generated.ts'), 'utf8');
    const broken = committed
      .replace(/( {2}base_bdevs): string\[\];/, '$1: string;')
      .replace(/(export interface BdevMallocDeleteParams \{\n(?:.*\n)*? {2})name: string;/, '$1name: string;\n  force?: boolean;')
      .replace(/(export interface BdevNullCreateParams \{\n(?:.*\n)*?) {2}num_blocks: number;\n/, '$1')
      .replace(/(export interface BdevGetBdevsParams \{\n(?:.*\n)*? {2})timeout\?: number;/, '$1timeout: number;');
    expect(broken).not.toBe(committed);
    const file = path.join(tempDir, 'broken.generated.ts');
    fs.writeFileSync(file, broken);
    const run = runCheck('--types', file);
    expect(run.stdout).toContain('type      bdev_raid_create.base_bdevs: SPDK takes string[], typed string (module/bdev/raid/bdev_raid_rpc.c decode_base_bdevs)');
    expect(run.stdout).toMatch(/^extra {5}bdev_malloc_delete\.force: typed boolean, SPDK's decoder has no such field/m);
    expect(run.stdout).toMatch(/^missing {3}bdev_null_create\.num_blocks: SPDK takes num_blocks: number/m);
    expect(run.stdout).toMatch(/^optional {2}bdev_get_bdevs\.timeout: SPDK says optional, typed required/m);
    expect(run.stdout).toMatch(/\n4 mismatch\(es\), 8 documented exception\(s\)\n$/);
    expect(run.status).toBe(1);
  });

  it('finds the tree\'s facts unchanged in scripts/rpc-facts.json (else run `npm run gen:rpc -- --refresh-facts`)', () => {
    expect(generator.readFactsFromTree(spdkTree!)).toEqual(generator.readFacts());
  });
});
