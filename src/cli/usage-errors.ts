// commander's usage errors (an unknown command or option, a missing argument) as the CLI's own:
// the message without commander's "error: " prefix, and a fix line that names the command to run.
import type { Command, CommanderError } from 'commander';

/** The subcommand the arguments name, as `aerogrid tenant add` (the program itself when none). */
export function commandPath(program: Command, argv: string[]): string {
  const names = [program.name()];
  let command = program;
  for (const arg of argv) {
    if (arg.startsWith('-')) break;
    const sub = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub) break;
    names.push(sub.name());
    command = sub;
  }
  return names.join(' ');
}

export function usageError(error: CommanderError, program: Command, argv: string[]): { message: string; hint: string } {
  const [first, ...rest] = error.message.replace(/^error: /, '').split('\n');
  const suggestion = /\(Did you mean (.+)\?\)/.exec(rest.join('\n'))?.[1];
  const path = commandPath(program, argv);
  const message = first!.replace(/\.$/, '') + '.';
  switch (error.code) {
    case 'commander.unknownCommand':
      return { message, hint: suggestion ? `did you mean \`${path} ${suggestion}\`? (\`${path} --help\` lists the commands)` : `\`${path} --help\` lists the commands` };
    case 'commander.unknownOption':
      return { message, hint: suggestion ? `did you mean ${suggestion}? (\`${path} --help\` lists its options)` : `\`${path} --help\` lists its options` };
    default:
      return { message, hint: `\`${path} --help\` shows how to call it, with examples` };
  }
}
