#!/usr/bin/env node
// prebuildify drives node-gyp; the addon is built with cmake-js. prebuildify runs the program
// named by PREBUILD_NODE_GYP with node-gyp's arguments (`rebuild --target=... --arch=...
// --release`) and then collects build/Release/*.node: this answers `rebuild` with a cmake-js
// build. The addon uses N-API only, so one build serves every Node version and the target
// version is irrelevant.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const args = process.argv.slice(2);
if (args[0] !== 'rebuild') {
  console.error(`cmake-js-as-node-gyp: only 'rebuild' is supported, not '${args[0]}'`);
  process.exit(1);
}
const debug = args.includes('--debug');
const script = path.join(__dirname, 'build-native.js');
const r = spawnSync(process.execPath, [script, ...(debug ? ['--debug'] : [])], { stdio: 'inherit' });
process.exit(r.status ?? 1);
