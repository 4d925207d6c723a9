#!/usr/bin/env node
// Builds the addon with cmake-js against the installed libspdk_fat.so.
//   node scripts/build-native.js               build, or fail saying why
//   node scripts/build-native.js --if-possible  (npm install) skip, with a note, when there is a
//                                              prebuild already or no SPDK to build against
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const ifPossible = process.argv.includes('--if-possible');
const debug = process.argv.includes('--debug');

function hasPrebuild() {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith('.node'));
}

function spdkFatFound() {
  const r = spawnSync('pkg-config', ['--exists', 'spdk_fat'], { stdio: 'ignore' });
  return r.status === 0;
}

if (ifPossible && hasPrebuild()) {
  console.log('spdk-node: using the prebuilt addon in prebuilds/');
  process.exit(0);
}
if (!spdkFatFound()) {
  const msg =
    'spdk-node: libspdk_fat.so is not installed (pkg-config cannot find spdk_fat), so the addon was not built.\n' +
    '  Install SPDK first: sudo scripts/pkgdep.sh && ./build.sh   (then: npm run build:native)\n' +
    '  If it is installed under another prefix: export PKG_CONFIG_PATH=<prefix>/lib/pkgconfig';
  if (ifPossible) {
    console.log(msg);
    process.exit(0);
  }
  console.error(msg);
  process.exit(1);
}
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const args = [cmakeJs, 'compile', '--directory', root];
if (debug) args.push('--debug');
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
