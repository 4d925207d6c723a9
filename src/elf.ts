// A small ELF64 reader: enough to check, before anything is dlopen()ed, that a file is the shared
// object we expect and which SPDK it was built from. dlopen() of a mismatched SPDK library does not
// fail cleanly (the ABI changes between releases), so these checks must not need the loader at all.
//
// The fat SPDK library can be 100+ MB (with debug info), so only the headers and the few sections
// needed are read, at their offsets. Every function returns a result object: a non-ELF, truncated
// or malformed file is an `{ ok: false }` result with a message, never an exception.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export type ElfFailureReason =
  | 'unreadable' // the file could not be opened or read (permissions, missing, a directory)
  | 'not-elf' // no ELF magic: a text file, a linker script, an archive...
  | 'truncated' // a header or table points past the end of the file
  | 'unsupported' // a valid ELF file this reader does not handle (32-bit, relocatable object)
  | 'malformed' // the headers contradict themselves
  | 'symbol-not-found'
  | 'not-a-string'; // the symbol exists but does not hold a NUL-terminated string

export interface ElfFailure {
  ok: false;
  path: string;
  reason: ElfFailureReason;
  message: string;
  /** The errno name when `reason` is `'unreadable'` (`'ENOENT'`, `'EACCES'`, `'EISDIR'`...). */
  code?: string;
}

export type ElfResult<T> = { ok: true; value: T } | ElfFailure;

export type ElfEndianness = 'little' | 'big';
export type ElfKind = 'relocatable' | 'executable' | 'pie-executable' | 'shared-object' | 'core' | 'other';

/** e_machine of x86-64. */
export const EM_X86_64 = 62;
/** e_type of shared objects and position-independent executables. */
export const ET_DYN = 3;

export interface ElfInfo {
  path: string;
  fileSize: number;
  elfClass: 64;
  endianness: ElfEndianness;
  /** e_machine, e.g. 62 (`EM_X86_64`). */
  machine: number;
  /** Readable e_machine: `'x86-64'`, `'AArch64'`... */
  machineName: string;
  /** e_type, e.g. 3 (`ET_DYN`). */
  type: number;
  /** What the file is; PIE executables share e_type ET_DYN with shared objects. */
  kind: ElfKind;
  /** DT_SONAME, or null when the file has none. */
  soname: string | null;
  /** DT_NEEDED entries, in order. */
  needed: string[];
  /** DT_RUNPATH, or DT_RPATH when there is no RUNPATH, split at ':'. */
  runpath: string[];
}

export type ElfSymbolType = 'notype' | 'object' | 'func' | 'section' | 'file' | 'common' | 'tls' | 'ifunc' | 'other';
export type ElfSymbolBinding = 'local' | 'global' | 'weak' | 'unique' | 'other';

export interface ElfSymbol {
  name: string;
  type: ElfSymbolType;
  binding: ElfSymbolBinding;
  /** st_value: the virtual address (relative to the load base for shared objects). */
  address: bigint;
  /** st_size in bytes. */
  size: bigint;
}

const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([
  [3, 'x86 (32-bit)'], [8, 'MIPS'], [20, 'PowerPC'], [21, 'PowerPC64'], [22, 'S390'], [40, 'ARM'],
  [62, 'x86-64'], [183, 'AArch64'], [243, 'RISC-V'], [258, 'LoongArch'],
]);
const SYMBOL_TYPES: readonly ElfSymbolType[] = ['notype', 'object', 'func', 'section', 'file', 'common', 'tls'];

const SHT_DYNAMIC = 6;
const SHT_NOBITS = 8;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const SHN_UNDEF = 0;
const SHN_XINDEX = 0xffff;
const PN_XNUM = 0xffff;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;
const DT_SONAME = 14n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;
const DT_FLAGS_1 = 0x6ffffffbn;
const DF_1_PIE = 0x08000000n;
/** No table in a real library comes near this; a larger size means a corrupt header, not a big file. */
const MAX_TABLE_BYTES = 256 * 1024 * 1024;
/** How far to look for the NUL of a string symbol whose st_size is 0. */
const MAX_UNSIZED_STRING = 4096;

/** Thrown inside this module only; every exported function turns it into an `ElfFailure`. */
class ElfReadError extends Error {
  constructor(readonly reason: ElfFailureReason, message: string, readonly code?: string) {
    super(message);
  }
}

interface Section { type: number; flags: bigint; addr: bigint; offset: bigint; size: bigint; link: number; entsize: bigint }
interface Segment { type: number; offset: bigint; vaddr: bigint; filesz: bigint; memsz: bigint }

