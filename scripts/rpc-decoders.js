'use strict';
// Reads what SPDK's C code accepts as RPC parameters: the `struct spdk_json_object_decoder` tables,
// the `SPDK_RPC_REGISTER("method", handler, ...)` registrations, and the link between them (the
// handler, or a function it calls, passes the table to spdk_json_decode_object). Each decoder function
// is mapped to a JSON type: SPDK's own decoders by name, custom ones by what their body does
// (decodes an array or an object, checks `val->type`, calls a typed decoder).
//
// This is a reader for SPDK's C style (function names at column 0, bodies closed by `}` at column 0),
// not a C parser; what it cannot read it reports as `any` with a reason, never as a guess.
const fs = require('node:fs');
const path = require('node:path');

/** The folders of an SPDK tree whose RPCs spdk_tgt serves. */
const SOURCE_DIRS = ['lib', 'module'];

/** SPDK's own decoders (include/spdk/json.h). */
const BUILTIN_DECODERS = {
  spdk_json_decode_string: { kind: 'string' },
  spdk_json_decode_uuid: { kind: 'string' },
  spdk_json_decode_bool: { kind: 'boolean' },
  spdk_json_decode_uint8: { kind: 'number' },
  spdk_json_decode_uint16: { kind: 'number' },
  spdk_json_decode_int32: { kind: 'number' },
  spdk_json_decode_uint32: { kind: 'number' },
  spdk_json_decode_uint64: { kind: 'number' },
  spdk_json_decode_int64: { kind: 'number' },
  spdk_json_decode_double: { kind: 'number' },
};

/**
 * Params a handler hands on inside a struct field, decoded later by code the field's consumers
 * choose (e.g. each NVMe-oF transport decodes its own options from `opts.transport_specific`). The
 * link is not visible from names alone (the same field carries other requests' params too), so it is
 * listed here and verified against the tree: the handler must store its params into the field
 * `storedIn`, and each table must be decoded from an expression ending in `decodedFrom`. Their fields
 * are optional.
 */
const HANDOFFS = [
  {
    method: 'nvmf_create_transport',
    storedIn: 'transport_specific',
    decodedFrom: 'transport_specific',
    tables: ['tcp_transport_opts_decoder', 'rdma_transport_opts_decoder', 'vfio_user_transport_opts_decoder'],
  },
  // opts.params reaches the transport's subsystem_add_host op as its `transport_specific` argument.
  { method: 'nvmf_subsystem_add_host', storedIn: 'params', decodedFrom: 'transport_specific', tables: ['tcp_subsystem_add_host_opts_decoder'] },
];

/**
 * Fields a decoder table marks optional although the code behind it cannot do without them: SPDK
 * answers an error when they are absent, so they are typed required. Each entry applies only while
 * `evidence` is still found in `file` of the tree (else the reader notes it and keeps the decoder's
 * word); `why` is what the generated doc comment and the check's report say.
 */
const REQUIRED_BEYOND_DECODER = [
  {
    table: 'rpc_nvmf_listen_address_decoders', field: 'trtype', file: 'lib/nvme/nvme.c',
    evidence: /spdk_nvme_transport_id_populate_trstring\([^)]*\)\s*\{[^}]*trstring == NULL\)\s*\{\s*return -EINVAL;/,
    why: 'rpc_listen_address_to_trid passes it to spdk_nvme_transport_id_populate_trstring, which fails with EINVAL without it',
  },
  {
    table: 'rpc_bdev_nvme_cuse_unregister_decoders', field: 'name', file: 'module/bdev/nvme/bdev_nvme.c',
    evidence: /nvme_ctrlr_get_by_name\(const char \*name\)\s*\{[^}]*if \(name == NULL\) \{\s*return NULL;/,
    why: 'the controller is looked up with nvme_ctrlr_get_by_name, which finds none without a name (ENODEV)',
  },
  {
    table: 'rpc_bdev_nvme_get_controller_health_info_decoders', field: 'name', file: 'module/bdev/nvme/bdev_nvme.c',
    evidence: /nvme_ctrlr_get_by_name\(const char \*name\)\s*\{[^}]*if \(name == NULL\) \{\s*return NULL;/,
    why: 'the controller is looked up with nvme_ctrlr_get_by_name, which finds none without a name ("Device not found")',
  },
  {
    table: 'rpc_bdev_lvol_clone_decoders', field: 'clone_name', file: 'lib/lvol/lvol.c',
    evidence: /lvs_verify_lvol_name\(struct spdk_lvol_store \*lvs, const char \*name\)\s*\{[^}]*name == NULL \|\|/,
    why: 'spdk_lvol_create_clone checks it with lvs_verify_lvol_name, which fails with EINVAL without it',
  },
];

/** `val->type` constants and the JSON type each one means. */
const VAL_TYPES = {
  SPDK_JSON_VAL_STRING: 'string',
  SPDK_JSON_VAL_NAME: 'string',
  SPDK_JSON_VAL_NUMBER: 'number',
  SPDK_JSON_VAL_TRUE: 'boolean',
  SPDK_JSON_VAL_FALSE: 'boolean',
  SPDK_JSON_VAL_NULL: 'null',
  SPDK_JSON_VAL_ARRAY_BEGIN: 'array',
  SPDK_JSON_VAL_OBJECT_BEGIN: 'object',
};

/** Replaces comments and string contents' line breaks so that brace and comma matching works. */
function stripComments(text) {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The index just past the bracket that closes the one at `open` (skipping strings). */
function matchBracket(text, open) {
  const pairs = { '{': '}', '(': ')', '[': ']' };
  const stack = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      i = j;
    } else if (pairs[c]) {
      stack.push(pairs[c]);
    } else if (c === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return i + 1;
    }
  }
  return -1;
}

