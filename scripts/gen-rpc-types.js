#!/usr/bin/env node
'use strict';
// Generates the RPC types of spdk-node from SPDK's own descriptions of its RPCs:
//   src/rpc/methods.generated.ts  one params interface per method, the method -> params map, and an
//                                 abstract class with one typed method per RPC;
//   src/rpc/results.generated.ts  result types inferred from the example responses SPDK documents.
// Types only; the transport lives in src/rpc/client.ts.
//
//   node scripts/gen-rpc-types.js [path/to/schema.json] [--out methods.ts] [--results-out results.ts]
//   node scripts/gen-rpc-types.js --refresh-facts [--spdk DIR]     (re-read the SPDK tree first)
//
// Inputs: the schema (schema/schema.json of an SPDK tree) names the methods and gives parameter
// descriptions; scripts/rpc-facts.json holds what an SPDK tree says beyond the schema, derived by
// --refresh-facts: the parameters SPDK's C decoders accept, with their JSON types and which are
// optional (scripts/rpc-decoders.js), and each method's description and example response from
// doc/jsonrpc.md (scripts/rpc-doc-results.js). Where the decoders and the schema disagree, the
// decoders win (they are what SPDK runs) and the parameter's doc comment says what the schema said.
// scripts/check-rpc-decoders.js checks the output against the decoders of a tree.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { propertyKey, docComment, renderShape, kindsOf, IDENTIFIER } = require('./rpc-render');
const { FACTS_PATH, detectSpdkVersion, formatFacts, readFacts, readFactsFromTree } = require('./rpc-facts');

const REPO_ROOT = path.resolve(__dirname, '..');
// The submodule first; the shared copy lets the generator run before `git submodule update`.
const DEFAULT_SCHEMAS = ['spdk/schema/schema.json', '../shared/spdk/rpc-schema-v26.01.json'];
const DEFAULT_OUT = 'src/rpc/methods.generated.ts';
const RESULTS_FILE = 'results.generated.ts';
const DOC_BASE = 'https://spdk.io/doc/jsonrpc.html';

/**
 * Schema objects no decoder reaches (they describe output), where the schema says only "array":
 * the element class, read from the C code named in `source`. Skipped with a warning once the schema
 * says something else.
 */
const SCHEMA_OBJECT_HINTS = [
  { where: 'vhost_scsi_controller_params.luns', schemaType: 'array', class: 'vhost_scsi_luns_controller_params', source: 'lib/vhost/vhost_scsi.c vhost_scsi_dump_info_json (the "luns" array)' },
];

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

function indexHints(warn) {
  const hints = new Map();
  for (const hint of SCHEMA_OBJECT_HINTS) hints.set(hint.where, { ...hint, used: false });
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
        if (!hint.used) warn(`hint for ${hint.where} skipped: no such field in this schema`);
      }
    },
  };
}

/** What a schema field says, as a shape (`class` marks objects of a schema class). */
function schemaShapeOf(field) {
  switch (field.type) {
    case 'string':
    case 'number':
    case 'boolean':
      return { kind: field.type };
    case 'array':
      if (typeof field.class === 'string') return { kind: 'array', element: { kind: 'object', class: field.class } };
      if (field.items && typeof field.items === 'object') return { kind: 'array', element: schemaShapeOf(field.items) };
      return { kind: 'array', element: { kind: 'any' } };
    case 'object':
      return typeof field.class === 'string' ? { kind: 'object', class: field.class } : { kind: 'object' };
    default:
      return { kind: 'any', unknownType: field.type };
  }
}

/** A short description of a shape for doc comments: `string[]`, `object`, `null | object`. */
function describeShape(shape) {
  if (shape.kind === 'array') return `${describeShape(shape.element)}[]`;
  if (shape.kind === 'union') return [...kindsOf(shape)].join(' | ');
  return shape.kind === 'any' ? 'any value' : shape.kind;
}

/**
 * The decoder's shape, with the schema's class names carried over where both describe an object (or
 * array of objects) so that the output keeps the schema's interface names.
 */
function withSchemaClass(decoderShape, schemaShape) {
  if (!schemaShape) return decoderShape;
  if (decoderShape.kind === 'object' && schemaShape.kind === 'object' && schemaShape.class) return { ...decoderShape, class: schemaShape.class };
  if (decoderShape.kind === 'array' && schemaShape.kind === 'array') {
    return { ...decoderShape, element: withSchemaClass(decoderShape.element, schemaShape.element) };
  }
  return decoderShape;
}

