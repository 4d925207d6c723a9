// Stamped blocks: every 4 KiB unit written by the soak (and the fault tests) says which unit it
// is, which generation of it, and carries a checksum of its payload, so a read can tell a correct
// block from a stale one (a lost write), a misplaced one (the wrong LBA) and a corrupt one.
//
//   bytes 0-3    'SPNS'
//   bytes 4-7    unit number (the 4 KiB unit's index on its device)
//   bytes 8-11   generation (1, 2, ...; a unit never written reads as zeros)
//   bytes 12-15  tag (which device or run wrote it)
//   bytes 16-19  checksum: sum of payload words (mod 2^32)
//   bytes 20-    payload: xorshift32 words seeded by (unit, generation, tag)
'use strict';

const UNIT = 4096;
const MAGIC = 0x534e5053; // 'SPNS' little-endian
const WORDS = UNIT / 4;
const HEADER_WORDS = 5;

function seedOf(unit, generation, tag) {
  let h = (Math.imul(unit ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(generation + 1, 0xc2b2ae35) ^ Math.imul(tag + 7, 0x27d4eb2f)) >>> 0;
  return h === 0 ? 1 : h;
}

function words(view, at) {
  return new Uint32Array(view.buffer, view.byteOffset + at * UNIT, WORDS);
}

/** Writes unit `unit` at generation `generation` into `view` at its `at`-th 4 KiB (view: aligned Uint8Array). */
function stamp(view, at, unit, generation, tag) {
  const w = words(view, at);
  let x = seedOf(unit, generation, tag);
  let sum = 0;
  for (let i = HEADER_WORDS; i < WORDS; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    w[i] = x;
    sum = (sum + x) >>> 0;
  }
  w[0] = MAGIC;
  w[1] = unit;
  w[2] = generation;
  w[3] = tag;
  w[4] = sum;
}

/**
 * Checks the `at`-th 4 KiB of `view` is unit `unit` at `generation` (0: never written, all zeros).
 * Returns null, or what is wrong: 'zeros' | 'stale generation N' | 'unit N (misplaced)' | 'corrupt'.
 */
function verify(view, at, unit, generation, tag) {
  const w = words(view, at);
  if (generation === 0) {
    for (let i = 0; i < WORDS; i++) if (w[i] !== 0) return w[0] === MAGIC ? `unexpected generation ${w[2]} of unit ${w[1]}` : 'corrupt';
    return null;
  }
  if (w[0] !== MAGIC) {
    for (let i = 0; i < WORDS; i++) if (w[i] !== 0) return 'corrupt';
    return 'zeros (the write was lost)';
  }
  let sum = 0;
  for (let i = HEADER_WORDS; i < WORDS; i++) sum = (sum + w[i]) >>> 0;
  if (sum !== w[4]) return 'corrupt (checksum)';
  if (w[1] !== unit) return `unit ${w[1]} (misplaced)`;
  if (w[3] !== tag) return `tag ${w[3]} (another writer's)`;
  if (w[2] !== generation) return `stale generation ${w[2]}, expected ${generation}`;
  // Header and checksum agree; the payload must be the one its seed makes.
  let x = seedOf(unit, generation, tag);
  for (let i = HEADER_WORDS; i < WORDS; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    if (w[i] !== x) return 'corrupt (payload)';
  }
  return null;
}

module.exports = { UNIT, stamp, verify };