/** Splits `a, f(b, c), {d, e}` at its top-level commas. */
function splitTopLevel(text) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      i = j;
    } else if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last !== '') parts.push(last);
  return parts;
}

function lineOf(text, index) {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function listSources(spdkDir) {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.c')) files.push(full);
    }
  };
  for (const sub of SOURCE_DIRS) {
    const dir = path.join(spdkDir, sub);
    if (fs.existsSync(dir)) walk(dir);
  }
  return files.sort();
}

/** Tables, functions and registrations of one C file. */
function scanFile(text, file) {
  const code = stripComments(text);
  const tables = [];
  const tableRe = /struct\s+spdk_json_object_decoder\s+(\w+)\s*\[[^\]]*\]\s*=\s*\{/g;
  for (let m; (m = tableRe.exec(code));) {
    const open = m.index + m[0].length - 1;
    const close = matchBracket(code, open);
    const entries = [];
    for (const raw of splitTopLevel(code.slice(open + 1, close - 1))) {
      if (!raw.startsWith('{')) continue;
      const fields = splitTopLevel(raw.slice(1, raw.lastIndexOf('}')));
      const name = /^"([^"]*)"$/.exec(fields[0] || '');
      if (!name || fields.length < 3) {
        entries.push({ unreadable: raw.replace(/\s+/g, ' ') });
        continue;
      }
      const optional = fields[3] !== undefined && !/^(false|0)$/.test(fields[3]);
      entries.push({ name: name[1], decoder: fields[2], optional });
    }
    tables.push({ name: m[1], file, line: lineOf(code, m.index), entries });
  }

  // Function definitions in SPDK style: `name(args)` at column 0 on its own line, body `{ ... }` with
  // its closing brace at column 0.
  const functions = [];
  const fnRe = /^([A-Za-z_]\w*)\s*\(((?:[^;{}()\"]|\([^()]*\))*)\)\s*\n\{/gm;
  for (let m; (m = fnRe.exec(code));) {
    const open = m.index + m[0].length - 1;
    const close = matchBracket(code, open);
    if (close < 0) continue;
    // Parameter names, by position: the last identifier of each declaration.
    const params = splitTopLevel(m[2]).map((decl) => (/(\w+)\s*(\[[^\]]*\])?$/.exec(decl) || [])[1]);
    functions.push({ name: m[1], file, line: lineOf(code, m.index), params, body: code.slice(open, close) });
  }

  const registrations = [];
  const regRe = /SPDK_RPC_REGISTER\s*\(\s*"([^"]+)"\s*,\s*(\w+)/g;
  for (let m; (m = regRe.exec(code));) registrations.push({ method: m[1], handler: m[2], file, line: lineOf(code, m.index) });
  // Designated initializers of ops tables (`.set_opts = set_opts_static,`): the functions a call
  // through a function pointer (`scheduler->set_opts(params)`) may reach.
  const implementations = [];
  for (const m of code.matchAll(/^\s*\.(\w+)\s*=\s*([A-Za-z_]\w*)\s*,?\s*$/gm)) implementations.push({ member: m[1], fn: m[2], file });
  const aliases = [];
  const aliasRe = /SPDK_RPC_REGISTER_ALIAS_DEPRECATED\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)/g;
  for (let m; (m = aliasRe.exec(code));) aliases.push({ method: m[1], alias: m[2] });
  return { tables, functions, registrations, aliases, implementations };
}

