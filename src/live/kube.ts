// A small client of the Kubernetes API for what AeroGrid reads (Argo CD Applications,
// Deployments): the cluster from the kubeconfig ($KUBECONFIG, else ~/.kube/config; its current
// context), or from the pod's service account when running in the cluster. Client certificates
// and bearer tokens are supported; exec plugins are not (kubectl's own logins: use a token).
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { CliError, ExitCode } from '../errors.js';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeTarget {
  server: string;
  /** Where it came from, for messages. */
  source: string;
  agent: https.Agent;
  token?: () => string;
}

/** The kubeconfig file in use, if any. */
export function kubeconfigPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  // $KUBECONFIG wins when set; a file it names that is not there is no kubeconfig, as for kubectl.
  if (env.KUBECONFIG) return env.KUBECONFIG.split(':').find((f) => f && existsSync(f));
  const home = join(homedir(), '.kube', 'config');
  return existsSync(home) ? home : undefined;
}

/** The cluster to talk to, or undefined when there is neither a kubeconfig nor a service account. */
export function kubeTarget(env: NodeJS.ProcessEnv = process.env): KubeTarget | undefined {
  const file = kubeconfigPath(env);
  if (file) return fromKubeconfig(file);
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT, 'token'))) {
    const host = env.KUBERNETES_SERVICE_HOST.includes(':') ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST;
    return {
      server: `https://${host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`,
      source: 'the pod\'s service account',
      agent: new https.Agent({ ca: readFileSync(join(SERVICE_ACCOUNT, 'ca.crt')), keepAlive: true }),
      // Re-read on every request: the kubelet rotates it.
      token: () => readFileSync(join(SERVICE_ACCOUNT, 'token'), 'utf8').trim(),
    };
  }
  return undefined;
}

function fromKubeconfig(file: string): KubeTarget {
  const bad = (why: string) => new CliError(`The kubeconfig ${file} cannot be used: ${why}.`, { exitCode: ExitCode.environment, hint: 'Point KUBECONFIG at a kubeconfig whose current context names a cluster and a user with a token or a client certificate.' });
  let config: any;
  try {
    config = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw bad(`it does not parse (${(error as Error).message})`);
  }
  const context = config?.contexts?.find((c: any) => c.name === config['current-context'])?.context;
  if (!context) throw bad(`its current context '${config?.['current-context'] ?? ''}' is not defined`);
  const cluster = config.clusters?.find((c: any) => c.name === context.cluster)?.cluster;
  const user = config.users?.find((u: any) => u.name === context.user)?.user ?? {};
  if (!cluster?.server) throw bad(`cluster '${context.cluster}' has no server`);
  const at = (path: string) => readFileSync(isAbsolute(path) ? path : join(dirname(file), path));
  const data = (inline: string | undefined, path: string | undefined) => (inline ? Buffer.from(inline, 'base64') : path ? at(path) : undefined);
  if (user.exec || user['auth-provider']) throw bad(`user '${context.user}' logs in through an exec plugin, which AeroGrid does not run`);
  const ca = data(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = data(user['client-certificate-data'], user['client-certificate']);
  const key = data(user['client-key-data'], user['client-key']);
  const token = user.token ? () => user.token as string : user.tokenFile ? () => at(user.tokenFile).toString('utf8').trim() : undefined;
  return {
    server: String(cluster.server).replace(/\/+$/, ''),
    source: file,
    agent: new https.Agent({ ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), rejectUnauthorized: !cluster['insecure-skip-tls-verify'], keepAlive: true }),
    ...(token ? { token } : {}),
  };
}

/** GET a path of the API as JSON; undefined on 404. */
export function kubeGet<T>(target: KubeTarget, path: string, timeoutMs = 5000): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, `${target.server}/`);
    const req = https.request(url, {
      agent: target.agent,
      headers: { accept: 'application/json', ...(target.token ? { authorization: `Bearer ${target.token()}` } : {}) },
      timeout: timeoutMs,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        if (res.statusCode === 404) return resolve(undefined);
        if (res.statusCode !== 200) {
          const message = (() => { try { return JSON.parse(body).message as string; } catch { return body.slice(0, 200); } })();
          return reject(new CliError(`The Kubernetes API at ${target.server} answered HTTP ${res.statusCode} for ${url.pathname}: ${message}`, {
            exitCode: ExitCode.environment,
            hint: res.statusCode === 401 || res.statusCode === 403 ? `The credentials of ${target.source} may not read this; they need get/list on Argo CD Applications and Deployments.` : 'Check the cluster\'s health.',
          }));
        }
        try { resolve(JSON.parse(body) as T); } catch (error) { reject(error); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => reject(error instanceof CliError ? error : new CliError(`The Kubernetes API at ${target.server} (from ${target.source}) is not reachable: ${error.message}`, {
      exitCode: ExitCode.environment,
      hint: 'Check KUBECONFIG (or kubectl config use-context), or set AEROGRID_ARGOCD_URL to use Argo CD\'s API.',
    })));
    req.end();
  });
}
