// Splits a byte stream of back-to-back JSON values into whole values.
//
// SPDK writes each JSON-RPC response as one JSON object, usually but not always followed by a newline,
// and the kernel may hand us any slice of that stream: half a response, or several at once. So values
// are delimited by structure, not by lines: we track nesting depth and whether we are inside a string
// (and after a backslash in one), so braces inside strings do not count.
//
// Each byte is scanned once whatever the chunking (no rescanning from the start of a value); the bytes
// of an unfinished value are kept as a list of chunk slices and joined once, when the value completes,
// so a multi-megabyte response costs linear time. Scanning bytes rather than decoded text is sound because the structural characters
// are ASCII and never occur inside a multi-byte UTF-8 sequence; decoding happens once per whole value,
// so a character split across two chunks decodes correctly.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isJsonWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** A value grew past the splitter's limit; the stream cannot be followed further. */
export class JsonValueTooLargeError extends RangeError {
  /** The limit, in bytes. */
  readonly limit: number;

  constructor(limit: number) {
    super(`a JSON value is longer than ${limit} bytes`);
    this.name = 'JsonValueTooLargeError';
    this.limit = limit;
  }
}

/** Cuts whole top-level JSON objects and arrays out of a byte stream fed chunk by chunk. */
export class JsonValueSplitter {
  /** The most bytes one value may take; a longer one throws a JsonValueTooLargeError. */
  readonly maxValueBytes: number;
  /** Slices of earlier chunks that hold the start of the value being read. */
  #parts: Buffer[] = [];
  #bufferedBytes = 0;
  #depth = 0;
  #inString = false;
  #escaped = false;

  constructor(maxValueBytes = Infinity) {
    this.maxValueBytes = maxValueBytes;
  }

  /** Bytes held for a value that has not ended yet. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /**
   * Feeds the next chunk and calls `onValue` with the text of each value it completes, in order.
   * Throws a SyntaxError when a value starts with anything but `{` or `[` (SPDK never sends bare
   * scalars at the top level, and a stream that does cannot be resynchronised), and a
   * JsonValueTooLargeError when a value, finished or not, passes `maxValueBytes` (what it held is
   * dropped; the stream cannot be followed further without `reset()`).
   */
  push(chunk: Buffer, onValue: (text: string) => void): void {
    const length = chunk.length;
    let start = 0; // where the current value's bytes begin in this chunk
    let i = 0;
    let nextQuote = -2; // next position of each in this chunk; -2: not searched yet, -1: none left
    let nextBackslash = -2;
    while (i < length) {
      if (this.#depth === 0) {
        const byte = chunk[i] as number;
        i++;
        if (isJsonWhitespace(byte)) continue;
        if (byte !== OPEN_BRACE && byte !== OPEN_BRACKET) {
          throw new SyntaxError(`expected '{' or '[' to start a JSON value, got ${describeByte(byte)}`);
        }
        start = i - 1;
        this.#depth = 1;
        continue;
      }
      if (this.#inString) {
        // Strings (names, base64 blobs) are most of a large response, so jump between quotes and
        // backslashes with indexOf instead of stepping. Both positions are cached and searched again
        // only once passed, so each byte is still searched once.
        if (this.#escaped) {
          this.#escaped = false;
          i++;
          continue;
        }
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = chunk.indexOf(BACKSLASH, i);
        if (nextQuote !== -1 && nextQuote < i) nextQuote = chunk.indexOf(QUOTE, i);
        if (nextBackslash !== -1 && (nextQuote === -1 || nextBackslash < nextQuote)) {
          this.#escaped = true; // the byte after it, maybe in the next chunk, is taken literally
          i = nextBackslash + 1;
        } else if (nextQuote === -1) {
          i = length;
        } else {
          this.#inString = false;
          i = nextQuote + 1;
        }
        continue;
      }
      const byte = chunk[i] as number;
      i++;
      if (byte === QUOTE) {
        this.#inString = true;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        this.#depth++;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        // A mismatched closer (`{]`) is left for JSON.parse to reject; the depth is all framing needs.
        this.#depth--;
        if (this.#depth === 0) {
          if (this.#bufferedBytes + (i - start) > this.maxValueBytes) this.#tooLarge();
          onValue(this.#take(chunk.subarray(start, i)));
        }
      }
    }
    if (this.#depth > 0) {
      const rest = chunk.subarray(start);
      if (this.#bufferedBytes + rest.length > this.maxValueBytes) this.#tooLarge();
      this.#parts.push(rest);
      this.#bufferedBytes += rest.length;
    }
  }

  /** Forgets any partial value, e.g. after the connection it came from was closed. */
  reset(): void {
    this.#parts = [];
    this.#bufferedBytes = 0;
    this.#depth = 0;
    this.#inString = false;
    this.#escaped = false;
  }

  #tooLarge(): never {
    this.reset();
    throw new JsonValueTooLargeError(this.maxValueBytes);
  }

  #take(last: Buffer): string {
    if (this.#parts.length === 0) return last.toString('utf8');
    this.#parts.push(last);
    const whole = Buffer.concat(this.#parts, this.#bufferedBytes + last.length);
    this.#parts = [];
    this.#bufferedBytes = 0;
    return whole.toString('utf8');
  }
}

function describeByte(byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? `'${String.fromCharCode(byte)}'` : `byte 0x${byte.toString(16).padStart(2, '0')}`;
}
