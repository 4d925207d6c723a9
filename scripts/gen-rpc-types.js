#!/usr/bin/env node
'use strict';
// Generates src/rpc/methods.generated.ts from SPDK's JSON-RPC schema (schema/schema.json in an SPDK
// tree): one params interface per method, the method -> params map, and an abstract class with one
// typed method per RPC. Types only; the transport lives in src/rpc/client.ts.
//
//   node scripts/gen-rpc-types.js [path/to/schema.json] [--out path/to/output.ts]
//
// The schema is taken as the truth. Where it is too vague to type a parameter (an "array" without an
// element type) or says something SPDK's own decoder contradicts, ARRAY_AND_TYPE_HINTS below supplies
// the type read from the C decoder. A hint that no longer matches the schema is skipped with a warning,
// so a newer schema that says more wins over the hints.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const REPO_ROOT = path.resolve(__dirname, '..');
// The submodule first; the shared copy lets the generator run before `git submodule update`.
const DEFAULT_SCHEMAS = ['spdk/schema/schema.json', '../shared/spdk/rpc-schema-v26.01.json'];
const DEFAULT_OUT = 'src/rpc/methods.generated.ts';
const DOC_BASE = 'https://spdk.io/doc/jsonrpc.html';

/**
 * Types the schema does not give, read from SPDK's decoders (file and function named in `source`).
 * `where` is `method.param` or `object:name.field`; `schemaType` is what the schema must still say for
 * the hint to apply; `type` is either a TypeScript type over primitives or `{ class, array }`.
 */
const ARRAY_AND_TYPE_HINTS = [
  { where: 'bdev_get_iostat.names', schemaType: 'array', type: 'string[]', source: 'lib/bdev/bdev_rpc.c rpc_decode_iostat_bdev_names' },
  { where: 'bdev_nvme_set_options.dhchap_digests', schemaType: 'array', type: 'string[]', source: 'module/bdev/nvme/bdev_nvme_rpc.c rpc_decode_digest_array' },
  { where: 'bdev_nvme_set_options.dhchap_dhgroups', schemaType: 'array', type: 'string[]', source: 'module/bdev/nvme/bdev_nvme_rpc.c rpc_decode_dhgroup_array' },
  { where: 'nvmf_set_config.dhchap_digests', schemaType: 'array', type: 'string[]', source: 'module/event/subsystems/nvmf/nvmf_rpc.c decode_digest_array' },
  { where: 'nvmf_set_config.dhchap_dhgroups', schemaType: 'array', type: 'string[]', source: 'module/event/subsystems/nvmf/nvmf_rpc.c decode_dhgroup_array' },
  { where: 'nvmf_set_config.admin_cmd_passthru', schemaType: 'array', type: { class: 'nvmf_admin_cmd_passthru', array: false }, source: 'module/event/subsystems/nvmf/nvmf_rpc.c decode_admin_passthru (an object, not an array)' },
  { where: 'nvmf_create_transport.masked_oncs', schemaType: 'array', type: 'string[]', source: 'lib/nvmf/nvmf_rpc.c decode_masked_oncs_array' },
  { where: 'nvmf_create_transport.masked_fuses', schemaType: 'array', type: 'string[]', source: 'lib/nvmf/nvmf_rpc.c decode_masked_fuses_array' },
  { where: 'framework_set_scheduler.mappings', schemaType: 'array', type: 'string', source: 'lib/event/scheduler_static.c static_sched_decoders (a comma-separated string)' },
  { where: 'iscsi_create_auth_group.secrets', schemaType: 'array', type: { class: 'iscsi_auth_secret', array: true }, source: 'lib/iscsi/iscsi_rpc.c decode_rpc_auth_secrets' },
  { where: 'iscsi_create_initiator_group.initiators', schemaType: 'array', type: 'string[]', source: 'lib/iscsi/iscsi_rpc.c decode_rpc_initiator_list' },
  { where: 'iscsi_create_initiator_group.netmasks', schemaType: 'array', type: 'string[]', source: 'lib/iscsi/iscsi_rpc.c decode_rpc_netmask_list' },
  { where: 'iscsi_initiator_group_add_initiators.initiators', schemaType: 'array', type: 'string[]', source: 'lib/iscsi/iscsi_rpc.c decode_rpc_initiator_list' },
  { where: 'iscsi_initiator_group_add_initiators.netmasks', schemaType: 'array', type: 'string[]', source: 'lib/iscsi/iscsi_rpc.c decode_rpc_netmask_list' },
  { where: 'iscsi_initiator_group_remove_initiators.initiators', schemaType: 'array', type: 'string[]', source: 'lib/iscsi/iscsi_rpc.c decode_rpc_initiator_list' },
  { where: 'iscsi_initiator_group_remove_initiators.netmasks', schemaType: 'array', type: 'string[]', source: 'lib/iscsi/iscsi_rpc.c decode_rpc_netmask_list' },
  { where: 'iscsi_create_target_node.pg_ig_maps', schemaType: 'array', type: { class: 'iscsi_pg_ig_map', array: true }, source: 'lib/iscsi/iscsi_rpc.c decode_rpc_pg_ig_maps' },
  { where: 'iscsi_create_target_node.luns', schemaType: 'array', type: { class: 'iscsi_lun', array: true }, source: 'lib/iscsi/iscsi_rpc.c decode_rpc_luns' },
  { where: 'iscsi_target_node_add_pg_ig_maps.pg_ig_maps', schemaType: 'array', type: { class: 'iscsi_pg_ig_map', array: true }, source: 'lib/iscsi/iscsi_rpc.c decode_rpc_pg_ig_maps' },
  { where: 'iscsi_target_node_remove_pg_ig_maps.pg_ig_maps', schemaType: 'array', type: { class: 'iscsi_pg_ig_map', array: true }, source: 'lib/iscsi/iscsi_rpc.c decode_rpc_pg_ig_maps' },
  { where: 'iscsi_create_portal_group.portals', schemaType: 'array', type: { class: 'iscsi_portal', array: true }, source: 'lib/iscsi/iscsi_rpc.c decode_rpc_portal_list' },
  { where: 'object:vhost_scsi_controller_params.luns', schemaType: 'array', type: { class: 'vhost_scsi_luns_controller_params', array: true }, source: 'lib/vhost/vhost_scsi.c vhost_scsi_dump_info_json (the "luns" array)' },
];

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
// RPC methods become class members, so they must not shadow the client's own members, nor `then`
// (an object with a `then` method is treated as a promise by `await`).
const RESERVED_MEMBERS = new Set(['call', 'close', 'closed', 'address', 'connect', 'constructor', 'then', 'toString', 'toJSON', 'valueOf']);

