// kubectl against the suite's control plane, and the waits the cluster tests share.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);

export function kubeconfig(): string {
  return inject('kubeconfig');
}

/** `kubectl <args>` (stdout); rejects with stderr. */
export async function kubectl(args: string[], input?: string): Promise<string> {
  const child = run('kubectl', ['--kubeconfig', kubeconfig(), ...args], { maxBuffer: 32 * 1024 * 1024, env: { ...process.env, KUBECONFIG: kubeconfig() } });
  if (input !== undefined) { child.child.stdin!.end(input); }
  try {
    return (await child).stdout;
  } catch (error: any) {
    throw new Error(`kubectl ${args.join(' ')} failed: ${error.stderr ?? error.message}`);
  }
}

/**
 * Opens a streaming watch list on `path` (sendInitialEvents, as client-go's informers do) and
 * resolves with the BOOKMARK that ends the initial events; rejects with the server's answer when
 * the stream errors or ends first, or after 20 s.
 */
export function watchListBookmark(path: string): Promise<any> {
  const url = `${path}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`;
  const child = spawn('kubectl', ['--kubeconfig', kubeconfig(), 'get', '--raw', url, '--request-timeout', '25s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  return new Promise<any>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no end of the initial events in 20 s; the stream said: ${out.slice(-500)} ${err}`)), 20_000);
    const finish = (result: Error | object) => {
      clearTimeout(timer);
      child.kill();
      if (result instanceof Error) reject(result); else resolve(result);
    };
    child.stderr.on('data', (chunk) => { err += chunk; });
    child.stdout.on('data', (chunk) => {
      out += chunk;
      for (const line of out.split('\n').slice(0, -1)) {
        const event = JSON.parse(line);
        if (event.type === 'ERROR') return finish(new Error(`the watch failed: ${JSON.stringify(event.object)}`));
        if (event.type === 'BOOKMARK') return finish(event.object);
      }
    });
    child.on('close', (code) => finish(new Error(`the watch ended (kubectl exit ${code}) before its initial events did: ${out.slice(-500)} ${err}`)));
  });
}

export async function getJson(args: string[]): Promise<any | undefined> {
  try {
    return JSON.parse(await kubectl([...args, '-o', 'json']));
  } catch (error) {
    if (/NotFound|not found/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/**
 * Tells Argo CD the repo changed: what the git webhook does in a real installation (Argo CD
 * otherwise looks every few minutes). ApplicationSets regenerate, Applications refresh.
 */
export async function webhookStandIn(): Promise<void> {
  const sets = await getJson(['get', 'applicationsets', '-n', 'argocd']);
  for (const s of sets?.items ?? []) await kubectl(['annotate', '--overwrite', '-n', 'argocd', 'applicationset', s.metadata.name, 'argocd.argoproj.io/application-set-refresh=true']);
  const apps = await getJson(['get', 'applications', '-n', 'argocd']);
  for (const a of apps?.items ?? []) await kubectl(['annotate', '--overwrite', '-n', 'argocd', 'application', a.metadata.name, 'argocd.argoproj.io/refresh=normal']);
}

/** The Application's sync and health, as `status` reads them. */
export async function application(name: string): Promise<any | undefined> {
  return getJson(['get', 'application', '-n', 'argocd', name]);
}

/** Waits until `check` holds for the Application, nudging Argo CD as the webhook would. */
export async function untilApplication(name: string, what: string, check: (app: any) => boolean, timeoutMs = 120_000): Promise<any> {
  let last: any;
  let tries = 0;
  try {
    return await waitFor(`${name}: ${what}`, async () => {
      if (tries++ % 10 === 0) await webhookStandIn();
      last = await application(name);
      return last && check(last) ? last : undefined;
    }, timeoutMs, 500);
  } catch (error) {
    throw new Error(`${(error as Error).message}\nlast status of ${name}: ${JSON.stringify(last?.status ?? null).slice(0, 2000)}`);
  }
}

export const syncedHealthy = (app: any) => app.status?.sync?.status === 'Synced' && app.status?.health?.status === 'Healthy';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    k8sState: string;
  }
}