/** An open ELF64 file with its headers parsed. */
class ElfFile {
  readonly le: boolean;
  readonly machine: number;
  readonly type: number;
  readonly sections: Section[];
  readonly segments: Segment[];

  private constructor(readonly path: string, private readonly fd: number, readonly fileSize: number) {
    const ident = this.read(0, Math.min(64, fileSize), 'ELF header');
    if (ident.length < 4 || ident[0] !== 0x7f || ident.toString('latin1', 1, 4) !== 'ELF') {
      throw new ElfReadError('not-elf', `${path} is not an ELF file`);
    }
    // The class comes first: an ELF32 header is shorter (52 bytes) than an ELF64 one.
    if (ident[4] === 1) throw new ElfReadError('unsupported', `${path} is a 32-bit ELF file; only 64-bit ELF is supported`);
    if (ident.length < 64) throw new ElfReadError('truncated', `${path} is truncated: it ends inside the ELF header`);
    if (ident[4] !== 2) throw new ElfReadError('malformed', `${path} has an invalid ELF class byte (${ident[4]})`);
    if (ident[5] !== 1 && ident[5] !== 2) throw new ElfReadError('malformed', `${path} has an invalid ELF data-encoding byte (${ident[5]})`);
    this.le = ident[5] === 1;
    this.type = this.u16(ident, 16);
    this.machine = this.u16(ident, 18);
    const phoff = this.u64(ident, 32);
    const shoff = this.u64(ident, 40);
    const phentsize = this.u16(ident, 54);
    let phnum = this.u16(ident, 56);
    const shentsize = this.u16(ident, 58);
    let shnum = this.u16(ident, 60);

    // Section 0 holds the real counts when they do not fit in the 16-bit header fields.
    if (shoff !== 0n && (shnum === 0 || phnum === PN_XNUM)) {
      const s0 = this.read(shoff, 64, 'section header 0');
      if (shnum === 0) shnum = this.toNumber(this.u64(s0, 32), 'section count');
      if (phnum === PN_XNUM) phnum = this.u32(s0, 44);
    }
    this.sections = [];
    if (shoff !== 0n && shnum > 0) {
      if (shentsize < 64) throw new ElfReadError('malformed', `${path} has section headers of ${shentsize} bytes (64 expected)`);
      const table = this.read(shoff, this.tableBytes(shnum, shentsize), 'section header table');
      for (let i = 0; i < shnum; i++) {
        const o = i * shentsize;
        this.sections.push({
          type: this.u32(table, o + 4), flags: this.u64(table, o + 8), addr: this.u64(table, o + 16),
          offset: this.u64(table, o + 24), size: this.u64(table, o + 32), link: this.u32(table, o + 40),
          entsize: this.u64(table, o + 56),
        });
      }
    }
    this.segments = [];
    if (phoff !== 0n && phnum > 0) {
      if (phentsize < 56) throw new ElfReadError('malformed', `${path} has program headers of ${phentsize} bytes (56 expected)`);
      const table = this.read(phoff, this.tableBytes(phnum, phentsize), 'program header table');
      for (let i = 0; i < phnum; i++) {
        const o = i * phentsize;
        this.segments.push({
          type: this.u32(table, o), offset: this.u64(table, o + 8), vaddr: this.u64(table, o + 16),
          filesz: this.u64(table, o + 32), memsz: this.u64(table, o + 40),
        });
      }
    }
  }