function generate(schema, info = {}) {
  const warn = info.warn || ((message) => process.stderr.write(`gen-rpc-types: ${message}\n`));
  const { methods, objects } = validateSchema(schema);
  const facts = info.facts || {};
  const decoders = facts.decoders || {};
  const docs = facts.results || {};
  const hints = indexHints(warn);

  const objectTypeNames = new Map();
  const objectsByName = new Map(objects.map((object) => [object.name, object]));
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
  // A decoder's object with exactly the fields of a schema class is that class.
  const classWithFields = (fields) => {
    const names = Object.keys(fields).sort().join(',');
    const match = objects.find((object) => (object.fields || []).map((f) => f.name).sort().join(',') === names);
    return match && match.name;
  };
  const nameObject = (owner) => (shape) => {
    const className = shape.class || (shape.fields && Object.keys(shape.fields).length > 0 ? classWithFields(shape.fields) : undefined);
    return className === undefined ? undefined : classType(className, owner);
  };

  const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const sortedObjects = [...objects].sort(byName);
  const sortedMethods = [...methods].sort(byName);

  // The decoders' view of each schema class, from the first method (in name order) that decodes it.
  const classFacts = new Map();
  const collectClassFacts = (shape, schemaShape, owner) => {
    const typed = withSchemaClass(shape, schemaShape);
    if (typed.kind === 'array') collectClassFacts(typed.element, schemaShape && schemaShape.element, owner);
    if (typed.kind !== 'object' || !typed.fields) return;
    const className = typed.class || classWithFields(typed.fields);
    if (className === undefined || !objectsByName.has(className)) return;
    if (!classFacts.has(className)) classFacts.set(className, { fields: typed.fields, via: typed.via, owner });
    for (const [name, field] of Object.entries(typed.fields)) {
      const schemaField = (objectsByName.get(className).fields || []).find((f) => f.name === name);
      collectClassFacts(field.type, schemaField && schemaShapeOf(schemaField), owner);
    }
  };
  for (const method of sortedMethods) {
    const decoded = decoders[method.name] && decoders[method.name].params;
    if (!decoded) continue;
    for (const [name, field] of Object.entries(decoded)) {
      const schemaField = (method.params || []).find((f) => f.name === name);
      collectClassFacts(field.type, schemaField && schemaShapeOf(schemaField), `method ${method.name}`);
    }
  }

  /**
   * The member lines of one parameter or object field: its doc comment (the schema's description, then
   * where SPDK's decoder differs from the schema) and `name?: type;`.
   */
  const renderMember = (schemaField, decoderField, where, owner, tableNote) => {
    const name = schemaField ? schemaField.name : where.split('.').pop();
    const notes = [];
    let type;
    let optional;
    const schemaShape = schemaField && schemaShapeOf(schemaField);
    if (decoderField && decoderField.type.kind !== 'any') {
      const shape = withSchemaClass(decoderField.type, schemaShape);
      const kinds = kindsOf(shape);
      if (schemaField && Array.isArray(schemaField.enum) && schemaField.enum.length > 0 && kinds.size === 1 && kinds.has('string')) {
        type = schemaField.enum.map((value) => JSON.stringify(value)).join(' | ');
      } else {
        type = renderShape(shape, { nameObject: nameObject(owner) }, '  ');
      }
      optional = decoderField.optional;
      const via = decoderField.type.via ? ` (${decoderField.type.via})` : '';
      if (!schemaField) {
        notes.push(tableNote ? `Not in the schema; read ${tableNote}, when it applies.` : "Not in the schema; SPDK's decoder reads it.");
      } else {
        const schemaKinds = [...kindsOf(schemaShape)].join('|');
        if (schemaKinds !== [...kinds].join('|')) notes.push(`SPDK's decoder takes ${describeShape(shape)}${via}; the schema says "${schemaField.type}".`);
        if (tableNote) notes.push(`Read ${tableNote}, when it applies.`);
        if (decoderField.requiredBy) notes.push(`Required: SPDK's decoder marks it optional, but ${decoderField.requiredBy}.`);
        if (optional && schemaField.required === true) notes.push("Optional for SPDK's decoder; the schema marks it required.");
        if (!optional && schemaField.required !== true) notes.push("Required by SPDK's decoder; the schema marks it optional.");
      }
    } else {
      const hint = hints.take(where, schemaField);
      if (hint) {
        type = `${classType(hint.class, owner)}[]`;
        notes.push(`Element type from SPDK's C code (${hint.source}); the schema says only "array".`);
      } else if (Array.isArray(schemaField.enum) && schemaField.enum.length > 0) {
        type = schemaField.enum.map((value) => JSON.stringify(value)).join(' | ');
      } else {
        if (schemaShape.kind === 'any') warn(`${owner}: parameter "${name}" has unknown type ${JSON.stringify(schemaField.type)}; typed as unknown`);
        type = renderShape(schemaShape, { nameObject: (shape) => (shape.class ? classType(shape.class, owner) : undefined) }, '  ');
      }
      optional = schemaField.required !== true;
    }
    return {
      optional,
      lines: [...docComment([schemaField && schemaField.description, ...notes], '  '), `  ${propertyKey(name)}${optional ? '?' : ''}: ${type};`],
    };
  };

  /**
   * The members of a params interface or schema object: the schema's fields SPDK decodes, in the
   * schema's order, then fields only the decoder has; `dropped` lists schema fields SPDK does not read.
   */
  const renderMembers = (schemaFields, decoded, wherePrefix, owner, tableNoteOf = () => undefined) => {
    const lines = [];
    const dropped = [];
    let required = false;
    const add = (member) => {
      lines.push(...member.lines);
      if (!member.optional) required = true;
    };
    for (const field of schemaFields) {
      if (decoded && !(field.name in decoded)) {
        dropped.push(field.name);
        continue;
      }
      add(renderMember(field, decoded && decoded[field.name], `${wherePrefix}.${field.name}`, owner, tableNoteOf(field.name)));
    }
    for (const name of Object.keys(decoded || {})) {
      if (schemaFields.some((field) => field.name === name)) continue;
      add(renderMember(undefined, decoded[name], `${wherePrefix}.${name}`, owner, tableNoteOf(name)));
    }
    return { lines, dropped, required };
  };
  const droppedNote = (dropped) => (dropped.length === 0 ? undefined
    : `The schema also lists ${dropped.map((name) => `\`${name}\``).join(', ')}, which SPDK's decoder does not read; left out.`);

  // A method's "alias" is a deprecated second name registered for it (SPDK_RPC_REGISTER_ALIAS_DEPRECATED).
  const deprecatedAliasOf = new Map();
  for (const method of methods) {
    if (typeof method.alias === 'string') deprecatedAliasOf.set(method.alias, method.name);
  }

  const out = [];
  const versionText = info.spdkVersion ? `SPDK v${info.spdkVersion}` : 'SPDK version not recorded in the schema';
  const decoderCount = methods.filter((method) => decoders[method.name]).length;
  out.push(
    '// GENERATED FILE - DO NOT EDIT.',
    `// Generated by scripts/gen-rpc-types.js from ${info.schemaLabel || 'an SPDK RPC schema'}`,
    `// (${versionText}, ${methods.length} methods${info.schemaSha256 ? `, schema sha256 ${info.schemaSha256.slice(0, 16)}` : ''}).`,
    `// Regenerate with: ${info.command || 'npm run gen:rpc'}`,
    '//',
    `// Parameter names and descriptions come from the schema; parameter types and which are optional from`,
    `// SPDK's C decoders (${decoderCount} of ${methods.length} methods, through scripts/rpc-facts.json), which win where the`,
    '// schema disagrees. Results: results.ts (hand-written) and results.generated.ts (from SPDK\'s docs).',
    '',
    "import type { RpcResult } from './results';",
    '',
  );

  for (const object of sortedObjects) {
    const known = classFacts.get(object.name);
    const { lines, dropped } = renderMembers(object.fields || [], known && known.fields, object.name, `object ${object.name}`);
    out.push(...docComment([
      `The \`${object.name}\` object of SPDK's RPC schema${known ? `, as SPDK's decoder reads it (${known.via})` : ''}.`,
      droppedNote(dropped),
    ]));
    out.push(`export interface ${objectTypeNames.get(object.name)} {`, ...lines, '}', '');
  }

  const paramsTypeOf = new Map();
  const requiredParams = new Set();
  for (const method of sortedMethods) {
    const schemaParams = method.params || [];
    const fact = decoders[method.name];
    let decoded = fact ? fact.params : undefined;
    if (fact && decoded === null && schemaParams.length > 0) {
      warn(`method ${method.name}: SPDK's handler (${fact.file} ${fact.handler}) decodes no params, the schema lists some; typed from the schema`);
      decoded = undefined;
    }
    if (schemaParams.length === 0 && !decoded) {
      paramsTypeOf.set(method.name, 'void');
      continue;
    }
    if (decoded && Object.keys(decoded).length === 0) decoded = undefined;
    const tableNoteOf = (name) => {
      const field = decoded && decoded[name];
      if (!field || !field.table) return undefined;
      const table = fact.tables[field.table];
      return table ? `by ${table.in.replace(/ \(from \w+\)$/, '')} (${table.name})` : undefined;
    };
    const { lines, dropped, required } = renderMembers(schemaParams, decoded, method.name, `method ${method.name}`, tableNoteOf);
    if (lines.length === 0) {
      paramsTypeOf.set(method.name, 'void');
      continue;
    }
    const typeName = claim(`${pascalCase(method.name)}Params`, `method ${method.name}`);
    paramsTypeOf.set(method.name, typeName);
    if (required) requiredParams.add(method.name);
    out.push(...docComment([`Parameters of the \`${method.name}\` RPC.`, droppedNote(dropped)]));
    out.push(`export interface ${typeName} {`, ...lines, '}', '');
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
    const signature = paramsType === 'void' ? '' : `params${requiredParams.has(method.name) ? '' : '?'}: ${paramsType}`;
    const doc = docs[method.name] || {};
    const tags = [];
    if (deprecatedAliasOf.has(method.name)) tags.push(`@deprecated A deprecated alias of \`${deprecatedAliasOf.get(method.name)}\`; call that instead.`);
    tags.push(`@see ${DOC_BASE}#rpc_${method.name}`);
    out.push('', ...docComment([doc.description || `Calls the \`${method.name}\` RPC.`], '  ', tags));
    out.push(`  ${method.name}(${signature}): Promise<RpcResult<'${method.name}'>> {`);
    out.push(`    return this.call('${method.name}'${paramsType === 'void' ? '' : ', params'});`);
    out.push('  }');
  }
  out.push('}', '');
  return out.join('\n');
}

