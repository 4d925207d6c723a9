import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EM_X86_64, readElf, readExportedSymbols, readStringSymbol } from '../../src/elf';
import { cc, compileSharedObject, NO_CC_REASON, tempDir } from './fake-spdk';

/** libc as the loader knows it, from `ldconfig -p`. */
function systemLibc(): string {
  const output = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' });
  const match = /^\s*libc\.so\.6 \([^)]*x86-64[^)]*\) => (\S+)$/m.exec(output);
  if (!match?.[1]) throw new Error('libc.so.6 (x86-64) is not in `ldconfig -p`');
  return match[1];
}

describe('a system shared object (libc)', () => {
  const libc = systemLibc();

  it('is read as a 64-bit little-endian x86-64 shared object', () => {
    const result = readElf(libc);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({ elfClass: 64, endianness: 'little', machine: EM_X86_64, machineName: 'x86-64', type: 3, kind: 'shared-object' });
  });

  it('has its SONAME and DT_NEEDED read from the dynamic section', () => {
    const result = readElf(libc);
    if (!result.ok) throw new Error(result.message);
    expect(result.value.soname).toBe('libc.so.6');
    expect(result.value.needed.some((name) => name.startsWith('ld-linux'))).toBe(true);
  });

  it('lists exported functions and omits names it does not define', () => {
    const result = readExportedSymbols(libc);
    if (!result.ok) throw new Error(result.message);
    const names = new Set(result.value.map((s) => s.name));
    expect(names.has('malloc')).toBe(true);
    expect(names.has('printf')).toBe(true);
    expect(result.value.find((s) => s.name === 'malloc')?.type).toBe('func');
  });

  it('looks up just the requested names when given some', () => {
    const result = readExportedSymbols(libc, ['malloc', 'no_such_symbol_here']);
    if (!result.ok) throw new Error(result.message);
    expect(result.value.map((s) => s.name)).toEqual(['malloc']);
  });

  it('tells a PIE executable from a shared object', () => {
    const result = readElf(process.execPath);
    if (!result.ok) throw new Error(result.message);
    expect(['executable', 'pie-executable']).toContain(result.value.kind);
  });
});

describe(cc ? 'a shared object compiled here' : `a shared object compiled here (${NO_CC_REASON})`, () => {
  const run = cc ? it : it.skip;
  let built: string | undefined;
  const tiny = (): string => {
    built ??= compileSharedObject(join(tempDir(), 'libtiny.so'), [
      'const char spdk_fat_version_string[] = "SPDK v99.99";',
      'const char *spdk_version_pointer = "SPDK v99.99";',
      'static const char hidden_string[] = "not exported";',
      'const char *use_hidden(void) { return hidden_string; }',
      '__attribute__((visibility("hidden"))) int hidden_function(void) { return 1; }',
      'int spdk_app_start(void) { return hidden_function(); }',
      'extern int some_undefined_function(void);',
      'int call_undefined(void) { return some_undefined_function(); }',
    ].join('\n'), ['-Wl,-soname,libtiny.so.7']);
    return built;
  };

  run('reads the string stored at a const char[] symbol', () => {
    expect(readStringSymbol(tiny(), 'spdk_fat_version_string')).toEqual({ ok: true, value: 'SPDK v99.99' });
  });

  run('reports its SONAME', () => {
    const result = readElf(tiny());
    expect(result.ok && result.value.soname).toBe('libtiny.so.7');
  });

  run('exports only defined, visible symbols', () => {
    const result = readExportedSymbols(tiny());
    if (!result.ok) throw new Error(result.message);
    const names = result.value.map((s) => s.name);
    expect(names).toContain('spdk_fat_version_string');
    expect(names).toContain('spdk_app_start');
    expect(names).not.toContain('hidden_function');
    expect(names).not.toContain('hidden_string');
    expect(names).not.toContain('some_undefined_function');
  });

  run('refuses a function symbol as a string', () => {
    const result = readStringSymbol(tiny(), 'spdk_app_start');
    expect(result).toMatchObject({ ok: false, reason: 'not-a-string' });
  });

  run('refuses a const char * (its value is only set by relocation at load time)', () => {
    const result = readStringSymbol(tiny(), 'spdk_version_pointer');
    expect(result).toMatchObject({ ok: false, reason: 'not-a-string' });
    expect(!result.ok && result.message).toContain('not a pointer');
  });

  run('says when a symbol is only referenced, not defined', () => {
    const result = readStringSymbol(tiny(), 'some_undefined_function');
    expect(result).toMatchObject({ ok: false, reason: 'symbol-not-found' });
    expect(!result.ok && result.message).toContain('referenced but not defined');
  });

  run('says when a symbol does not exist', () => {
    expect(readStringSymbol(tiny(), 'spdk_no_such_symbol')).toMatchObject({ ok: false, reason: 'symbol-not-found' });
  });

  run('reports a copy cut short inside its tables as truncated', () => {
    const cut = join(tempDir(), 'cut.so');
    copyFileSync(tiny(), cut);
    const bytes = readFileSync(cut);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    // Section headers sit at the end of the file, so they are the first thing missing.
    expect(readElf(cut)).toMatchObject({ ok: false, reason: 'truncated' });
    expect(readStringSymbol(cut, 'spdk_fat_version_string')).toMatchObject({ ok: false, reason: 'truncated' });
  });
});

describe('files that are not usable ELF64', () => {
  const dir = tempDir();

  it('reports a text file as not ELF', () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'GROUP ( libspdk_fat.so.26.01 )\n');
    expect(readElf(path)).toMatchObject({ ok: false, reason: 'not-elf' });
    expect(readExportedSymbols(path)).toMatchObject({ ok: false, reason: 'not-elf' });
  });

  it('reports an empty file as not ELF', () => {
    const path = join(dir, 'empty.so');
    writeFileSync(path, '');
    expect(readElf(path)).toMatchObject({ ok: false, reason: 'not-elf' });
  });

  it('reports a file that ends inside the ELF header as truncated', () => {
    const path = join(dir, 'header-only.so');
    writeFileSync(path, readFileSync(systemLibc()).subarray(0, 40));
    expect(readElf(path)).toMatchObject({ ok: false, reason: 'truncated' });
  });

  it('reports a 32-bit ELF file as unsupported', () => {
    const path = join(dir, 'elf32.so');
    const header = Buffer.alloc(52);
    header.write('\x7fELF', 0, 'latin1');
    header[4] = 1; // ELFCLASS32
    header[5] = 1;
    writeFileSync(path, header);
    const result = readElf(path);
    expect(result).toMatchObject({ ok: false, reason: 'unsupported' });
    expect(!result.ok && result.message).toContain('32-bit');
  });

  it('reports a missing file as unreadable with its errno code', () => {
    expect(readElf(join(dir, 'absent.so'))).toMatchObject({ ok: false, reason: 'unreadable', code: 'ENOENT' });
  });

  it('reports a directory as unreadable instead of throwing', () => {
    expect(readElf(dir)).toMatchObject({ ok: false, reason: 'unreadable', code: 'EISDIR' });
  });
});
