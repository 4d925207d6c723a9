#!/usr/bin/env node
'use strict';
// Cross-checks the generated RPC parameter types (src/rpc/methods.generated.ts) against what SPDK's
// own C decoders accept (the spdk_json_object_decoder tables of an SPDK tree, linked to methods through
// SPDK_RPC_REGISTER): parameters missing from the types, parameters SPDK does not know, type mismatches
// and optional-vs-required differences, down into nested objects and array elements.
//
//   node scripts/check-rpc-decoders.js [--spdk DIR] [--types FILE] [--json]
//
// The tree is found through --spdk, $SPDK_DIR, /root/src/spdk or the `spdk` submodule. Exit status: 0
// when nothing mismatches (documented exceptions are listed but allowed), 1 on mismatches, 2 when no
// tree is found.
const fs = require('node:fs');
const path = require('node:path');
const { readDecoderFacts, findSpdkTree } = require('./rpc-decoders');

const REPO_ROOT = path.resolve(__dirname, '..');
const DEFAULT_TYPES = path.join(REPO_ROOT, 'src/rpc/methods.generated.ts');

/**
 * Differences the check reports but accepts, each with the reason. Keyed by `method` or
 * `method.param`; kept short and justified.
 */
const DOCUMENTED_EXCEPTIONS = {};

/** Reads the generated file into `{ [method]: null | { [param]: { optional, shape } } }` with TypeScript's parser. */
function readGeneratedTypes(file) {
  const ts = require('typescript');
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const interfaces = new Map();
  for (const statement of source.statements) {
    if (ts.isInterfaceDeclaration(statement)) interfaces.set(statement.name.text, statement);
  }
  const propertyName = (member) => (ts.isIdentifier(member.name) ? member.name.text : member.name.getText(source).replace(/^"|"$/g, ''));

  const membersOf = (members, seen) => {
    const fields = {};
    for (const member of members) {
      if (!ts.isPropertySignature(member) || !member.type) continue;
      fields[propertyName(member)] = { optional: Boolean(member.questionToken), shape: shapeOf(member.type, seen) };
    }
    return fields;
  };

  // A JSON shape: { kind: string|number|boolean|null|array|object|any|union, element?, fields?, of? }.
  const shapeOf = (node, seen = new Set()) => {
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword: return { kind: 'string' };
      case ts.SyntaxKind.NumberKeyword: return { kind: 'number' };
      case ts.SyntaxKind.BooleanKeyword: return { kind: 'boolean' };
      case ts.SyntaxKind.NullKeyword: return { kind: 'null' };
      case ts.SyntaxKind.UnknownKeyword:
      case ts.SyntaxKind.AnyKeyword: return { kind: 'any' };
      default: break;
    }
    if (ts.isParenthesizedTypeNode(node)) return shapeOf(node.type, seen);
    if (ts.isLiteralTypeNode(node)) {
      if (node.literal.kind === ts.SyntaxKind.NullKeyword) return { kind: 'null' };
      if (ts.isStringLiteral(node.literal)) return { kind: 'string' };
      if (ts.isNumericLiteral(node.literal)) return { kind: 'number' };
      return { kind: 'boolean' };
    }
    if (ts.isArrayTypeNode(node)) return { kind: 'array', element: shapeOf(node.elementType, seen) };
    if (ts.isUnionTypeNode(node)) {
      const members = node.types.map((t) => shapeOf(t, seen));
      const kinds = [...new Set(members.map((m) => m.kind))];
      if (kinds.length === 1) return kinds[0] === 'array' || kinds[0] === 'object' ? members[0] : { kind: kinds[0] };
      return { kind: 'union', of: members };
    }
    if (ts.isTypeLiteralNode(node)) return { kind: 'object', fields: membersOf(node.members, seen) };
    if (ts.isTypeReferenceNode(node)) {
      const name = node.typeName.getText(source);
      if (name === 'Array' && node.typeArguments) return { kind: 'array', element: shapeOf(node.typeArguments[0], seen) };
      if (name === 'Record') return { kind: 'object' };
      const declaration = interfaces.get(name);
      if (declaration) {
        if (seen.has(name)) return { kind: 'object', name };
        return { kind: 'object', name, fields: membersOf(declaration.members, new Set([...seen, name])) };
      }
    }
    return { kind: 'any', text: node.getText(source) };
  };

  const map = interfaces.get('RpcParamsMap');
  if (!map) throw new Error(`${file} has no RpcParamsMap`);
  const methods = {};
  for (const member of map.members) {
    if (!ts.isPropertySignature(member) || !member.type) continue;
    const name = propertyName(member);
    if (member.type.kind === ts.SyntaxKind.VoidKeyword) {
      methods[name] = null;
    } else {
      const shape = shapeOf(member.type);
      methods[name] = shape.fields || {};
    }
  }
  return methods;
}

