// The shared shape of stop, start, delete and rollback: APP or TENANT/APP in, one commit out.
import { Option, type Command } from 'commander';
import { CliError, ExitCode } from '../errors.js';
import { info, interactive, printJson } from '../output.js';
import type { OpResult } from '../gitops/ops.js';
import { flags } from './flags.js';

interface Operation {
  name: string;
  description: string;
  examples: string;
  extraArgument?: [string, string];
  /** Destructive: the user types the app's name at a terminal, or passes --confirm <app> (as Heroku does). */
  confirm?: boolean;
  run: (repo: string, app: string, tenant: string | undefined, extra?: string) => Promise<OpResult>;
}

const past: Record<OpResult['action'], string> = { stop: 'Stopped', start: 'Started', delete: 'Deleted', rollback: 'Rolled back' };

export function appOperation(program: Command, op: Operation): void {
  const command = program
    .command(op.name)
    .argument('<app>', 'the app: APP, or TENANT/APP when several tenants have one by that name');
  if (op.extraArgument) command.argument(op.extraArgument[0], op.extraArgument[1]);
  command
    .description(op.description)
    .addOption(flags.tenant())
    .addOption(flags.gitops({ spec: true }))
    .addOption(flags.json());
  if (op.confirm) command.addOption(new Option('--confirm <app>', `the app's name again: ${op.name} without asking (needed without a terminal, and under CI)`));
  command
    .addHelpText('after', `
The GitOps repo is --gitops, else spec.gitops of the aerogrid.yaml in the current folder, else
$AEROGRID_GITOPS, else the local repo. Every change is a commit to the GitOps repo, pushed to main (rebased and retried when main moved);
Argo CD, or \`aerogrid serve --run local\` on one machine, applies it.

Examples:
${op.examples}

Exit codes: 0 done (or nothing to change), 1 push failed or conflicted, 2 usage, 4 app not found,
5 the GitOps repo not reachable.`)
    .action(async (app: string, ...rest: unknown[]) => {
      const extra = op.extraArgument ? (rest[0] as string | undefined) : undefined;
      const opts = (op.extraArgument ? rest[1] : rest[0]) as { tenant?: string; gitops?: string; json?: boolean; confirm?: string };
      if (op.confirm) await confirmApp(op.name, app, opts.confirm);
      const { gitopsRepoFor } = await import('../gitops/repo.js');
      const repo = await gitopsRepoFor(opts.gitops, process.cwd());
      const result = await op.run(repo, app, opts.tenant, extra);
      if (opts.json) printJson({ ...result, repo });
      else if (!result.changed) info(`${result.tenant}/${result.app}: nothing to change (already ${result.action === 'stop' ? 'stopped' : 'running'}).`);
      else info(`${past[result.action]} ${result.tenant}/${result.app}: commit ${result.commit.slice(0, 12)} pushed to ${repo}.`);
    });
}

/**
 * The app's name typed back before a destructive operation: at a terminal it is asked for; without
 * one (a script, CI) --confirm must give it, and nothing is ever asked. APP or TENANT/APP both count.
 */
async function confirmApp(action: string, ref: string, given: string | undefined): Promise<void> {
  const name = ref.split('/').at(-1)!;
  const matches = (typed: string) => typed.trim() === name || typed.trim() === ref;
  const again = `aerogrid ${action} ${ref} --confirm ${name}`;
  if (given !== undefined) {
    if (matches(given)) return;
    throw new CliError(`--confirm ${given} does not name the app to ${action} ('${name}'); nothing was changed.`, { exitCode: ExitCode.usage, hint: again });
  }
  if (!interactive() || !process.stdin.isTTY) {
    const why = process.env.CI ? 'CI is set' : 'there is no terminal to ask on';
    throw new CliError(`${action} needs the app's name again, and ${why}; nothing was changed.`, { exitCode: ExitCode.usage, hint: again });
  }
  const { input } = await import('@inquirer/prompts');
  let typed: string;
  try {
    typed = await input({ message: `This will ${action} ${ref}. Type its name (${name}) to go on:` }, { output: process.stderr, clearPromptOnDone: false });
  } catch (error) {
    if ((error as Error).name === 'ExitPromptError' || (error as Error).name === 'AbortPromptError') throw new CliError('Cancelled; nothing was changed.', { exitCode: ExitCode.interrupted });
    throw error;
  }
  if (!matches(typed)) throw new CliError(`'${typed.trim()}' is not '${name}'; nothing was changed.`, { exitCode: ExitCode.usage, hint: `type ${name} at the prompt, or run ${again}` });
}
