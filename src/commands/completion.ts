import { Argument, type Command } from 'commander';

export function register(program: Command): void {
  program
    .command('completion')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .description('print a shell completion script (bash, zsh or fish)')
    .addHelpText('after', `
Completes commands, options, option values (--template, --dead-letter, --container, --run),
folders, and the apps and tenants of the GitOps repo (asked of aerogrid when you press Tab).

Examples:
  $ source <(aerogrid completion bash)                                  in ~/.bashrc
  $ source <(aerogrid completion zsh)                                   in ~/.zshrc, after compinit
  $ aerogrid completion fish > ~/.config/fish/completions/aerogrid.fish`)
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const scripts = await import('../completion/scripts.js');
      const { templateNames } = await import('../connector/templates.js');
      const ctx = {
        // Known now: what the options accept. Known only at completion time: the repo's apps and tenants.
        optionWords: { '--template': templateNames(), '--run': ['local'] },
        optionSources: { '--tenant': 'tenants' as const },
        argumentSources: { app: 'apps' as const },
      };
      const script = shell === 'bash' ? scripts.bashScript(program, ctx) : shell === 'zsh' ? scripts.zshScript(program, ctx) : scripts.fishScript(program, ctx);
      process.stdout.write(script);
    });
}
