// The directory as `aerogrid serve` runs it: the apps of the local runner, their sidecars probed,
// and stop/start/delete committed to the GitOps repo exactly as the CLI commands do.
import type { AuthOptions } from '@aerogrid/sidecar/auth';
import { createAccess, type Principal } from './access.js';
import { startDirectoryServer, type AppAction } from './server.js';
import { startDirectory, type AppSource } from './state.js';

export interface ServeDirectoryOptions {
  runner: AppSource;
  /** The GitOps repo the actions commit to. */
  repo: string;
  host: string;
  port: number;
  auth?: AuthOptions;
  log?: (line: string) => void;
}

export async function serveDirectory(options: ServeDirectoryOptions): Promise<{ url: string; close(): Promise<void> }> {
  const directory = startDirectory(options.runner, { log: options.log });
  const access = createAccess(options.auth);
  const act = async (action: AppAction, tenant: string, name: string, principal: Principal | null) => {
    const ops = await import('../gitops/ops.js');
    const ref = `${tenant}/${name}`;
    // The audit trail: who asked, as the token says (one line, whatever the claim held).
    const by: Record<string, string> = principal ? { 'AeroGrid-Requested-By': `${principal.subject.replace(/[\r\n]+/g, ' ').slice(0, 200)} (tenant ${principal.tenant}, via the directory)` } : {};
    return action === 'delete' ? ops.deleteApp(options.repo, ref, undefined, by) : ops.setReplicas(options.repo, ref, undefined, action === 'stop' ? 0 : 1, by);
  };
  try {
    const server = await startDirectoryServer({ host: options.host, port: options.port, directory, access, act, log: options.log });
    return {
      url: server.url,
      close: async () => {
        await server.close();
        directory.close();
        access.close();
      },
    };
  } catch (error) {
    directory.close();
    access.close();
    throw error;
  }
}