/**
 * The result types SPDK documents: one member per method whose doc/jsonrpc.md section has a usable
 * example response, typed by the shape inferred from it.
 */
function generateResults(schema, info = {}) {
  const { methods } = validateSchema(schema);
  const docs = (info.facts && info.facts.results) || {};
  const names = methods.map((method) => method.name).filter((name) => docs[name] && docs[name].result).sort();
  const out = [
    '// GENERATED FILE - DO NOT EDIT.',
    '// Generated by scripts/gen-rpc-types.js from the example responses in SPDK\'s doc/jsonrpc.md',
    `// (${info.spdkVersion ? `SPDK v${info.spdkVersion}` : 'SPDK'}, through scripts/rpc-facts.json): ${names.length} of ${methods.length} methods.`,
    `// Regenerate with: ${info.command || 'npm run gen:rpc'}`,
    '//',
    '// Each type is what SPDK\'s example response shows: objects with the fields shown, numbers as',
    '// `number` (64-bit counters above 2^53 lose precision when parsed), `true` as `boolean`, the',
    '// elements of an array merged into one element type (a field missing from some is optional). An',
    '// example shows one case: a field SPDK writes only sometimes is typed as the example has it.',
    '// results.ts prefers its hand-written types, read from SPDK\'s C code, where it has one.',
    '',
    `/** Result types of the ${names.length} methods whose result SPDK documents with an example. */`,
    'export interface RpcDocumentedResultMap {',
  ];
  for (const name of names) {
    const doc = docs[name];
    const corrections = (doc.corrections || []).map((why) => `Corrected from the example: ${why}.`);
    out.push(...docComment([doc.responseText, `From the example response of ${DOC_BASE}#rpc_${name}`, ...corrections], '  '));
    out.push(`  ${name}: ${renderShape(doc.result, {}, '  ')};`);
  }
  out.push('}', '');
  return { text: out.join('\n'), count: names.length };
}

