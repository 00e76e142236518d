import type { Command } from 'commander';
import { appOperation } from '../cli/app-operation.js';

export function register(program: Command): void {
  appOperation(program, {
    name: 'stop',
    description: 'stop an app: commit replicas 0 to its folder in the GitOps repo (its code and grids stay)',
    examples: `  $ aerogrid stop ordersapp
  $ aerogrid stop sales/ordersapp --gitops git@github.com:acme/gitops.git --json`,
    run: async (repo, app, tenant) => (await import('../gitops/ops.js')).setReplicas(repo, app, tenant, 0),
  });
}