  /** Opens and parses `path`, runs `use`, closes the file; every failure becomes an `ElfFailure`. */
  static with<T>(path: string, use: (elf: ElfFile) => T): ElfResult<T> {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      return unreadable(path, error);
    }
    try {
      const size = fstatSync(fd).size;
      return { ok: true, value: use(new ElfFile(path, fd, size)) };
    } catch (error) {
      if (error instanceof ElfReadError) {
        return { ok: false, path, reason: error.reason, message: error.message, ...(error.code ? { code: error.code } : {}) };
      }
      if (isErrnoError(error)) return unreadable(path, error);
      throw error; // a bug in this module, not a property of the file
    } finally {
      closeSync(fd);
    }
  }

  read(offset: bigint | number, length: number, what: string): Buffer {
    const start = typeof offset === 'bigint' ? this.toNumber(offset, what) : offset;
    if (start + length > this.fileSize) {
      throw new ElfReadError('truncated', `${this.path} is truncated: its ${what} lies past the end of the file (${this.fileSize} bytes)`);
    }
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buffer, done, length - done, start + done);
      if (n === 0) throw new ElfReadError('truncated', `${this.path} is truncated: reading its ${what} hit the end of the file`);
      done += n;
    }
    return buffer;
  }

  readSection(section: Section, what: string): Buffer {
    return this.read(section.offset, this.toSize(section.size, what), what);
  }

  /** Translates a virtual address to a file offset and the bytes stored in the file from there. */
  mapAddress(address: bigint): { offset: bigint; available: bigint } | null {
    for (const s of this.segments) {
      if (s.type === PT_LOAD && address >= s.vaddr && address < s.vaddr + s.memsz) {
        const delta = address - s.vaddr;
        return { offset: s.offset + delta, available: s.filesz > delta ? s.filesz - delta : 0n };
      }
    }
    // No program headers (unusual for a shared object): fall back to the allocated sections.
    for (const s of this.sections) {
      if (s.addr !== 0n && address >= s.addr && address < s.addr + s.size) {
        const delta = address - s.addr;
        return { offset: s.offset + delta, available: s.type === SHT_NOBITS ? 0n : s.size - delta };
      }
    }
    return null;
  }

  u16(b: Buffer, o: number): number { return this.le ? b.readUInt16LE(o) : b.readUInt16BE(o); }
  u32(b: Buffer, o: number): number { return this.le ? b.readUInt32LE(o) : b.readUInt32BE(o); }
  u64(b: Buffer, o: number): bigint { return this.le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o); }
  i64(b: Buffer, o: number): bigint { return this.le ? b.readBigInt64LE(o) : b.readBigInt64BE(o); }

  toNumber(value: bigint, what: string): number {
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfReadError('malformed', `${this.path} has an impossible ${what} (${value})`);
    return Number(value);
  }

  toSize(value: bigint, what: string): number {
    const n = this.toNumber(value, what);
    if (n > MAX_TABLE_BYTES) throw new ElfReadError('malformed', `${this.path} has an implausibly large ${what} (${n} bytes)`);
    return n;
  }

  private tableBytes(count: number, entrySize: number): number {
    return this.toSize(BigInt(count) * BigInt(entrySize), 'header table');
  }
}

function isErrnoError(error: unknown): error is NodeJS.ErrnoException {
  // fs errors carry a numeric errno; Node's own ERR_* errors (bugs here) do not.
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).errno === 'number';
}

function unreadable(path: string, error: unknown): ElfFailure {
  const code = isErrnoError(error) ? error.code : undefined;
  const detail = error instanceof Error ? error.message : String(error);
  return { ok: false, path, reason: 'unreadable', message: `cannot read ${path}: ${detail}`, ...(code ? { code } : {}) };
}

/** The NUL-terminated string at `offset` in a string table. */
function cString(elf: ElfFile, table: Buffer, offset: number, what: string): string {
  const end = table.indexOf(0, offset);
  if (offset >= table.length || end < 0) throw new ElfReadError('malformed', `${elf.path} has a ${what} outside its string table`);
  return table.toString('latin1', offset, end);
}

interface DynamicEntries { soname: string | null; needed: string[]; runpath: string[]; flags1: bigint }

function readDynamic(elf: ElfFile): DynamicEntries {
  const result: DynamicEntries = { soname: null, needed: [], runpath: [], flags1: 0n };
  let table: Buffer;
  let strings: Buffer | null = null;
  const section = elf.sections.find((s) => s.type === SHT_DYNAMIC);
  if (section) {
    table = elf.readSection(section, 'dynamic section');
    const strtab = elf.sections[section.link];
    if (strtab) strings = elf.readSection(strtab, 'dynamic string table');
  } else {
    const segment = elf.segments.find((s) => s.type === PT_DYNAMIC);
    if (!segment) return result; // statically linked: nothing to report
    table = elf.read(segment.offset, elf.toSize(segment.filesz, 'dynamic segment'), 'dynamic segment');
  }

  const entries: Array<[bigint, bigint]> = [];
  for (let o = 0; o + 16 <= table.length; o += 16) {
    const tag = elf.i64(table, o);
    if (tag === DT_NULL) break;
    entries.push([tag, elf.u64(table, o + 8)]);
  }
  if (strings === null) {
    // Without section headers the string table is found through DT_STRTAB, a virtual address.
    const address = entries.find(([t]) => t === DT_STRTAB)?.[1];
    const size = entries.find(([t]) => t === DT_STRSZ)?.[1];
    const mapped = address === undefined ? null : elf.mapAddress(address);
    if (!mapped || size === undefined) {
      if (entries.some(([t]) => t === DT_NEEDED || t === DT_SONAME)) {
        throw new ElfReadError('malformed', `${elf.path} has dynamic entries but no string table for them`);
      }
      return result;
    }
    strings = elf.read(mapped.offset, elf.toSize(size, 'dynamic string table'), 'dynamic string table');
  }

  let rpath: string[] = [];
  for (const [tag, value] of entries) {
    const text = (): string => cString(elf, strings, elf.toNumber(value, 'dynamic string offset'), 'dynamic entry');
    if (tag === DT_NEEDED) result.needed.push(text());
    else if (tag === DT_SONAME) result.soname = text();
    else if (tag === DT_RUNPATH) result.runpath = text().split(':').filter(Boolean);
    else if (tag === DT_RPATH) rpath = text().split(':').filter(Boolean);
    else if (tag === DT_FLAGS_1) result.flags1 = value;
  }
  // The loader ignores DT_RPATH when DT_RUNPATH is present; report what it would use.
  if (result.runpath.length === 0) result.runpath = rpath;
  return result;
}

