// The checks every render passes before anything is committed: the folder builds with
// `kubectl kustomize`, every resource validates against the Kubernetes, Argo CD and Istio schemas
// with unknown keys rejected, and every pod passes Pod Security "restricted".
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CliError, ExitCode } from '../errors.js';
import { podSecurityProblems } from './pod-security.js';
import { preloadSchemas, schemaProblems } from './schemas.js';

const run = promisify(execFile);

export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** `kubectl kustomize <dir>`, parsed. */
export async function kustomize(dir: string): Promise<Resource[]> {
  let stdout: string;
  try {
    ({ stdout } = await run(process.env.AEROGRID_KUBECTL ?? 'kubectl', ['kustomize', dir], { maxBuffer: 64 * 1024 * 1024 }));
  } catch (error: any) {
    if (error?.code === 'ENOENT') {
      throw new CliError('kubectl is not installed; it builds the manifests before they are committed.', { exitCode: ExitCode.environment, hint: 'Install kubectl 1.27 or later (it includes kustomize), or set AEROGRID_KUBECTL to its path.' });
    }
    throw new CliError(`The manifests in ${dir} do not build: ${String(error?.stderr ?? error?.message).trim()}`, { exitCode: ExitCode.invalid, hint: 'This is a bug in the rendered files or the base; nothing was committed.' });
  }
  const { parseAllDocuments } = await import('yaml');
  return parseAllDocuments(stdout).map((d) => d.toJS()).filter(Boolean) as Resource[];
}

/** Every problem of a built set of resources: schema, unknown keys, Pod Security, namespace. */
export async function resourceProblems(resources: Resource[], options: { namespace?: string } = {}): Promise<string[]> {
  const problems: string[] = [];
  for (const resource of resources) {
    const where = `${resource.kind}/${resource.metadata?.name}`;
    for (const p of await schemaProblems(resource)) problems.push(`${where}: ${p}`);
    const pod = podSpecOf(resource);
    if (pod) for (const p of podSecurityProblems(pod)) problems.push(`${where}: Pod Security "restricted": ${p}`);
    if (options.namespace && resource.metadata?.namespace !== options.namespace) {
      problems.push(`${where}: is in namespace '${resource.metadata?.namespace ?? '(none)'}', not '${options.namespace}'`);
    }
  }
  return problems;
}

function podSpecOf(resource: Resource): Record<string, any> | undefined {
  const spec = resource.spec as any;
  if (resource.kind === 'Pod') return spec;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(resource.kind)) return spec?.template?.spec;
  return undefined;
}

/** Builds a folder and fails with every problem found. */
export async function checkFolder(dir: string, options: { namespace?: string } = {}): Promise<Resource[]> {
  const [resources] = await Promise.all([kustomize(dir), preloadSchemas()]);
  const problems = await resourceProblems(resources, options);
  if (problems.length > 0) {
    throw new CliError(`The manifests in ${dir} fail their checks:\n  ${problems.join('\n  ')}`, { exitCode: ExitCode.invalid, hint: 'Nothing was committed. Fix aerogrid.yaml, or report the problem if it is in the base.' });
  }
  return resources;
}