function describeShape(shape) {
  if (!shape) return '?';
  switch (shape.kind) {
    case 'array': return `${describeShape(shape.element)}[]`;
    case 'union': return shape.of.map((s) => (typeof s === 'string' ? s : describeShape(s))).join(' | ');
    case 'object': return shape.name || (shape.fields ? `{${Object.keys(shape.fields).join(', ')}}` : 'object');
    default: return shape.kind;
  }
}

/** The kinds a decoder shape accepts. */
function kindsOf(shape) {
  if (shape.kind === 'union') return new Set(shape.of.map((s) => (typeof s === 'string' ? s : s.kind)));
  return new Set([shape.kind]);
}

/** Compares a decoder's type with a TypeScript shape; pushes findings into `out`. */
function compareShapes(decoder, typed, where, out) {
  if (decoder.kind === 'any') return;
  if (typed.kind === 'any') {
    out.push({ kind: 'type', where, expected: describeShape(decoder), actual: `${typed.text || 'unknown'} (untyped)`, via: decoder.via });
    return;
  }
  const accepted = kindsOf(decoder);
  const offered = kindsOf(typed);
  const outside = [...offered].filter((k) => !accepted.has(k));
  if (outside.length > 0 || ![...offered].some((k) => accepted.has(k))) {
    out.push({ kind: 'type', where, expected: describeShape(decoder), actual: describeShape(typed), via: decoder.via });
    return;
  }
  if (decoder.kind === 'array' && typed.kind === 'array') compareShapes(decoder.element, typed.element, `${where}[]`, out);
  if (decoder.kind === 'object' && typed.kind === 'object' && decoder.fields) {
    if (!typed.fields) {
      out.push({ kind: 'type', where, expected: `object {${Object.keys(decoder.fields).join(', ')}}`, actual: 'an untyped object', via: decoder.via });
      return;
    }
    compareFields(decoder.fields, typed.fields, where, out, decoder.via);
  }
}

function compareFields(decoderFields, typedFields, where, out, via) {
  for (const [name, field] of Object.entries(decoderFields)) {
    const typed = typedFields[name];
    const at = `${where}.${name}`;
    if (!typed) {
      out.push({ kind: 'missing', where: at, expected: `${name}${field.optional ? '?' : ''}: ${describeShape(field.type)}`, via });
      continue;
    }
    if (field.optional !== typed.optional) {
      out.push({ kind: 'optional', where: at, expected: field.optional ? 'optional' : 'required', actual: typed.optional ? 'optional' : 'required', via });
    } else if (field.requiredBy) {
      // Optional in the decoder table, required by the code behind it (REQUIRED_BEYOND_DECODER).
      out.push({ kind: 'optional', where: at, expected: 'optional', actual: 'required', via, reason: `the decoder marks it optional, but ${field.requiredBy}` });
    }
    compareShapes(field.type, typed.shape, at, out);
  }
  for (const name of Object.keys(typedFields)) {
    if (!(name in decoderFields)) out.push({ kind: 'extra', where: `${where}.${name}`, actual: describeShape(typedFields[name].shape), via });
  }
}

