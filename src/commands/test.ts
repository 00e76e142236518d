import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { flags } from '../cli/flags.js';

export function register(program: Command): void {
  program
    .command('test')
    .argument('[dir]', 'the connector folder', '.')
    .argument('[pytest-args...]', 'more arguments for pytest (after --, or any option aerogrid test does not know)')
    .description('run a connector\'s own tests offline (pytest, with the aerogrid testing harness; no Kafka)')
    .addOption(flags.json('a summary', 'pytest\'s report goes to stderr'))
    // `aerogrid test -q`: an option aerogrid does not know is pytest's (as after --).
    .allowUnknownOption()
    .addHelpText('after', `
Runs \`python3 -m pytest\` in the folder with the aerogrid SDK on PYTHONPATH. Tests use the
harness in aerogrid.testing: load_app('app.py'), send records, run(), assert on the grids.
Needs pytest (\`pip install pytest\`, or \`apt-get install python3-pytest\`). Writes nothing to
the folder (no __pycache__, no .pytest_cache).

Exit codes: 0 all passed, 1 a test failed, 4 no tests found, 5 python3 or pytest missing.

Examples:
  $ aerogrid test                          the connector in this folder
  $ aerogrid test ./ordersapp
  $ aerogrid test -- -k dead_letters -x    only matching tests, stop at the first failure
  $ aerogrid test -q                       an option aerogrid does not know goes to pytest
  $ aerogrid test --json`)
    .action(async (dirArg: string, pytestArgs: string[], opts: { json?: boolean }) => {
      // `aerogrid test -- -k x` or `aerogrid test -q`: options are pytest's, the folder is this one.
      const all = [dirArg, ...pytestArgs].filter((a, i) => !(a === '--' && i === [dirArg, ...pytestArgs].indexOf('--')));
      const [dir, args] = dirArg.startsWith('-') ? ['.', all] : [dirArg, all.slice(1)];
      const { runConnectorTests } = await import('../connector/run-tests.js');
      const summary = await runConnectorTests(dir, { json: opts.json, pytestArgs: args });
      if (opts.json) {
        const { printJson } = await import('../output.js');
        printJson(summary);
      }
      if (!summary.ok) process.exitCode = ExitCode.failure;
    });
}
