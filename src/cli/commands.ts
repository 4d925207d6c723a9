// Every `spdk-node` command, in the order `spdk-node --help` lists them. A new command is a module
// in this directory exporting a Command, added here.
import { bdevListCommand } from './bdev-list';
import { bdevPerfCommand } from './bdev-perf';
import type { Command } from './command';
import { demoCommand } from './demo';
import { devicesCommands } from './devices';
import { doctorCommand } from './doctor';
import { nvmeIdentifyCommand } from './nvme-identify';
import { rpcCommand } from './rpc';

export const commands: readonly Command[] = [
  doctorCommand, demoCommand, ...devicesCommands(), bdevListCommand, bdevPerfCommand, nvmeIdentifyCommand, rpcCommand,
];
