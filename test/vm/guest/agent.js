// The rig's agent inside the VM: reads newline-delimited JSON commands from the virtio-serial port
// given as argv[2] and answers each with one line. A command runs a program and returns its exit
// status and output: { id, argv, cwd?, env?, timeoutMs?, input? } -> { id, code, signal, stdout,
// stderr, ms }. The host side is test/vm/vm.ts.
'use strict';
const fs = require('node:fs');
const { spawn } = require('node:child_process');

const port = process.argv[2];
const fd = fs.openSync(port, 'r+');
const out = fs.createWriteStream(null, { fd, autoClose: false });
const inp = fs.createReadStream(null, { fd, autoClose: false, highWaterMark: 64 * 1024 });

function reply(message) {
  out.write(JSON.stringify(message) + '\n');
}

function run(command) {
  const started = Date.now();
  const child = spawn(command.argv[0], command.argv.slice(1), {
    cwd: command.cwd ?? '/opt/spdk-node-vm',
    env: { ...process.env, ...command.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout = [];
  const stderr = [];
  child.stdout.on('data', (d) => stdout.push(d));
  child.stderr.on('data', (d) => stderr.push(d));
  child.stdin.end(command.input ?? '');
  const timer = command.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), command.timeoutMs) : undefined;
  child.on('error', (error) => {
    clearTimeout(timer);
    reply({ id: command.id, code: null, signal: null, error: error.message, stdout: '', stderr: '', ms: Date.now() - started });
  });
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    reply({
      id: command.id,
      code,
      signal,
      stdout: Buffer.concat(stdout).toString(),
      stderr: Buffer.concat(stderr).toString(),
      ms: Date.now() - started,
    });
  });
}

let pending = '';
inp.on('data', (chunk) => {
  pending += chunk.toString();
  let newline;
  while ((newline = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    if (!line.trim()) continue;
    let command;
    try {
      command = JSON.parse(line);
    } catch {
      reply({ id: null, error: `not JSON: ${line.slice(0, 80)}` });
      continue;
    }
    if (command.ping) reply({ id: command.id, pong: true });
    else run(command);
  }
});
reply({ id: null, ready: true, kernel: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() });