/** Compares every method: returns `{ mismatches, exceptions, notes, checked }`. */
function compare(facts, typed) {
  const findings = [];
  const notes = [];
  let checked = 0;
  for (const [method, params] of Object.entries(typed)) {
    const fact = facts[method];
    if (!fact) {
      notes.push(`${method}: typed, but no SPDK_RPC_REGISTER for it in the tree`);
      continue;
    }
    checked++;
    const via = `${fact.file} ${fact.handler}`;
    if (fact.params === null) {
      // No decoder table: the handler ignores params or refuses them. Either way the type takes none.
      for (const name of Object.keys(params || {})) {
        findings.push({ kind: 'extra', where: `${method}.${name}`, actual: describeShape(params[name].shape), via: `${via} (${fact.noParams ? 'refuses params' : 'reads no params'})` });
      }
      continue;
    }
    compareFields(fact.params, params || {}, method, findings, via);
  }
  for (const method of Object.keys(facts)) {
    if (!(method in typed)) notes.push(`${method}: registered in ${facts[method].file}, not in the schema (callable untyped through call())`);
  }
  const mismatches = [];
  const exceptions = [];
  for (const finding of findings) {
    const method = finding.where.split('.')[0];
    const reason = finding.reason || DOCUMENTED_EXCEPTIONS[finding.where] || DOCUMENTED_EXCEPTIONS[method];
    if (reason) exceptions.push({ ...finding, reason });
    else mismatches.push(finding);
  }
  return { mismatches, exceptions, notes, checked };
}

function formatFinding(f) {
  switch (f.kind) {
    case 'missing': return `missing   ${f.where}: SPDK takes ${f.expected} (${f.via})`;
    case 'extra': return `extra     ${f.where}: typed ${f.actual}, SPDK's decoder has no such field (${f.via})`;
    case 'optional': return `optional  ${f.where}: SPDK says ${f.expected}, typed ${f.actual} (${f.via})`;
    default: return `type      ${f.where}: SPDK takes ${f.expected}, typed ${f.actual} (${f.via})`;
  }
}

function main(argv) {
  let spdkDir;
  let typesFile = DEFAULT_TYPES;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--spdk') spdkDir = argv[++i];
    else if (argv[i] === '--types') typesFile = path.resolve(argv[++i]);
    else if (argv[i] === '--json') json = true;
    else if (argv[i] === '-h' || argv[i] === '--help') {
      process.stdout.write('usage: node scripts/check-rpc-decoders.js [--spdk DIR] [--types FILE] [--json]\n');
      return 0;
    } else {
      process.stderr.write(`check-rpc-decoders: unknown argument ${argv[i]}\n`);
      return 2;
    }
  }
  const tree = spdkDir ? path.resolve(spdkDir) : findSpdkTree(REPO_ROOT);
  if (!tree || !fs.existsSync(path.join(tree, 'lib'))) {
    process.stderr.write('check-rpc-decoders: no SPDK tree (give --spdk DIR, set SPDK_DIR, or run `git submodule update --init spdk`)\n');
    return 2;
  }
  const facts = readDecoderFacts(tree);
  const result = compare(facts, readGeneratedTypes(typesFile));
  if (json) {
    process.stdout.write(`${JSON.stringify({ tree, ...result }, null, 2)}\n`);
  } else {
    const lines = [`SPDK tree: ${tree}`, `methods checked: ${result.checked}`];
    for (const note of result.notes) lines.push(`note      ${note}`);
    for (const e of result.exceptions) lines.push(`${formatFinding(e)}\n          accepted: ${e.reason}`);
    for (const m of result.mismatches) lines.push(formatFinding(m));
    lines.push(`${result.mismatches.length} mismatch(es), ${result.exceptions.length} documented exception(s)`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return result.mismatches.length === 0 ? 0 : 1;
}

module.exports = { compare, readGeneratedTypes, DOCUMENTED_EXCEPTIONS };

if (require.main === module) process.exitCode = main(process.argv.slice(2));
