import { Argument, type Command } from 'commander';
import { flags } from '../cli/flags.js';

/** Hidden: what the completion scripts call for words only the GitOps repo knows. */
export function register(program: Command): void {
  program
    .command('__complete', { hidden: true })
    .addArgument(new Argument('<source>', 'what to list').choices(['apps', 'tenants', 'templates']))
    .addOption(flags.gitops({ spec: true }))
    .action(async (source: 'apps' | 'tenants' | 'templates', opts: { gitops?: string }) => {
      const { completionValues } = await import('../completion/values.js');
      const words = await completionValues(source, { cwd: process.cwd(), ...(opts.gitops ? { gitops: opts.gitops } : {}) }).catch(() => []);
      if (words.length) process.stdout.write(`${words.join('\n')}\n`);
    });
}
