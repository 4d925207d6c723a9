// `spdk-node doctor`: the startup check, for humans (or scripts, with --json).
import { checkFatLibrary, formatReport } from '../doctor';
import { parseArgs } from 'node:util';
import { parsingArgs, type Command } from './command';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check that SPDK, the native addon and this machine are ready, and say how to fix what is not',
  usage: [
    'doctor [--json]',
    '',
    'Options:',
    '  --json      Print the full report as JSON',
    '  -h, --help  Show this help',
    '',
    'Exit status: 0 when spdk-node can load (warnings allowed), 1 when it cannot.',
  ].join('\n'),
  async run(args, io) {
    const { values } = parsingArgs(() => parseArgs({ args: [...args], options: { json: { type: 'boolean' } }, strict: true }));
    const report = checkFatLibrary();
    io.out(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return report.ok ? 0 : 1;
  },
};
