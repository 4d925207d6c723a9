#!/usr/bin/env node
// Builds the addon with cmake-js against the installed libspdk_fat.so.
//   node scripts/build-native.js               build, or fail saying why
//   node scripts/build-native.js --if-possible  (npm install) skip, with a note, when there is no
//                                              SPDK to build against; with SPDK, build (a local
//                                              build matches the library exactly and wins over a
//                                              prebuild), falling back to a prebuild if that fails
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

/** How to install the library, from where this package is: a clone has the submodule, an installed package ships build.sh. */
function libraryAdvice() {
  const inNodeModules = root.split(path.sep).includes('node_modules');
  if (!inNodeModules && fs.existsSync(path.join(root, '.git'))) {
    return '  Install SPDK first: git submodule update --init --recursive && sudo scripts/pkgdep.sh && sudo ./build.sh   (then: npm run build:native)';
  }
  const rel = path.relative(process.env.INIT_CWD || process.cwd(), root) || '.';
  return [
    '  Install SPDK first (once per machine):',
    '    git clone --depth 1 --branch v26.01 --recurse-submodules --shallow-submodules https://github.com/spdk/spdk.git',
    `    sudo ${path.join(rel, 'scripts', 'pkgdep.sh')} && sudo ${path.join(rel, 'build.sh')} --spdk-dir spdk`,
    `  then build the addon: ${inNodeModules ? 'npm rebuild spdk-node' : 'npm run build:native'}`,
  ].join('\n');
}

if (!spdkFatFound()) {
  const msg =
    'spdk-node: libspdk_fat.so is not installed (pkg-config cannot find spdk_fat), so the addon was not built.\n' +
    `${libraryAdvice()}\n` +
    '  If it is installed under another prefix: export PKG_CONFIG_PATH=<prefix>/lib/pkgconfig' +
    (hasPrebuild() ? '\n  (Until then the prebuilt addon in prebuilds/ is used, if it matches the library.)' : '');
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
if (r.status !== 0 && ifPossible && hasPrebuild()) {
  console.log('spdk-node: building the addon failed; the prebuilt addon in prebuilds/ will be used if it matches the library');
  process.exit(0);
}
process.exit(r.status ?? 1);
