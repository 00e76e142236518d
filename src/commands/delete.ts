import type { Command } from 'commander';
import { appOperation } from '../cli/app-operation.js';

export function register(program: Command): void {
  appOperation(program, {
    name: 'delete',
    description: 'delete an app: commit the removal of its folder (Argo CD or the local runner then removes it); asks for its name first',
    confirm: true,
    examples: `  $ aerogrid delete ordersapp                     asks you to type ordersapp
  $ aerogrid delete sales/ordersapp --confirm ordersapp   in a script or CI: no question
  $ aerogrid rollback sales/ordersapp     brings it back (its latest release)`,
    run: async (repo, app, tenant) => (await import('../gitops/ops.js')).deleteApp(repo, app, tenant),
  });
}
