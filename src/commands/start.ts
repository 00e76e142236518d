import type { Command } from 'commander';
import { appOperation } from '../cli/app-operation.js';

export function register(program: Command): void {
  appOperation(program, {
    name: 'start',
    description: 'start a stopped app: commit replicas 1 to its folder in the GitOps repo',
    examples: `  $ aerogrid start ordersapp
  $ aerogrid start sales/ordersapp --json`,
    run: async (repo, app, tenant) => (await import('../gitops/ops.js')).setReplicas(repo, app, tenant, 1),
  });
}
