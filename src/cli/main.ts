// The `spdk-node` dispatcher: picks the command by its words (`doctor`, `bdev list`), handles
// --help at every level, and turns usage errors into exit status 2 with the usage on stderr.
import { packageVersion } from '../package-root';
import { UsageError, processIo, type CliIo, type Command } from './command';
import { commands as allCommands } from './commands';

const HELP_FLAGS = new Set(['-h', '--help']);

function commandList(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n');
}

function topHelp(commands: readonly Command[]): string {
  return [
    'Usage: spdk-node <command> [options]',
    '',
    'Commands:',
    commandList(commands),
    '',
    'Options:',
    '  -h, --help     Show help (also after any command: spdk-node doctor --help)',
    '  -V, --version  Show the spdk-node version',
    '',
  ].join('\n');
}

function commandHelp(command: Command): string {
  return `${command.summary}\n\nUsage: spdk-node ${command.usage}\n`;
}

/** The command named by the longest run of leading words, and how many words that took. */
function findCommand(commands: readonly Command[], argv: readonly string[]): { command: Command; words: number } | undefined {
  let best: { command: Command; words: number } | undefined;
  for (const command of commands) {
    const words = command.name.split(' ');
    if (words.every((word, i) => argv[i] === word) && words.length > (best?.words ?? 0)) best = { command, words: words.length };
  }
  return best;
}

/** Help is asked for anywhere before a `--` that ends the options. */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((arg) => HELP_FLAGS.has(arg));
}

/** Runs the CLI on `argv` (without `node` and the script) and returns the exit status. */
export async function main(argv: readonly string[], io: CliIo = processIo, commands: readonly Command[] = allCommands): Promise<number> {
  const [first] = argv;
  if (first === undefined) {
    io.err(topHelp(commands));
    return 2;
  }
  if (HELP_FLAGS.has(first)) {
    io.out(topHelp(commands));
    return 0;
  }
  if (first === '-V' || first === '--version') {
    io.out(`${packageVersion()}\n`);
    return 0;
  }
  if (first === 'help') {
    const match = findCommand(commands, argv.slice(1));
    io.out(match ? commandHelp(match.command) : topHelp(commands));
    return 0;
  }
  const match = findCommand(commands, argv);
  if (!match) {
    // `spdk-node bdev` with commands `bdev list` and `bdev perf`: list the group.
    const group = commands.filter((c) => c.name.startsWith(`${first} `));
    if (group.length > 0 && !first.startsWith('-')) {
      const help = `Usage: spdk-node ${first} <subcommand> [options]\n\nSubcommands:\n${commandList(group)}\n`;
      if (wantsHelp(argv.slice(1))) {
        io.out(help);
        return 0;
      }
      io.err(`spdk-node ${first}: ${argv[1] === undefined ? 'missing subcommand' : `unknown subcommand "${argv[1]}"`}\n\n${help}`);
      return 2;
    }
    const what = first.startsWith('-') ? `unknown option "${first}"` : `unknown command "${first}"`;
    io.err(`spdk-node: ${what}\n\n${topHelp(commands)}`);
    return 2;
  }

  const { command, words } = match;
  const args = argv.slice(words);
  if (wantsHelp(args)) {
    io.out(commandHelp(command));
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`spdk-node ${command.name}: ${error.message}\n\n${commandHelp(command)}`);
      return 2;
    }
    // Errors of spdk-node (SpdkLoadError, SpdkError...) carry their own advice; show them whole.
    io.err(`spdk-node ${command.name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