const SHT_RELA = 4;
const SHT_REL = 9;
const SHT_RELR = 19;

/** Whether a dynamic relocation writes anywhere in [start, end), i.e. the bytes there are not final. */
function relocatedWithin(elf: ElfFile, start: bigint, end: bigint): boolean {
  const hits = (address: bigint): boolean => address + 8n > start && address < end;
  for (const section of elf.sections) {
    if (section.type !== SHT_RELA && section.type !== SHT_REL && section.type !== SHT_RELR) continue;
    const table = elf.readSection(section, 'relocation table');
    if (section.type === SHT_RELR) {
      // Packed relative relocations: an even word is an address, an odd word a bitmap of the 63
      // words after the last address.
      let next = 0n;
      for (let o = 0; o + 8 <= table.length; o += 8) {
        const word = elf.u64(table, o);
        if ((word & 1n) === 0n) {
          if (hits(word)) return true;
          next = word + 8n;
        } else {
          for (let bit = 1n; bit < 64n; bit++) {
            if ((word >> bit) & 1n && hits(next + (bit - 1n) * 8n)) return true;
          }
          next += 63n * 8n;
        }
      }
      continue;
    }
    const entsize = section.type === SHT_RELA ? 24 : 16;
    for (let o = 0; o + entsize <= table.length; o += entsize) {
      if (hits(elf.u64(table, o))) return true;
    }
  }
  return false;
}

function kindOf(type: number, dynamic: DynamicEntries): ElfKind {
  switch (type) {
    case 1: return 'relocatable';
    case 2: return 'executable';
    case ET_DYN: return (dynamic.flags1 & DF_1_PIE) !== 0n ? 'pie-executable' : 'shared-object';
    case 4: return 'core';
    default: return 'other';
  }
}

/** The entries of .dynsym (those named in `only`, if given), with whether each is defined and visible. */
function readDynamicSymbols(elf: ElfFile, only?: ReadonlySet<string>): Array<ElfSymbol & { defined: boolean; hidden: boolean }> {
  const dynsym = elf.sections.find((s) => s.type === SHT_DYNSYM);
  if (!dynsym) {
    if (elf.sections.length === 0) {
      throw new ElfReadError('unsupported', `${elf.path} has no section headers (was it stripped with sstrip?); its symbols cannot be listed`);
    }
    return []; // a static executable has no dynamic symbols
  }
  const strtab = elf.sections[dynsym.link];
  if (!strtab) throw new ElfReadError('malformed', `${elf.path} has a .dynsym whose string table index (${dynsym.link}) does not exist`);
  const table = elf.readSection(dynsym, '.dynsym');
  const strings = elf.readSection(strtab, '.dynstr');
  const entsize = dynsym.entsize === 0n ? 24 : elf.toNumber(dynsym.entsize, '.dynsym entry size');
  if (entsize < 24) throw new ElfReadError('malformed', `${elf.path} has .dynsym entries of ${entsize} bytes (24 expected)`);

  const wantedLengths = only ? new Set([...only].map((n) => Buffer.byteLength(n, 'latin1'))) : undefined;
  const symbols: Array<ElfSymbol & { defined: boolean; hidden: boolean }> = [];
  for (let o = entsize; o + 24 <= table.length; o += entsize) { // entry 0 is always the null symbol
    const nameOffset = elf.u32(table, o);
    // Most callers want a handful of names out of tens of thousands: decoding every name to a JS
    // string costs more than the whole read, so names of the wrong length are skipped undecoded.
    if (wantedLengths && !wantedLengths.has(strings.indexOf(0, nameOffset) - nameOffset)) continue;
    const name = cString(elf, strings, nameOffset, 'symbol name');
    if (only && !only.has(name)) continue;
    const info = table[o + 4] ?? 0;
    const other = table[o + 5] ?? 0;
    const bind = info >> 4;
    const type = info & 0xf;
    const visibility = other & 3; // STV_INTERNAL and STV_HIDDEN are not visible to other objects
    symbols.push({
      name,
      type: SYMBOL_TYPES[type] ?? (type === 10 ? 'ifunc' : 'other'),
      binding: bind === 0 ? 'local' : bind === 1 ? 'global' : bind === 2 ? 'weak' : bind === 10 ? 'unique' : 'other',
      address: elf.u64(table, o + 8),
      size: elf.u64(table, o + 16),
      defined: elf.u16(table, o + 6) !== SHN_UNDEF,
      hidden: visibility === 1 || visibility === 2,
    });
  }
  return symbols;
}

