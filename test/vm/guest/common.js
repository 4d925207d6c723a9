// Shared by the rig's guest programs: parameters in, one JSON line out, and a deterministic
// data pattern so that every read is checked against what was written.
'use strict';
const fs = require('node:fs');

/** The JSON parameters the host passed as argv[2]. */
function params() {
  return JSON.parse(process.argv[2] ?? '{}');
}

/** Prints the program's result as the last line of stdout and exits. */
function finish(result, code = 0) {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(code);
}

/** Runs main(params) and prints what it returns; a throw becomes { error } with its details. */
function main(body) {
  body(params()).then(
    (result) => finish(result ?? {}),
    (error) => finish({ error: { name: error?.name, message: error?.message, code: error?.code, errno: error?.errno, stack: error?.stack } }, 1),
  );
}

/** Fills buf with a pattern no other (tag, lba) pair produces. */
function stamp(buf, tag, lba) {
  let x = (tag * 2654435761 + lba * 40503 + 1) >>> 0;
  for (let i = 0; i + 4 <= buf.length; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    buf.writeUInt32LE(x, i);
  }
  return buf;
}

/** The current kernel driver of a PCI function, or null. */
function driverOf(addr) {
  try {
    return fs.readlinkSync(`/sys/bus/pci/devices/${addr}/driver`).split('/').pop();
  } catch {
    return null;
  }
}

/** Spdk.start options for the guest programs: the full library wants about 1 GiB of hugepages. */
function startOptions(extra = {}) {
  return { rpcSocket: false, memSizeMb: 1024, ...extra };
}

module.exports = { params, finish, main, stamp, driverOf, startOptions };
