'use strict';
// Reads SPDK's RPC reference (doc/jsonrpc.md, kept as doc/jsonrpc.md.jinja2 in the tree) for what the
// schema lacks: each method's description and its example response. Result types are inferred from
// the example's `result`: objects become object shapes with the fields shown, arrays of objects one
// element shape merged over every element shown (a field missing from some elements is optional),
// `true` becomes boolean, and so on. Shapes use the same format as scripts/rpc-decoders.js:
// `{ kind, element?, fields?: { [name]: { optional, type } }, of? }`.
const fs = require('node:fs');
const path = require('node:path');

const DOC_CANDIDATES = ['doc/jsonrpc.md', 'doc/jsonrpc.md.jinja2'];

/**
 * Where an example misleads, read against the C code that writes the result (named in `why`):
 * `optional` marks fields SPDK writes only sometimes, `element` takes the one element of an array the
 * example wraps around the real result, `opaque` leaves an object untyped (its shape varies by
 * entry), `map` turns the fields other than `keep` into an index signature (member names are data,
 * e.g. tracepoint group names). `path` is '' for the result, `[]` for array elements, `.name` for a
 * field. test/spdk/rpc.test.ts checks these results against a running SPDK.
 */
const RESULT_CORRECTIONS = [
  { method: 'accel_get_opc_assignments', path: '', op: 'element', why: 'lib/accel/accel_rpc.c rpc_accel_get_opc_assignments writes one object, not an array' },
  { method: 'framework_get_config', path: '[]', op: 'optional', fields: ['params'], why: 'a config entry has "params" only when its method takes some' },
  { method: 'framework_get_config', path: '[].params', op: 'opaque', why: 'each entry holds the params of its own method' },
  { method: 'framework_get_scheduler', path: '', op: 'optional', fields: ['governor_name'], why: 'lib/event/app_rpc.c writes it only when a governor is set' },
  { method: 'framework_get_governor', path: '', op: 'optional', fields: ['governor_name', 'module_specific', 'cores'], why: 'lib/event/app_rpc.c writes them only when a governor is set' },
  { method: 'iscsi_get_options', path: '', op: 'optional', fields: ['auth_file'], why: 'lib/iscsi/iscsi_subsystem.c writes it only when one is set' },
  { method: 'nvmf_get_stats', path: '.poll_groups[].transports[]', op: 'optional', fields: ['pending_data_buffer', 'devices'], why: 'the example shows RDMA\'s statistics (lib/nvmf/rdma.c nvmf_rdma_poll_group_dump_stat); other transports write their own' },
  { method: 'trace_get_tpoint_group_mask', path: '', op: 'map', keep: ['tpoint_group_mask'], why: 'lib/trace/trace_rpc.c writes one member per registered tracepoint group, named after the group' },
];

/** Applies one correction to a shape (returns the new shape); throws when its path is not there. */
function correct(shape, correction) {
  const steps = correction.path.match(/\[\]|\.[^.[]+/g) || [];
  const apply = (node, rest) => {
    if (!node) throw new Error(`${correction.method}: nothing at "${correction.path}" to correct`);
    if (rest.length > 0) {
      const [step, ...tail] = rest;
      if (step === '[]' && node.kind === 'array') return { ...node, element: apply(node.element, tail) };
      const name = step.slice(1);
      if (step !== '[]' && node.kind === 'object' && node.fields && node.fields[name]) {
        return { ...node, fields: { ...node.fields, [name]: { ...node.fields[name], type: apply(node.fields[name].type, tail) } } };
      }
      throw new Error(`${correction.method}: nothing at "${correction.path}" to correct`);
    }
    switch (correction.op) {
      case 'element':
        if (node.kind !== 'array') throw new Error(`${correction.method}: "${correction.path}" is not an array`);
        return node.element;
      case 'opaque':
        return { kind: 'object' };
      case 'optional': {
        const fields = { ...node.fields };
        for (const name of correction.fields) {
          if (!fields[name]) throw new Error(`${correction.method}: no field "${name}" at "${correction.path}"`);
          fields[name] = { ...fields[name], optional: true };
        }
        return { ...node, fields };
      }
      case 'map': {
        const kept = {};
        let value = { kind: 'never' };
        for (const [name, field] of Object.entries(node.fields || {})) {
          if (correction.keep.includes(name)) kept[name] = field;
          else value = mergeShapes(value, field.type);
        }
        // TypeScript wants the named members to fit the index signature too.
        for (const field of Object.values(kept)) value = mergeShapes(value, field.type);
        return { kind: 'object', fields: kept, index: value };
      }
      default:
        throw new Error(`${correction.method}: unknown correction ${correction.op}`);
    }
  };
  return apply(shape, steps);
}

function findDoc(spdkDir) {
  for (const candidate of DOC_CANDIDATES) {
    const full = path.join(spdkDir, candidate);
    if (fs.existsSync(full)) return full;
  }
  return undefined;
}

/**
 * Renders the Jinja parts of the template the way SPDK's doc build would, closely enough for JSON:
 * `{% ... %}` tags vanish (a loop keeps one iteration), `{{ name }}` becomes `name`.
 */
function renderTemplateJson(text) {
  return text
    .replace(/\{%-?[^%]*-?%\}/g, '')
    .replace(/\{\{\s*([^}]*?)\s*\}\}/g, '$1')
    .replace(/,(\s*[\]}])/g, '$1');
}