/** Calls of spdk_json_decode_object(_relaxed) in a body: the table each one passes. */
function decodeObjectCalls(body) {
  const calls = [];
  const re = /spdk_json_decode_object(_relaxed)?\s*\(/g;
  for (let m; (m = re.exec(body));) {
    const open = m.index + m[0].length - 1;
    const args = splitTopLevel(body.slice(open + 1, matchBracket(body, open) - 1));
    calls.push({ table: args[1], relaxed: Boolean(m[1]), value: args[0] });
  }
  return calls;
}

function identifiersCalled(body) {
  const names = new Set();
  for (const m of body.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) names.add(m[1]);
  return names;
}

/** Reads the tree: every table, function and registration, indexed for lookups. */
function scanTree(spdkDir) {
  const tables = new Map(); // name -> [table] (static names may repeat across files)
  const functions = new Map(); // name -> [function]
  const registrations = [];
  const aliases = [];
  const implementations = new Map(); // ops member -> [{ fn, file }]
  for (const full of listSources(spdkDir)) {
    const file = path.relative(spdkDir, full).split(path.sep).join('/');
    const scanned = scanFile(fs.readFileSync(full, 'utf8'), file);
    for (const table of scanned.tables) tables.set(table.name, [...(tables.get(table.name) || []), table]);
    for (const fn of scanned.functions) functions.set(fn.name, [...(functions.get(fn.name) || []), fn]);
    registrations.push(...scanned.registrations);
    aliases.push(...scanned.aliases);
    for (const impl of scanned.implementations) implementations.set(impl.member, [...(implementations.get(impl.member) || []), impl]);
  }
  // Prefer the definition in the file that refers to it, as C's static linkage does.
  const pick = (map, name, file) => {
    const all = map.get(name);
    if (!all) return undefined;
    return all.find((item) => item.file === file) || all[0];
  };
  const beyondChecked = new Map();
  const requiredBeyondDecoder = (tableName, field) => {
    const entry = REQUIRED_BEYOND_DECODER.find((e) => e.table === tableName && e.field === field);
    if (!entry) return undefined;
    if (!beyondChecked.has(entry)) {
      const full = path.join(spdkDir, entry.file);
      const found = fs.existsSync(full) && entry.evidence.test(stripComments(fs.readFileSync(full, 'utf8')));
      beyondChecked.set(entry, found);
      if (!found) process.stderr.write(`rpc-decoders: ${tableName}.${field}: evidence no longer in ${entry.file}; keeping the decoder's "optional"\n`);
    }
    return beyondChecked.get(entry) ? entry.why : undefined;
  };
  return {
    requiredBeyondDecoder,
    registrations,
    aliases,
    table: (name, file) => pick(tables, name, file),
    tableUses: (name) => {
      const table = pick(tables, name);
      if (!table) return [];
      const uses = [];
      for (const fn of [...functions.values()].flat()) {
        if (fn.file !== table.file) continue;
        for (const call of decodeObjectCalls(fn.body)) if (call.table === name) uses.push({ fn: fn.name, file: fn.file, value: call.value });
      }
      return uses;
    },
    fn: (name, file) => pick(functions, name, file),
    implementationsOf: (member) => implementations.get(member) || [],
  };
}

/**
 * The JSON type a decoder function accepts: `{ kind, element?, fields?, via }` where kind is
 * string/number/boolean/array/object/null/any, or a union as `{ kind: 'union', of: [...] }`.
 */
function makeTyper(tree) {
  const cache = new Map();
  const typeOfDecoder = (name, file, stack = []) => {
    if (BUILTIN_DECODERS[name]) return { ...BUILTIN_DECODERS[name], via: name };
    const key = `${file}:${name}`;
    if (cache.has(key)) return cache.get(key);
    if (stack.includes(key)) return { kind: 'any', via: name, reason: 'recursive decoder' };
    const fn = tree.fn(name, file);
    if (!fn) return { kind: 'any', via: name, reason: 'decoder not found in the tree' };
    const result = typeOfBody(fn, [...stack, key]);
    cache.set(key, result);
    return result;
  };

  const typeOfTable = (tableName, file, stack) => {
    const table = tree.table(tableName, file);
    if (!table) return undefined;
    const fields = {};
    for (const entry of table.entries) {
      if (entry.unreadable) continue;
      fields[entry.name] = { optional: entry.optional, type: typeOfDecoder(entry.decoder, table.file, stack) };
      const beyond = entry.optional && tree.requiredBeyondDecoder(table.name, entry.name);
      if (beyond) fields[entry.name] = { ...fields[entry.name], optional: false, requiredBy: beyond };
    }
    return { table: table.name, file: table.file, fields };
  };

  const typeOfBody = (fn, stack) => {
    const via = `${fn.file} ${fn.name}`;
    const arrayCall = /spdk_json_decode_array\s*\(\s*[^,]+,\s*(\w+)/.exec(fn.body);
    if (arrayCall) return { kind: 'array', element: typeOfDecoder(arrayCall[1], fn.file, stack), via };
    const objectCall = decodeObjectCalls(fn.body)[0];
    if (objectCall) {
      const table = typeOfTable(objectCall.table, fn.file, stack);
      if (table) return { kind: 'object', ...table, via };
    }
    // Checks of val->type: the kinds the decoder accepts.
    const kinds = new Set();
    for (const m of fn.body.matchAll(/->type\s*(==|!=)\s*(SPDK_JSON_VAL_\w+)/g)) {
      if (VAL_TYPES[m[2]]) kinds.add(VAL_TYPES[m[2]]);
    }
    // Without explicit type checks, what the body does with the value says what it must be.
    if (kinds.size === 0 && /spdk_json_strequal|spdk_json_strdup|spdk_json_string/.test(fn.body)) kinds.add('string');
    if (kinds.size === 0 && /spdk_json_number_to_\w+/.test(fn.body)) kinds.add('number');
    // Delegation to another decoder, e.g. `rc = spdk_json_decode_string(val, &str)`.
    for (const called of identifiersCalled(fn.body)) {
      if (called === fn.name) continue;
      if (BUILTIN_DECODERS[called]) kinds.add(BUILTIN_DECODERS[called].kind);
      else if (/decode/.test(called) && tree.fn(called, fn.file)) {
        const inner = typeOfDecoder(called, fn.file, stack);
        if (inner.kind !== 'any') return { ...inner, via: `${via} -> ${inner.via}` };
      }
    }
    if (kinds.size === 1) return { kind: [...kinds][0], via };
    if (kinds.size > 1) return { kind: 'union', of: [...kinds].sort(), via };
    return { kind: 'any', via, reason: 'accepts any JSON value' };
  };

  return { typeOfDecoder, typeOfTable };
}

/** Every call in a body: `{ callee, pointer, args }` (`pointer`: called as `x->callee(...)`). */
function callsIn(body) {
  const calls = [];
  for (const m of body.matchAll(/(->\s*|\.\s*)?\b([A-Za-z_]\w*)\s*\(/g)) {
    const open = m.index + m[0].length - 1;
    const close = matchBracket(body, open);
    if (close < 0) continue;
    calls.push({ callee: m[2], pointer: Boolean(m[1]), args: splitTopLevel(body.slice(open + 1, close - 1)) });
  }
  return calls;
}

/**
 * Finds the tables a handler decodes its params with, following the params value: decode_object
 * calls given it, and the functions it is passed to (by argument position, through function pointers
 * to every implementation of that ops member), in call order.
 */
function tablesOfHandler(tree, handler, file) {
  const found = [];
  const seen = new Set();
  const visit = (fn, carrier, depth) => {
    const key = `${fn.file}:${fn.name}:${carrier}`;
    if (seen.has(key)) return;
    seen.add(key);
    for (const call of callsIn(fn.body)) {
      if (/^spdk_json_decode_object(_relaxed)?$/.test(call.callee)) {
        if (call.args[0] === carrier) {
          found.push({ table: call.args[1], relaxed: call.callee.endsWith('_relaxed'), in: `${fn.file} ${fn.name}`, depth, file: fn.file });
        }
        continue;
      }
      if (depth >= 4 || call.callee.startsWith('spdk_json')) continue;
      const position = call.args.indexOf(carrier);
      if (position < 0) continue;
      const targets = call.pointer
        ? tree.implementationsOf(call.callee).map((impl) => tree.fn(impl.fn, impl.file))
        : [tree.fn(call.callee, fn.file)];
      for (const target of targets) {
        if (target && target.params[position]) visit(target, target.params[position], depth + 1);
      }
    }
  };
  const fn = tree.fn(handler, file);
  if (fn) visit(fn, fn.params[1] || 'params', 0);
  return found;
}

/** Whether a handler refuses any params (`if (params != NULL) { ...error... }` or similar). */
function takesNoParams(fn) {
  return /if\s*\(\s*params\s*(!=\s*NULL)?\s*\)\s*\{[^}]*spdk_jsonrpc_send_error_response/.test(fn.body) ||
    /if\s*\(\s*params\s*!=\s*NULL\s*\)/.test(fn.body);
}

/**
 * Everything SPDK's decoders say about each registered method:
 * `{ [method]: { handler, file, line, tables: [...], params: { [name]: { optional, type } } | null,
 *    noParams, notes } }`. `params` is null when no table was found (the handler reads params itself).
 */
function readDecoderFacts(spdkDir) {
  const tree = scanTree(spdkDir);
  const typer = makeTyper(tree);
  const methods = {};
  for (const reg of tree.registrations) {
    const handler = tree.fn(reg.handler, reg.file);
    const fact = { handler: reg.handler, file: reg.file, line: reg.line, tables: [], params: null, noParams: false, notes: [] };
    methods[reg.method] = fact;
    if (!handler) {
      fact.notes.push(`handler ${reg.handler} not found`);
      continue;
    }
    const extra = [];
    const handoffs = HANDOFFS.filter((h) => h.method === reg.method);
    for (const handoff of handoffs) {
      const stores = new RegExp(`(->|\\.)${handoff.storedIn}\\s*=\\s*params\\s*;`).test(handler.body);
      for (const name of handoff.tables) {
        const uses = tree.tableUses(name).filter((use) => new RegExp(`(^|->|\\.)${handoff.decodedFrom}$`).test(use.value));
        if (stores && uses.length > 0) {
          extra.push({ table: name, relaxed: true, in: `${uses[0].file} ${uses[0].fn} (from ${handoff.storedIn})`, depth: 1, file: uses[0].file });
        } else {
          fact.notes.push(`handoff of ${handoff.storedIn} to ${name} not found in the tree`);
        }
      }
    }
    const calls = [...tablesOfHandler(tree, reg.handler, reg.file), ...extra].filter((call) => {
      // Tables decoded from a field of the params (nested objects) are reached through a field's
      // decoder already; keep the ones decoding `params` itself or a variable holding it.
      return !/->|\./.test(call.table) && tree.table(call.table, call.file);
    });
    const merged = {};
    calls.forEach((call, index) => {
      const table = typer.typeOfTable(call.table, call.file, []);
      fact.tables.push({ name: table.table, file: table.file, line: table.line, in: call.in, relaxed: call.relaxed });
      for (const [name, field] of Object.entries(table.fields)) {
        const previous = merged[name];
        // A field is required only if the first table decoded (the method's own) requires it; tables
        // decoded afterwards are conditional extensions (e.g. a scheduler's own options).
        const optional = index === 0 ? field.optional : true;
        merged[name] = previous ? { ...previous, optional: previous.optional && optional } : { ...field, optional, table: index };
      }
    });
    if (calls.length > 0) fact.params = merged;
    else fact.noParams = takesNoParams(handler);
  }
  for (const { method, alias } of tree.aliases) {
    if (methods[method]) methods[alias] = { ...methods[method], aliasOf: method };
  }
  return methods;
}

/** Finds an SPDK tree: SPDK_DIR, /root/src/spdk, or the repository's `spdk` submodule. */
function findSpdkTree(repoRoot) {
  const candidates = [process.env.SPDK_DIR, '/root/src/spdk', path.join(repoRoot, 'spdk')].filter(Boolean);
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'lib', 'bdev')) && fs.existsSync(path.join(dir, 'include', 'spdk', 'json.h'))) {
      return path.resolve(dir);
    }
  }
  return undefined;
}

module.exports = { HANDOFFS, REQUIRED_BEYOND_DECODER, readDecoderFacts, findSpdkTree, scanFile, stripComments, splitTopLevel, BUILTIN_DECODERS };
