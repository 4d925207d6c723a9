// Every `spdk-node` command, in the order `spdk-node --help` lists them. A new command is a module
// in this directory exporting a Command, added here.
import type { Command } from './command';
import { doctorCommand } from './doctor';

export const commands: readonly Command[] = [doctorCommand];