/** A one-paragraph, single-line description: the text between the heading and the first sub-heading. */
function firstParagraph(section) {
  const body = section.split('\n').slice(1).join('\n');
  const end = body.search(/\n#{2,4} |\n~~~/);
  const text = (end < 0 ? body : body.slice(0, end)).trim().split(/\n\s*\n/)[0] || '';
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** `{ [method]: { description, responseText?, examples?, exampleErrors? } }` for every `### name {#rpc_name}`. */
function readDoc(docPath) {
  const text = fs.readFileSync(docPath, 'utf8');
  const methods = {};
  for (const section of text.split(/\n(?=### )/)) {
    const heading = /^### (\w+) \{#rpc_(\w+)\}/.exec(section);
    if (!heading || heading[1] !== heading[2]) continue;
    const entry = { description: firstParagraph(section) };
    const response = /#### Response\s*\n([\s\S]*?)(?=\n#{2,4} |$)/.exec(section);
    // The prose that opens the section, not a table or code block.
    const prose = response && response[1].trim().split(/\n\s*\n/)[0];
    if (prose && !/^\s*(\||~~~|Name\s*\|)|\n\s*[-|]{3}/.test(prose)) entry.responseText = prose.replace(/\s*\n\s*/g, ' ');
    // Every example response of the section; most show the JSON-RPC envelope, some the bare result.
    for (const example of section.matchAll(/Example response:?\s*\n+~~~(?:json)?\n([\s\S]*?)\n~~~/g)) {
      let parsed;
      try {
        parsed = JSON.parse(renderTemplateJson(example[1]));
      } catch (error) {
        entry.exampleErrors = [...(entry.exampleErrors || []), `an example response is not JSON (${error.message})`];
        continue;
      }
      const enveloped = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && parsed.jsonrpc === '2.0';
      if (enveloped && !('result' in parsed)) continue; // an example of an error
      entry.examples = [...(entry.examples || []), enveloped ? parsed.result : parsed];
    }
    methods[heading[1]] = entry;
  }
  return methods;
}

/** The shape of one JSON value. */
function shapeOf(value) {
  if (value === null) return { kind: 'null' };
  if (Array.isArray(value)) {
    return { kind: 'array', element: value.map(shapeOf).reduce((a, b) => mergeShapes(a, b), { kind: 'never' }) };
  }
  switch (typeof value) {
    case 'string': return { kind: 'string' };
    case 'number': return { kind: 'number' };
    case 'boolean': return { kind: 'boolean' };
    default: break;
  }
  const fields = {};
  for (const [name, field] of Object.entries(value)) fields[name] = { optional: false, type: shapeOf(field) };
  return { kind: 'object', fields };
}

function members(shape) {
  return shape.kind === 'union' ? shape.of : [shape];
}

/** The shape of values that are either `a` or `b`. `never` (no evidence, e.g. an empty array's element) merges away. */
function mergeShapes(a, b) {
  if (a.kind === 'never') return b;
  if (b.kind === 'never') return a;
  const result = [];
  for (const shape of [...members(a), ...members(b)]) {
    const index = result.findIndex((existing) => existing.kind === shape.kind);
    if (index < 0) {
      result.push(shape);
    } else if (shape.kind === 'array') {
      result[index] = { kind: 'array', element: mergeShapes(result[index].element, shape.element) };
    } else if (shape.kind === 'object') {
      const left = result[index].fields;
      const right = shape.fields;
      const fields = {};
      for (const name of new Set([...Object.keys(left), ...Object.keys(right)])) {
        if (left[name] && right[name]) {
          fields[name] = { optional: left[name].optional || right[name].optional, type: mergeShapes(left[name].type, right[name].type) };
        } else {
          fields[name] = { ...(left[name] || right[name]), optional: true };
        }
      }
      result[index] = { kind: 'object', fields };
    }
  }
  return result.length === 1 ? result[0] : { kind: 'union', of: result };
}

/**
 * Result facts for every documented method: `{ [method]: { description?, responseText?, result? } }`,
 * `result` being the inferred shape of the example's `result` (absent when there is no usable example).
 */
function readResultFacts(spdkDir) {
  const docPath = findDoc(spdkDir);
  if (!docPath) return undefined;
  const doc = readDoc(docPath);
  const facts = {};
  for (const [method, entry] of Object.entries(doc)) {
    const fact = {};
    if (entry.description) fact.description = entry.description;
    if (entry.responseText) fact.responseText = entry.responseText;
    if (entry.examples) {
      fact.result = entry.examples.map(shapeOf).reduce((a, b) => mergeShapes(a, b), { kind: 'never' });
      for (const correction of RESULT_CORRECTIONS.filter((c) => c.method === method)) {
        fact.result = correct(fact.result, correction);
        fact.corrections = [...(fact.corrections || []), correction.why];
      }
    }
    if (entry.exampleErrors) fact.exampleErrors = entry.exampleErrors;
    facts[method] = fact;
  }
  return { doc: path.relative(spdkDir, docPath).split(path.sep).join('/'), methods: facts };
}

module.exports = { RESULT_CORRECTIONS, correct, readDoc, readResultFacts, shapeOf, mergeShapes, renderTemplateJson, findDoc };
