// The shared shape of stop, start, delete and rollback: APP or TENANT/APP in, one commit out.
import type { Command } from 'commander';
import { info, printJson } from '../output.js';
import type { OpResult } from '../gitops/ops.js';
import { flags } from './flags.js';

interface Operation {
  name: string;
  description: string;
  examples: string;
  extraArgument?: [string, string];
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
    .addOption(flags.json())
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
      const opts = (op.extraArgument ? rest[1] : rest[0]) as { tenant?: string; gitops?: string; json?: boolean };
      const { gitopsRepoFor } = await import('../gitops/repo.js');
      const repo = await gitopsRepoFor(opts.gitops, process.cwd());
      const result = await op.run(repo, app, opts.tenant, extra);
      if (opts.json) printJson({ ...result, repo });
      else if (!result.changed) info(`${result.tenant}/${result.app}: nothing to change (already ${result.action === 'stop' ? 'stopped' : 'running'}).`);
      else info(`${past[result.action]} ${result.tenant}/${result.app}: commit ${result.commit.slice(0, 12)} pushed to ${repo}.`);
    });
}
