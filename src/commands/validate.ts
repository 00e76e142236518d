import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { flags } from '../cli/flags.js';

export function register(program: Command): void {
  program
    .command('validate')
    .argument('[dir]', 'the connector folder (holding aerogrid.yaml and app.py)', '.')
    .description('check a connector: aerogrid.yaml against its schema, app.py compiled, and the two agreeing')
    .addOption(flags.json())
    .addHelpText('after', `
Checks, without running anything and without writing anything:
  - aerogrid.yaml against its JSON Schema (schemas/aerogrid-app.v1.schema.json): keys, types, values;
  - names that become Kubernetes names (app, tenant) are DNS-1123 labels; topic and grid names are legal;
  - the entrypoint is a .py file inside the folder (no '..', no absolute path);
  - app.py compiles, and the topics and grids it declares (read from its syntax tree) match aerogrid.yaml.
Every problem is reported at once, as file:line:column, with what is wrong and how to fix it.

Exit codes: 0 valid (warnings allowed), 3 invalid, 4 no such folder, 5 python3 not found.

Examples:
  $ aerogrid validate                      the connector in this folder
  $ aerogrid validate ./ordersapp
  $ aerogrid validate --json | jq '.problems[] | .message'`)
    .action(async (dir: string, opts: { json?: boolean }) => {
      const { validateConnector } = await import('../connector/validate.js');
      const result = await validateConnector(dir);
      if (opts.json) {
        const { printJson } = await import('../output.js');
        printJson({
          valid: result.valid,
          dir: result.dir,
          app: result.spec?.name ?? null,
          tenant: result.spec?.tenant ?? null,
          errors: result.errors,
          warnings: result.warnings,
          problems: result.problems,
        });
      } else {
        const { printProblems } = await import('../connector/report.js');
        await printProblems(result);
      }
      if (!result.valid) process.exitCode = result.pythonMissing ? ExitCode.environment : ExitCode.invalid;
    });
}
