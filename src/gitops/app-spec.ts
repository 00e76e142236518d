// The parts of a connector's aerogrid.yaml that deploying needs. `aerogrid validate`'s checks run
// first (problems with file:line:column); this maps the spec to what rendering uses and adds the
// deploy-only rules (an app name that also fits a Service name, a top-level entrypoint).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, ExitCode } from '../cli/errors.js';
import { deadLetterTopic } from '../spec/types.js';
import { checkApp, checkTenant, checkTopic } from './names.js';

export interface AppSpec {
  name: string;
  tenant: string;
  entrypoint: string;
  topics: string[];
  grids: Array<{ name: string; columns?: string[] }>;
  replicas: number;
  resources: { cpu: string; memory: string };
  /** Groups whose members may view the grids; empty: every user of the tenant. */
  groups: string[];
  deadLetter: { topic: string; policy: 'dlq' | 'stop'; retention: string };
}

export const SPEC_FILE = 'aerogrid.yaml';

function invalid(dir: string, message: string): CliError {
  return new CliError(`${join(dir, SPEC_FILE)}: ${message}`, { exitCode: ExitCode.invalid, hint: 'Fix aerogrid.yaml (`aerogrid validate` explains every field).' });
}

/** Parses aerogrid.yaml text into an AppSpec, checking every name that becomes a path or object. */
export async function parseAppSpec(text: string, dir: string): Promise<AppSpec> {
  const { parse } = await import('yaml');
  let doc: any;
  try {
    doc = parse(text);
  } catch (error) {
    throw invalid(dir, `is not valid YAML: ${(error as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw invalid(dir, 'is empty');
  if (doc.apiVersion !== 'aerogrid.dev/v1' || doc.kind !== 'App') throw invalid(dir, 'must start with apiVersion: aerogrid.dev/v1 and kind: App');
  const meta = doc.metadata ?? {};
  const spec = doc.spec ?? {};
  if (typeof meta.name !== 'string') throw invalid(dir, 'metadata.name is missing');
  if (typeof meta.tenant !== 'string') throw invalid(dir, 'metadata.tenant is missing');
  const name = checkApp(meta.name);
  const tenant = checkTenant(meta.tenant);
  const entrypoint = spec.entrypoint ?? 'app.py';
  if (typeof entrypoint !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*\.py$/.test(entrypoint)) {
    throw invalid(dir, `spec.entrypoint '${entrypoint}' must be a .py file at the top of the connector folder`);
  }
  if (!Array.isArray(spec.topics) || spec.topics.length === 0) throw invalid(dir, 'spec.topics must list the topics the app reads');
  const topics = spec.topics.map((t: unknown) => checkTopic(String(t)));
  if (!Array.isArray(spec.grids) || spec.grids.length === 0) throw invalid(dir, 'spec.grids must list the grids the app serves');
  const grids = spec.grids.map((g: any) => ({ name: String(g?.name), ...(Array.isArray(g?.columns) ? { columns: g.columns.map(String) } : {}) }));
  const replicas = spec.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 10) throw invalid(dir, 'spec.replicas must be 0 (stopped) or 1');
  const cpu = String(spec.resources?.cpu ?? '250m');
  const memory = String(spec.resources?.memory ?? '256Mi');
  if (!/^([1-9][0-9]*m|[0-9]+(\.[0-9]{1,3})?)$/.test(cpu)) throw invalid(dir, `spec.resources.cpu '${cpu}' is not a CPU quantity (e.g. 250m)`);
  if (!/^[1-9][0-9]*(Ki|Mi|Gi|Ti|k|M|G|T)?$/.test(memory)) throw invalid(dir, `spec.resources.memory '${memory}' is not a memory quantity (e.g. 256Mi)`);
  const groups = (spec.access?.groups ?? []).map(String);
  const deadLetter = {
    topic: checkTopic(String(spec.deadLetter?.topic ?? deadLetterTopic(tenant, name))),
    policy: spec.deadLetter?.policy === 'stop' ? 'stop' as const : 'dlq' as const,
    retention: String(spec.deadLetter?.retention ?? '7d'),
  };
  return { name, tenant, entrypoint, topics, grids, replicas, resources: { cpu, memory }, groups, deadLetter };
}

/**
 * The connector as `aerogrid validate` checks it (aerogrid.yaml against its schema, app.py
 * compiled and agreeing with it), mapped to what deploying needs. Any error stops the deploy.
 */
export async function readAppSpec(dir: string): Promise<AppSpec> {
  const { validateConnector } = await import('../connector/validate.js');
  const result = await validateConnector(dir);
  const errors = result.problems.filter((p) => p.severity === 'error');
  if (errors.some((p) => p.code === 'missing-spec')) {
    throw new CliError(`No ${SPEC_FILE} in ${dir}.`, { exitCode: ExitCode.notFound, hint: 'Run the command in a connector folder, or create one with `aerogrid init`.' });
  }
  if (!result.valid || errors.length > 0) {
    throw new CliError(`The connector in ${dir} is not valid; nothing was deployed:\n${errors.map((p) => `  ${p.file}${p.line ? `:${p.line}:${p.column}` : ''}: ${p.message}${p.hint ? `\n      fix: ${p.hint}` : ''}`).join('\n')}`, {
      exitCode: ExitCode.invalid,
      hint: `Fix the problems above (\`aerogrid validate ${dir}\` shows them too), then deploy again.`,
    });
  }
  return parseAppSpec(await readFile(join(dir, SPEC_FILE), 'utf8'), dir);
}