function pascalCase(snake) {
  return snake
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

function propertyKey(name) {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

function fail(message) {
  const error = new Error(message);
  error.name = 'SchemaError';
  throw error;
}

/** Checks the parts of the schema the generator relies on, so a changed format fails loudly here. */
function validateSchema(schema) {
  if (schema === null || typeof schema !== 'object' || !Array.isArray(schema.methods)) {
    fail('schema has no "methods" array; is this SPDK\'s schema/schema.json?');
  }
  const objects = schema.objects === undefined ? [] : schema.objects;
  if (!Array.isArray(objects)) fail('schema "objects" is not an array');
  const checkFields = (owner, fields) => {
    if (!Array.isArray(fields)) fail(`${owner}: expected an array of parameters`);
    const seen = new Set();
    for (const field of fields) {
      if (field === null || typeof field !== 'object' || typeof field.name !== 'string' || field.name === '') {
        fail(`${owner}: every parameter needs a non-empty "name"`);
      }
      if (seen.has(field.name)) fail(`${owner}: parameter "${field.name}" appears twice`);
      seen.add(field.name);
    }
  };
  const methodNames = new Set();
  for (const method of schema.methods) {
    if (method === null || typeof method !== 'object' || typeof method.name !== 'string' || !IDENTIFIER.test(method.name)) {
      fail(`method name ${JSON.stringify(method && method.name)} is not usable as a TypeScript method name`);
    }
    if (RESERVED_MEMBERS.has(method.name)) fail(`method "${method.name}" would shadow a member of RpcClient`);
    if (methodNames.has(method.name)) fail(`method "${method.name}" appears twice`);
    methodNames.add(method.name);
    checkFields(`method ${method.name}`, method.params === undefined ? [] : method.params);
  }
  for (const object of objects) {
    if (object === null || typeof object !== 'object' || typeof object.name !== 'string' || object.name === '') {
      fail('every schema object needs a non-empty "name"');
    }
    checkFields(`object ${object.name}`, object.fields === undefined ? [] : object.fields);
  }
  return { methods: schema.methods, objects };
}

/** The SPDK version the schema belongs to: the schema's own field, the tree's version.h, or the file name. */
function detectSpdkVersion(schema, schemaPath) {
  for (const key of ['spdk_version', 'version']) {
    if (typeof schema[key] === 'string' && schema[key] !== '') return schema[key].replace(/^SPDK v?/i, '');
  }
  const versionHeader = path.join(path.dirname(schemaPath), '..', 'include', 'spdk', 'version.h');
  if (fs.existsSync(versionHeader)) {
    const text = fs.readFileSync(versionHeader, 'utf8');
    const field = (name) => {
      const match = new RegExp(`#define\\s+SPDK_VERSION_${name}\\s+(\\S+)`).exec(text);
      return match ? match[1] : undefined;
    };
    const major = field('MAJOR');
    const minor = field('MINOR');
    if (major !== undefined && minor !== undefined) {
      const patch = Number(field('PATCH') || 0);
      const suffix = (field('SUFFIX') || '""').replace(/^"|"$/g, '');
      // Same shape as SPDK_VERSION_STRING: minor zero-padded, patch only when non-zero.
      return `${major}.${minor.padStart(2, '0')}${patch ? `.${patch}` : ''}${suffix}`;
    }
  }
  const fromName = /v(\d+\.\d+(?:\.\d+)?(?:-[\w.]+)?)\.json$/.exec(path.basename(schemaPath));
  return fromName ? fromName[1] : undefined;
}

function indexHints(warn) {
  const hints = new Map();
  for (const hint of ARRAY_AND_TYPE_HINTS) hints.set(hint.where, { ...hint, used: false });
  return {
    take(where, field) {
      const hint = hints.get(where);
      if (!hint) return undefined;
      hint.used = true;
      if (field.type !== hint.schemaType) {
        warn(`hint for ${where} skipped: the schema now says "${field.type}", the hint expected "${hint.schemaType}"`);
        return undefined;
      }
      return hint;
    },
    reportUnused() {
      for (const hint of hints.values()) {
        if (!hint.used) warn(`hint for ${hint.where} skipped: no such parameter in this schema`);
      }
    },
  };
}

function generate(schema, info = {}) {
  const warn = info.warn || ((message) => process.stderr.write(`gen-rpc-types: ${message}\n`));
  const { methods, objects } = validateSchema(schema);
  const hints = indexHints(warn);

  const objectTypeNames = new Map();
  const takenTypeNames = new Map(); // TypeScript name -> what it was made from, to refuse collisions
  const claim = (typeName, origin) => {
    if (takenTypeNames.has(typeName)) {
      fail(`${origin} and ${takenTypeNames.get(typeName)} would both be named ${typeName}`);
    }
    takenTypeNames.set(typeName, origin);
    return typeName;
  };
  for (const name of ['RpcParamsMap', 'RpcMethodName', 'RpcCallParams', 'RpcMethods', 'RpcResult']) claim(name, 'a generated helper');
  for (const object of objects) objectTypeNames.set(object.name, claim(pascalCase(object.name), `object ${object.name}`));

  const classType = (className, owner) => {
    const typeName = objectTypeNames.get(className);
    if (typeName === undefined) {
      warn(`${owner} refers to object class "${className}", which the schema does not define; typed as Record<string, unknown>`);
      return 'Record<string, unknown>';
    }
    return typeName;
  };

  // Returns [TypeScript type, comment or undefined] for one parameter or object field.
  const fieldType = (field, where, owner) => {
    const hint = hints.take(where, field);
    if (hint) {
      const type = typeof hint.type === 'string' ? hint.type : classType(hint.type.class, owner) + (hint.type.array ? '[]' : '');
      const comment = field.type === 'array' && (typeof hint.type === 'string' ? hint.type.endsWith('[]') : hint.type.array)
        ? 'Element type from SPDK\'s C code; the schema says only "array".'
        : `Type from SPDK's C code; the schema says "${field.type}".`;
      return [type, comment];
    }
    if (Array.isArray(field.enum) && field.enum.length > 0) {
      return [field.enum.map((value) => JSON.stringify(value)).join(' | '), undefined];
    }
    switch (field.type) {
      case 'string':
      case 'number':
      case 'boolean':
        return [field.type, undefined];
      case 'array': {
        // Future schemas may describe elements with "items" (JSON Schema style) or "class".
        if (typeof field.class === 'string') return [`${classType(field.class, owner)}[]`, undefined];
        if (field.items && typeof field.items === 'object') {
          const [itemType] = fieldType({ ...field.items, name: field.name }, `${where}[]`, owner);
          return [/[|&]/.test(itemType) ? `Array<${itemType}>` : `${itemType}[]`, undefined];
        }
        return ['unknown[]', undefined];
      }
      case 'object':
        return [typeof field.class === 'string' ? classType(field.class, owner) : 'Record<string, unknown>', undefined];
      default:
        warn(`${owner}: parameter "${field.name}" has unknown type ${JSON.stringify(field.type)}; typed as unknown`);
        return ['unknown', undefined];
    }
  };

  const renderFields = (fields, wherePrefix, owner) => {
    const lines = [];
    for (const field of fields) {
      const [type, comment] = fieldType(field, `${wherePrefix}.${field.name}`, owner);
      if (comment) lines.push(`  /** ${comment} */`);
      lines.push(`  ${propertyKey(field.name)}${field.required === true ? '' : '?'}: ${type};`);
    }
    return lines;
  };

  const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const sortedObjects = [...objects].sort(byName);
  const sortedMethods = [...methods].sort(byName);
  // A method's "alias" is a deprecated second name registered for it (SPDK_RPC_REGISTER_ALIAS_DEPRECATED).
  const deprecatedAliasOf = new Map();
  for (const method of methods) {
    if (typeof method.alias === 'string') deprecatedAliasOf.set(method.alias, method.name);
  }

  const out = [];
  const versionText = info.spdkVersion ? `SPDK v${info.spdkVersion}` : 'SPDK version not recorded in the schema';
  out.push(
    '// GENERATED FILE - DO NOT EDIT.',
    `// Generated by scripts/gen-rpc-types.js from ${info.schemaLabel || 'an SPDK RPC schema'}`,
    `// (${versionText}, ${methods.length} methods${info.schemaSha256 ? `, schema sha256 ${info.schemaSha256.slice(0, 16)}` : ''}).`,
    `// Regenerate with: ${info.command || 'npm run gen:rpc'}`,
    '//',
    '// Parameter types follow the schema; where it says only "array", element types come from SPDK\'s',
    '// decoders (see ARRAY_AND_TYPE_HINTS in the generator). Result types are hand-written in results.ts.',
    '',
    "import type { RpcResult } from './results';",
    '',
  );

  for (const object of sortedObjects) {
    out.push(`/** The \`${object.name}\` object of SPDK's RPC schema. */`);
    out.push(`export interface ${objectTypeNames.get(object.name)} {`);
    out.push(...renderFields(object.fields || [], `object:${object.name}`, `object ${object.name}`));
    out.push('}', '');
  }

  const paramsTypeOf = new Map();
  for (const method of sortedMethods) {
    const params = method.params || [];
    if (params.length === 0) {
      paramsTypeOf.set(method.name, 'void');
      continue;
    }
    const typeName = claim(`${pascalCase(method.name)}Params`, `method ${method.name}`);
    paramsTypeOf.set(method.name, typeName);
    out.push(`/** Parameters of the \`${method.name}\` RPC. */`);
    out.push(`export interface ${typeName} {`);
    out.push(...renderFields(params, method.name, `method ${method.name}`));
    out.push('}', '');
  }
  hints.reportUnused();

  out.push(
    '/** Every RPC method of the schema and the type of its parameters (`void`: the method takes none). */',
    'export interface RpcParamsMap {',
  );
  for (const method of sortedMethods) out.push(`  ${method.name}: ${paramsTypeOf.get(method.name)};`);
  out.push('}', '');

  out.push(
    '/** The name of an RPC method known to this schema. */',
    'export type RpcMethodName = keyof RpcParamsMap;',
    '',
    '/**',
    ' * The parameter list `call()` takes for a method: none when the method has no parameters, an',
    ' * optional object when every parameter is optional, a required object otherwise.',
    ' */',
    'export type RpcCallParams<M extends RpcMethodName> = [RpcParamsMap[M]] extends [void]',
    '  ? []',
    '  : {} extends RpcParamsMap[M]',
    '    ? [params?: RpcParamsMap[M]]',
    '    : [params: RpcParamsMap[M]];',
    '',
    '/**',
    ' * One typed method per RPC, each delegating to `call()`. The transport (RpcClient) extends this',
    ' * and implements `call()`.',
    ' */',
    'export abstract class RpcMethods {',
    '  /** Sends one JSON-RPC request and resolves with its result. */',
    '  abstract call<M extends RpcMethodName>(method: M, ...params: RpcCallParams<M>): Promise<RpcResult<M>>;',
  );
  for (const method of sortedMethods) {
    const paramsType = paramsTypeOf.get(method.name);
    const params = method.params || [];
    const required = params.some((field) => field.required === true);
    const signature = paramsType === 'void' ? '' : `params${required ? '' : '?'}: ${paramsType}`;
    out.push('');
    out.push('  /**');
    out.push(`   * Calls the \`${method.name}\` RPC.`);
    if (deprecatedAliasOf.has(method.name)) {
      out.push(`   * @deprecated A deprecated alias of \`${deprecatedAliasOf.get(method.name)}\`; call that instead.`);
    }
    out.push(`   * @see ${DOC_BASE}#rpc_${method.name}`);
    out.push('   */');
    out.push(`  ${method.name}(${signature}): Promise<RpcResult<'${method.name}'>> {`);
    out.push(`    return this.call('${method.name}'${paramsType === 'void' ? '' : ', params'});`);
    out.push('  }');
  }
  out.push('}', '');
  return out.join('\n');
}

function parseArgs(argv) {
  const args = { schemaPath: undefined, outPath: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      args.help = true;
    } else if (arg === '--out' || arg === '-o') {
      if (i + 1 >= argv.length) fail(`${arg} needs a file path`);
      args.outPath = argv[++i];
    } else if (arg.startsWith('--out=')) {
      args.outPath = arg.slice('--out='.length);
    } else if (arg.startsWith('-')) {
      fail(`unknown option ${arg} (see --help)`);
    } else if (args.schemaPath === undefined) {
      args.schemaPath = arg;
    } else {
      fail(`unexpected argument ${arg}: give one schema path`);
    }
  }
  return args;
}

function resolveSchemaPath(given) {
  if (given !== undefined) {
    const resolved = path.resolve(given);
    if (!fs.existsSync(resolved)) fail(`schema not found: ${resolved}`);
    return resolved;
  }
  for (const candidate of DEFAULT_SCHEMAS) {
    const resolved = path.resolve(REPO_ROOT, candidate);
    if (fs.existsSync(resolved)) return resolved;
  }
  fail(
    `no schema found at ${DEFAULT_SCHEMAS.map((p) => path.resolve(REPO_ROOT, p)).join(' or ')}; ` +
      'run `git submodule update --init spdk` or pass the path of an SPDK schema/schema.json',
  );
}

function toPosix(p) {
  return p.split(path.sep).join('/');
}

function main(argv) {
  const args = parseArgs(argv);
  if (args.help) {
    process.stdout.write('usage: node scripts/gen-rpc-types.js [path/to/schema.json] [--out file.ts]\n' +
      `default schema: ${DEFAULT_SCHEMAS.join(', then ')} (relative to the repository root)\n` +
      `default output: ${DEFAULT_OUT}\n`);
    return;
  }
  const schemaPath = resolveSchemaPath(args.schemaPath);
  const outPath = path.resolve(args.outPath !== undefined ? args.outPath : path.join(REPO_ROOT, DEFAULT_OUT));
  const bytes = fs.readFileSync(schemaPath);
  let schema;
  try {
    schema = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    fail(`${schemaPath} is not valid JSON: ${error.message}`);
  }
  // Paths in the header are relative to the repository, so the output is the same on every machine.
  const schemaLabel = toPosix(path.relative(REPO_ROOT, schemaPath));
  const isDefault = args.schemaPath === undefined || path.resolve(REPO_ROOT, DEFAULT_SCHEMAS[0]) === schemaPath;
  const text = generate(schema, {
    schemaLabel,
    schemaSha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    spdkVersion: detectSpdkVersion(schema, schemaPath),
    command: isDefault ? 'npm run gen:rpc' : `npm run gen:rpc -- ${schemaLabel}`,
  });
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.writeFileSync(outPath, text);
  process.stdout.write(`wrote ${toPosix(path.relative(process.cwd(), outPath))} (${schema.methods.length} methods from ${schemaLabel})\n`);
}

module.exports = { generate, detectSpdkVersion, ARRAY_AND_TYPE_HINTS };

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`gen-rpc-types: ${error.message}\n`);
    process.exitCode = 1;
  }
}
