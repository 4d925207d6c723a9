'use strict';
// scripts/rpc-facts.json: what an SPDK tree says about its RPCs beyond the schema, kept in the
// repository so that the generator runs without a tree. `npm run gen:rpc -- --refresh-facts` re-reads
// it from a tree (scripts/rpc-decoders.js for the C decoders, scripts/rpc-doc-results.js for
// doc/jsonrpc.md); the check (scripts/check-rpc-decoders.js) and its test say when it is stale.
const fs = require('node:fs');
const path = require('node:path');

const FACTS_PATH = path.join(__dirname, 'rpc-facts.json');

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

/** Re-reads the SPDK tree: decoder facts and documented results, as stored in scripts/rpc-facts.json. */
function readFactsFromTree(spdkDir) {
  const { readDecoderFacts } = require('./rpc-decoders');
  const { readResultFacts } = require('./rpc-doc-results');
  const decoders = readDecoderFacts(spdkDir);
  for (const fact of Object.values(decoders)) {
    delete fact.line;
    for (const table of fact.tables) delete table.line;
  }
  const results = readResultFacts(spdkDir);
  return {
    comment: 'Derived from an SPDK tree by `npm run gen:rpc -- --refresh-facts`; do not edit. See scripts/gen-rpc-types.js.',
    spdkVersion: detectSpdkVersion({}, path.join(spdkDir, 'schema', 'schema.json')),
    doc: results ? results.doc : undefined,
    decoders,
    results: results ? results.methods : {},
  };
}

/** The facts as JSON with one line per method, so that a refresh's diff reads method by method. */
function formatFacts(facts) {
  const lines = ['{'];
  const entries = Object.entries(facts).filter(([, value]) => value !== undefined);
  entries.forEach(([key, value], index) => {
    const comma = index === entries.length - 1 ? '' : ',';
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const names = Object.keys(value).sort();
      lines.push(` ${JSON.stringify(key)}: {`);
      names.forEach((name, i) => lines.push(`  ${JSON.stringify(name)}: ${JSON.stringify(value[name])}${i === names.length - 1 ? '' : ','}`));
      lines.push(` }${comma}`);
    } else {
      lines.push(` ${JSON.stringify(key)}: ${JSON.stringify(value)}${comma}`);
    }
  });
  return `${lines.join('\n')}\n}\n`;
}

function readFacts(factsPath = FACTS_PATH) {
  if (!fs.existsSync(factsPath)) return undefined;
  return JSON.parse(fs.readFileSync(factsPath, 'utf8'));
}

module.exports = { FACTS_PATH, detectSpdkVersion, formatFacts, readFacts, readFactsFromTree };
