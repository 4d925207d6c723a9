import { describe, it, expect } from 'vitest';
import { JsonValueSplitter } from '../../src/rpc/json-stream';

/** Feeds `chunks` through one splitter and returns the texts it produced. */
function split(chunks: (string | Buffer)[]): string[] {
  const splitter = new JsonValueSplitter();
  const values: string[] = [];
  for (const chunk of chunks) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, (text) => values.push(text));
  return values;
}

/** Cuts a buffer into pieces of pseudo-random sizes (deterministic for a seed). */
function randomPieces(bytes: Buffer, seed: number, maxPiece: number): Buffer[] {
  let state = seed;
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const size = 1 + (state % maxPiece);
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

describe('JsonValueSplitter', () => {
  it('splits objects written back to back with no separator', () => {
    expect(split(['{"a":1}{"b":2}[3]'])).toEqual(['{"a":1}', '{"b":2}', '[3]']);
  });

  it('skips whitespace and newlines between values', () => {
    expect(split(['\n {"a":1}\r\n\t{"b":[1,{"c":2}]}\n'])).toEqual(['{"a":1}', '{"b":[1,{"c":2}]}']);
  });

  it('ignores braces, brackets and escaped quotes inside strings', () => {
    const text = JSON.stringify({ s: '}{][ \\"} \\\\ "{' });
    expect(split([text, text])).toEqual([text, text]);
  });

  it('ends a string at a quote preceded by an escaped backslash', () => {
    const text = '{"path":"C:\\\\","next":"}"}';
    expect(JSON.parse(text)).toEqual({ path: 'C:\\', next: '}' });
    expect(split([text])).toEqual([text]);
  });

  it('keeps the escape state when a chunk ends right after a backslash', () => {
    const text = '{"s":"a\\"}b"}';
    const at = text.indexOf('\\') + 1;
    expect(split([text.slice(0, at), text.slice(at)])).toEqual([text]);
  });

  it('decodes a multi-byte UTF-8 character split across chunks', () => {
    const bytes = Buffer.from('{"name":"disk-\u00e9\u{1F4BE}"}');
    const at = bytes.indexOf(0xf0) + 2; // inside the 4-byte emoji
    const [text] = split([bytes.subarray(0, at), bytes.subarray(at)]);
    expect(JSON.parse(text as string)).toEqual({ name: 'disk-\u00e9\u{1F4BE}' });
  });

  it('gives the same values however the stream is chunked', () => {
    const values = Array.from({ length: 50 }, (_, i) => ({
      id: i,
      result: { text: `{[\\"${'}'.repeat(i % 7)}"]}`, nested: [{ a: '\\' }, [i, null, true]], unicode: '\u00fc\u{1F600}' },
    }));
    const texts = values.map((value) => JSON.stringify(value));
    const bytes = Buffer.from(texts.join(''));
    for (const [seed, maxPiece] of [[1, 1], [2, 3], [3, 17], [4, 64], [5, 4096]] as const) {
      expect(split(randomPieces(bytes, seed, maxPiece))).toEqual(texts);
    }
  });

  it('reports the bytes held for an unfinished value and forgets them on reset', () => {
    const splitter = new JsonValueSplitter();
    const values: string[] = [];
    splitter.push(Buffer.from('{"a":1}{"b":'), (text) => values.push(text));
    expect(values).toEqual(['{"a":1}']);
    expect(splitter.bufferedBytes).toBe(5);
    splitter.reset();
    expect(splitter.bufferedBytes).toBe(0);
    splitter.push(Buffer.from('{"c":3}'), (text) => values.push(text));
    expect(values).toEqual(['{"a":1}', '{"c":3}']);
  });

  it('throws a SyntaxError on a top-level value that is not an object or array', () => {
    expect(() => split(['{"a":1} 42'])).toThrow(SyntaxError);
    expect(() => split(['"text"'])).toThrow(/expected '\{' or '\['/);
  });

  it('delivers the values completed before an invalid byte', () => {
    const values: string[] = [];
    expect(() => new JsonValueSplitter().push(Buffer.from('{"a":1}x'), (text) => values.push(text))).toThrow(SyntaxError);
    expect(values).toEqual(['{"a":1}']);
  });
});
