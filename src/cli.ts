import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { CliError, ExitCode } from './errors.js';
import { colors } from './output.js';
import { packageRoot } from './paths.js';
import { commands } from './commands/index.js';

const { version } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };

const program = new Command('aerogrid')
  .description('Live Kafka data in Excel through tiny Python apps.\n\nWrite a connector (app.py), run it with `aerogrid dev`, see its grids at the printed URL.')
  .version(version, '-V, --version', 'print the aerogrid version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .addHelpText('after', `
Examples:
  $ aerogrid kafka up                 start the local Kafka broker (127.0.0.1:19092)
  $ aerogrid dev ./ordersapp          run a connector folder against it, live-reloading app.py
  $ aerogrid demo                     the seed app with a stream of random orders

Exit codes: 0 ok, 1 failure, 2 usage error, 3 invalid input, 4 not found, 5 missing tool or environment problem, 130 interrupted.`);

for (const register of commands) register(program);

function fail(error: unknown): never {
  const c = colors();
  if (error instanceof CommanderError) {
    // commander already printed its message; map its exits onto ours.
    process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
  }
  if (error instanceof CliError) {
    process.stderr.write(`${c.red('error:')} ${error.message}\n`);
    if (error.hint) process.stderr.write(`${c.dim('fix:')} ${error.hint}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`${c.red('error:')} ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(ExitCode.failure);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  fail(error);
}
