// The connector's spec as deploying and the local runner use it: the spec's own reader
// (src/app-spec/load.ts: YAML, schema, name rules, defaults) plus the rules only the platform has: an
// app name that also fits a Service name, a tenant not reserved for the platform, an entrypoint
// at the top of the folder (the code ConfigMap holds the top-level .py files).
import { join } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { checkSpecText, invalidSpecError } from '../app-spec/load.js';
import { SPEC_FILE, type AppSpec } from '../app-spec/types.js';
import { checkApp, checkTenant, checkTopic } from '../repo-layout/names.js';

export { SPEC_FILE, type AppSpec };

const TOP_LEVEL_PY = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\.py$/;

/** The platform's rules on a valid spec; throws a CliError (exit 3) naming the first one broken. */
export function checkDeployable(spec: AppSpec, dir: string): AppSpec {
  checkApp(spec.name);
  checkTenant(spec.tenant);
  if (!TOP_LEVEL_PY.test(spec.entrypoint)) {
    throw new CliError(`${join(dir, SPEC_FILE)}: spec.entrypoint '${spec.entrypoint}' must be a .py file at the top of the connector folder`, {
      exitCode: ExitCode.invalid,
      hint: 'Move the app\'s Python file to the top of the folder and set `entrypoint:` to its name (e.g. app.py).',
    });
  }
  return spec;
}

/**
 * Parses aerogrid.yaml text (a deployed app's, or a connector's) into its AppSpec, checking every
 * name that becomes a path or object before anything else.
 */
export async function parseAppSpec(text: string, dir: string): Promise<AppSpec> {
  const file = join(dir, SPEC_FILE);
  const checked = await checkSpecText(text, file);
  // Names first, with the platform's messages: nothing is built from a name that fails them.
  const value = checked.value as { metadata?: { name?: unknown; tenant?: unknown }; spec?: { topics?: unknown } } | undefined;
  if (typeof value?.metadata?.name === 'string') checkApp(value.metadata.name);
  if (typeof value?.metadata?.tenant === 'string') checkTenant(value.metadata.tenant);
  if (Array.isArray(value?.spec?.topics)) for (const t of value.spec.topics) if (typeof t === 'string') checkTopic(t);
  if (!checked.spec) throw invalidSpecError(file, checked.problems, dir);
  return checkDeployable(checked.spec, dir);
}

/** A connector folder as deploying takes it: its spec (with defaults) and the aerogrid.yaml it came from. */
export interface DeployableConnector {
  dir: string;
  spec: AppSpec;
  /** The aerogrid.yaml text the spec was read from, committed as it is. */
  specText: string;
}

/**
 * The connector as `aerogrid validate` checks it (aerogrid.yaml against its schema, app.py
 * compiled and agreeing with it), plus the platform's rules. Any error stops the deploy.
 * aerogrid.yaml is read and checked once, here; the caller passes the result on.
 */
export async function readDeployableConnector(dir: string): Promise<DeployableConnector> {
  const { readConnector, DYNAMIC_TOPIC, OVER_LIMIT } = await import('./validate.js');
  const { result, specText } = await readConnector(dir);
  // A topic named at run time may be any topic: deploy cannot prove the tenant may read it. The
  // resource limits are the GitOps repo's to say (deploy checks its LimitRange), not this CLI's default.
  const errors = result.problems.filter((p) => (p.severity === 'error' && p.code !== OVER_LIMIT) || p.code === DYNAMIC_TOPIC);
  if (errors.some((p) => p.code === 'missing-spec')) {
    throw new CliError(`No ${SPEC_FILE} in ${dir}.`, { exitCode: ExitCode.notFound, hint: 'Run the command in a connector folder, or create one with `aerogrid init`.' });
  }
  if (errors.length > 0 || !result.spec || specText === undefined) {
    throw new CliError(`The connector in ${dir} is not valid; nothing was deployed:\n${errors.map((p) => `  ${p.file}${p.line ? `:${p.line}:${p.column}` : ''}: ${p.message}${p.hint ? `\n      fix: ${p.hint}` : ''}`).join('\n')}`, {
      exitCode: ExitCode.invalid,
      hint: `Fix the problems above (\`aerogrid validate ${dir}\` shows them too), then deploy again.`,
    });
  }
  return { dir, spec: checkDeployable(result.spec, dir), specText };
}