function isExported(s: { binding: ElfSymbolBinding; type: ElfSymbolType; defined: boolean; hidden: boolean }): boolean {
  return s.defined && !s.hidden && s.binding !== 'local' && s.binding !== 'other' && s.type !== 'section' && s.type !== 'file';
}

/** Header facts and dynamic-section entries (SONAME, NEEDED, RUNPATH) of an ELF64 file. */
export function readElf(path: string): ElfResult<ElfInfo> {
  return ElfFile.with(path, (elf) => {
    const dynamic = readDynamic(elf);
    return {
      path,
      fileSize: elf.fileSize,
      elfClass: 64,
      endianness: elf.le ? 'little' : 'big',
      machine: elf.machine,
      machineName: MACHINE_NAMES.get(elf.machine) ?? `machine ${elf.machine}`,
      type: elf.type,
      kind: kindOf(elf.type, dynamic),
      soname: dynamic.soname,
      needed: dynamic.needed,
      runpath: dynamic.runpath,
    };
  });
}

/**
 * The symbols other objects can link against: defined, global or weak, default or protected
 * visibility. Pass `names` to look up just those (much faster on a library with many exports).
 */
export function readExportedSymbols(path: string, names?: readonly string[]): ElfResult<ElfSymbol[]> {
  return ElfFile.with(path, (elf) =>
    readDynamicSymbols(elf, names ? new Set(names) : undefined).filter(isExported).map(({ name, type, binding, address, size }) => ({ name, type, binding, address, size })),
  );
}

/**
 * The NUL-terminated string stored at a defined dynamic data symbol, read from the file.
 *
 * The symbol must be an initialised character array (`const char name[] = "..."`): a `const char *`
 * holds an address that is only filled in by relocation at load time, so the file has no string there.
 */
export function readStringSymbol(path: string, name: string): ElfResult<string> {
  return ElfFile.with(path, (elf) => {
    if (elf.type !== 2 && elf.type !== ET_DYN) {
      throw new ElfReadError('unsupported', `${path} is not a linked executable or shared object, so its symbol addresses are not final`);
    }
    const candidates = readDynamicSymbols(elf, new Set([name]));
    const symbol = candidates.find(isExported) ?? candidates.find((s) => s.defined);
    if (!symbol) {
      const why = candidates.length > 0 ? 'is referenced but not defined' : 'is not among the dynamic symbols';
      throw new ElfReadError('symbol-not-found', `${name} ${why} in ${path}`);
    }
    if (symbol.type !== 'object' && symbol.type !== 'notype') {
      throw new ElfReadError('not-a-string', `${name} in ${path} is a ${symbol.type} symbol, not a string constant`);
    }
    const mapped = elf.mapAddress(symbol.address);
    if (!mapped) throw new ElfReadError('malformed', `${name} in ${path} has an address (0x${symbol.address.toString(16)}) outside every loaded segment`);
    if (mapped.available === 0n) {
      throw new ElfReadError('not-a-string', `${name} in ${path} is zero-initialised (.bss), not a string constant`);
    }
    const limit = symbol.size > 0n ? symbol.size : BigInt(MAX_UNSIZED_STRING);
    const length = elf.toNumber(limit < mapped.available ? limit : mapped.available, 'symbol size');
    const bytes = elf.read(mapped.offset, length, `symbol ${name}`);
    const end = bytes.indexOf(0);
    const text = bytes.toString('utf8', 0, end < 0 ? 0 : end);
    // A pointer or an integer read as text is empty, has control characters, or is overwritten by a
    // relocation at load time, which is the one sure sign of a pointer.
    const notText = end <= 0 || /[\u0000-\u001f\u007f\ufffd]/.test(text);
    if (notText || relocatedWithin(elf, symbol.address, symbol.address + BigInt(length))) {
      throw new ElfReadError('not-a-string', `${name} in ${path} does not hold a NUL-terminated string (declare it as \`const char ${name}[]\`, not a pointer)`);
    }
    return text;
  });
}
