'use strict';
// Turns JSON shapes (scripts/rpc-decoders.js, scripts/rpc-doc-results.js) into TypeScript types and
// text into doc comments, for scripts/gen-rpc-types.js.

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function propertyKey(name) {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

/** Text safe inside a `/** ... *\/` comment: no comment end, Doxygen's `@ref x` as code, one line. */
function commentText(text) {
  return String(text)
    .replace(/\*\//g, '*\\/')
    .replace(/@ref\s+(?:rpc_)?([\w.]+)/g, '`$1`')
    .replace(/@(?=\w)/g, '\\@')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/**
 * A doc comment of the given paragraphs at `indent`, wrapped at about 100 columns, then `tags` (e.g.
 * `@see ...`) one per line; nothing when there is nothing to say.
 */
function docComment(paragraphs, indent = '', tags = []) {
  const text = paragraphs.filter((line) => line !== undefined && line !== '').map(commentText);
  if (text.length === 0 && tags.length === 0) return [];
  const width = Math.max(40, 100 - indent.length - 3);
  const wrapped = [];
  for (const paragraph of text) {
    if (wrapped.length > 0) wrapped.push('');
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line !== '' && line.length + 1 + word.length > width) {
        wrapped.push(line);
        line = word;
      } else {
        line = line === '' ? word : `${line} ${word}`;
      }
    }
    wrapped.push(line);
  }
  wrapped.push(...tags);
  if (wrapped.length === 1 && indent.length + wrapped[0].length + 7 <= 100) return [`${indent}/** ${wrapped[0]} */`];
  return [`${indent}/**`, ...wrapped.map((line) => (line === '' ? `${indent} *` : `${indent} * ${line}`)), `${indent} */`];
}

/**
 * The TypeScript type of a shape. `nameObject(shape)` may name an object shape (a schema class);
 * otherwise objects are written inline, multi-line at `indent`.
 */
function renderShape(shape, options = {}, indent = '') {
  const nameObject = options.nameObject || (() => undefined);
  switch (shape.kind) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'null':
      return shape.kind;
    case 'union': {
      const members = shape.of.map((member) => (typeof member === 'string' ? { kind: member } : member));
      // null last, the rest in a stable order.
      const rendered = members
        .map((member) => renderShape(member, options, indent))
        .sort((a, b) => (a === 'null') - (b === 'null'));
      return [...new Set(rendered)].join(' | ');
    }
    case 'array': {
      const element = renderShape(shape.element, options, indent);
      return /[|&]/.test(element) ? `Array<${element}>` : `${element}[]`;
    }
    case 'object': {
      const named = nameObject(shape);
      if (named) return named;
      const fields = Object.entries(shape.fields || {});
      if (shape.index && fields.length === 0) return `Record<string, ${renderShape(shape.index, options, indent)}>`;
      if (fields.length === 0) return 'Record<string, unknown>';
      const inner = `${indent}  `;
      const lines = fields.map(([name, field]) => `${inner}${propertyKey(name)}${field.optional ? '?' : ''}: ${renderShape(field.type, options, inner)};`);
      if (shape.index) lines.push(`${inner}[name: string]: ${renderShape(shape.index, options, inner)};`);
      return `{\n${lines.join('\n')}\n${indent}}`;
    }
    default:
      return 'unknown';
  }
}

/** The JSON kinds a shape admits (`union` spread out). */
function kindsOf(shape) {
  if (shape.kind === 'union') return new Set(shape.of.map((member) => (typeof member === 'string' ? member : member.kind)));
  return new Set([shape.kind]);
}

module.exports = { IDENTIFIER, propertyKey, commentText, docComment, renderShape, kindsOf };
