import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { CliError, ExitCode, type ExitCodeValue } from './errors.js';
import { packageRoot } from './paths.js';
import { commands } from './commands/index.js';

const { version } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };

const program = new Command('aerogrid')
  .description('Live Kafka data in Excel through tiny Python apps.\n\nWrite a connector (app.py), run it with `aerogrid dev`, see its grids at the printed URL.')
  .version(version, '-V, --version', 'print the aerogrid version')
  // Usage errors are printed by fail() below, with a fix line, like every other error.
  .configureOutput({ outputError: () => {} })
  .exitOverride()
  .addHelpText('after', `
Examples:
  $ aerogrid kafka up                 start the local Kafka broker (127.0.0.1:19092)
  $ aerogrid topic create orders      make the topic an app reads (the broker never does)
  $ aerogrid produce orders o.jsonl   send it JSON lines, one record each
  $ aerogrid dev ./ordersapp          run a connector folder against it, live-reloading app.py
  $ aerogrid demo                     the seed app with a stream of random orders

Exit codes: 0 ok, 1 failure, 2 usage error, 3 invalid input, 4 not found, 5 missing tool or environment problem, 130 interrupted.`);

for (const register of commands) register(program);

/**
 * Every error the same way: `error: <what>` and `fix: <how>` on stderr; under --json also
 * {"error": {message, fix, exitCode}} on stdout, so a script reading stdout sees why.
 */
async function fail(error: unknown): Promise<never> {
  const argv = process.argv.slice(2);
  let message: string;
  let hint: string | undefined;
  let exitCode: ExitCodeValue;
  let detail: string | undefined;
  if (error instanceof CommanderError) {
    // --help and --version end through here too (exit 0), as does a bare `aerogrid` (its help).
    if (error.exitCode === 0 || error.code === 'commander.help' || error.code === 'commander.helpDisplayed') {
      process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
    }
    const { usageError } = await import('./cli/usage-errors.js');
    ({ message, hint } = usageError(error, program, argv));
    exitCode = ExitCode.usage;
  } else if (error instanceof CliError) {
    ({ message, hint, exitCode } = error);
  } else {
    message = error instanceof Error ? error.message : String(error);
    detail = error instanceof Error ? error.stack : undefined;
    hint = 'this error is not one aerogrid explains yet: the trace above says where it happened; please report it with the command you ran';
    exitCode = ExitCode.failure;
  }
  const { colors, printJson, wantsJson } = await import('./output.js');
  const c = colors();
  process.stderr.write(`${c.red('error:')} ${detail ?? message}\n`);
  if (hint) process.stderr.write(`${c.dim('fix:')} ${hint}\n`);
  if (wantsJson(argv)) printJson({ error: { message, ...(hint ? { fix: hint } : {}), exitCode } });
  process.exit(exitCode);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  await fail(error);
}
