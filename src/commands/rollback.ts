import type { Command } from 'commander';
import { appOperation } from '../cli/app-operation.js';

export function register(program: Command): void {
  appOperation(program, {
    name: 'rollback',
    extraArgument: ['[revision]', 'the GitOps commit to revert (default: the app\'s latest change)'],
    description: 'roll an app back: commit a git revert of one of its changes (default: the latest)',
    examples: `  $ aerogrid rollback ordersapp                  undo the app's latest deploy, stop, start or delete
  $ aerogrid status ordersapp --history          its changes, newest first
  $ aerogrid rollback sales/ordersapp 3f2a9c1    revert that change`,
    run: async (repo, app, tenant, revision) => (await import('../gitops/ops.js')).rollbackApp(repo, app, tenant, revision),
  });
}