function parseArgs(argv) {
  const args = { schemaPath: undefined, outPath: undefined, resultsOutPath: undefined, spdkDir: undefined, refreshFacts: false };
  const valueOf = (arg, i) => {
    if (i + 1 >= argv.length) fail(`${arg} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      args.help = true;
    } else if (arg === '--out' || arg === '-o') {
      args.outPath = valueOf(arg, i++);
    } else if (arg.startsWith('--out=')) {
      args.outPath = arg.slice('--out='.length);
    } else if (arg === '--results-out') {
      args.resultsOutPath = valueOf(arg, i++);
    } else if (arg === '--spdk') {
      args.spdkDir = valueOf(arg, i++);
    } else if (arg === '--refresh-facts') {
      args.refreshFacts = true;
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
    process.stdout.write('usage: node scripts/gen-rpc-types.js [path/to/schema.json] [--out methods.ts] [--results-out results.ts]\n' +
      '       node scripts/gen-rpc-types.js --refresh-facts [--spdk DIR] [...]   re-read an SPDK tree into scripts/rpc-facts.json first\n' +
      `default schema: ${DEFAULT_SCHEMAS.join(', then ')} (relative to the repository root)\n` +
      `default output: ${DEFAULT_OUT} and ${RESULTS_FILE} beside it\n` +
      'SPDK tree for --refresh-facts: --spdk, $SPDK_DIR, /root/src/spdk, or the spdk submodule\n');
    return;
  }
  if (args.refreshFacts) {
    const { findSpdkTree } = require('./rpc-decoders');
    const tree = args.spdkDir !== undefined ? path.resolve(args.spdkDir) : findSpdkTree(REPO_ROOT);
    if (!tree || !fs.existsSync(path.join(tree, 'lib'))) fail('--refresh-facts needs an SPDK tree: give --spdk DIR or set SPDK_DIR');
    const facts = readFactsFromTree(tree);
    fs.writeFileSync(FACTS_PATH, formatFacts(facts));
    process.stdout.write(`wrote ${toPosix(path.relative(process.cwd(), FACTS_PATH))} from ${tree} (SPDK v${facts.spdkVersion}, ` +
      `${Object.keys(facts.decoders).length} registered methods, ${Object.keys(facts.results).length} documented)\n`);
  }
  const schemaPath = resolveSchemaPath(args.schemaPath);
  const outPath = path.resolve(args.outPath !== undefined ? args.outPath : path.join(REPO_ROOT, DEFAULT_OUT));
  const resultsOutPath = path.resolve(args.resultsOutPath !== undefined ? args.resultsOutPath : path.join(path.dirname(outPath), RESULTS_FILE));
  const bytes = fs.readFileSync(schemaPath);
  let schema;
  try {
    schema = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    fail(`${schemaPath} is not valid JSON: ${error.message}`);
  }
  const spdkVersion = detectSpdkVersion(schema, schemaPath);
  const facts = readFacts();
  const warn = (message) => process.stderr.write(`gen-rpc-types: ${message}\n`);
  if (!facts) warn(`${FACTS_PATH} is missing: types from the schema alone (run with --refresh-facts)`);
  else if (spdkVersion && facts.spdkVersion && facts.spdkVersion !== spdkVersion) {
    warn(`scripts/rpc-facts.json is from SPDK v${facts.spdkVersion}, the schema from v${spdkVersion}: run with --refresh-facts --spdk <a v${spdkVersion} tree>`);
  }
  // Paths in the header are relative to the repository, so the output is the same on every machine.
  const schemaLabel = toPosix(path.relative(REPO_ROOT, schemaPath));
  const isDefault = args.schemaPath === undefined || path.resolve(REPO_ROOT, DEFAULT_SCHEMAS[0]) === schemaPath;
  const info = {
    schemaLabel,
    schemaSha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    spdkVersion,
    command: isDefault ? 'npm run gen:rpc' : `npm run gen:rpc -- ${schemaLabel}`,
    facts,
    warn,
  };
  const text = generate(schema, info);
  const results = generateResults(schema, info);
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.writeFileSync(outPath, text);
  fs.mkdirSync(path.dirname(resultsOutPath), { recursive: true });
  fs.writeFileSync(resultsOutPath, results.text);
  process.stdout.write(`wrote ${toPosix(path.relative(process.cwd(), outPath))} (${schema.methods.length} methods from ${schemaLabel}) and ` +
    `${toPosix(path.relative(process.cwd(), resultsOutPath))} (${results.count} documented results)\n`);
}

module.exports = { generate, generateResults, detectSpdkVersion, readFacts, readFactsFromTree, formatFacts, SCHEMA_OBJECT_HINTS, FACTS_PATH };

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`gen-rpc-types: ${error.message}\n`);
    process.exitCode = 1;
  }
}
