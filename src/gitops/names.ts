// Names that become folders, Kubernetes objects and Kafka names. Checked before anything is
// written so no input can escape its folder, namespace or topic prefix. The rules themselves are
// the spec's (src/spec/names.ts); this adds what only the platform needs: reserved tenants, app
// names that also fit a Service name, tenant topic allowances.
import { CliError, ExitCode } from '../cli/errors.js';
import { closest, dns1123Problem, DNS1123_MAX, topicProblem } from '../spec/names.js';

/** Services need DNS-1035 (a leading letter); '-connector' is appended to app names. */
const APP_MAX = DNS1123_MAX - '-connector'.length;
/** Tenants name namespaces; 'aerogrid-' and 'kube-' prefixes and Argo CD's own are reserved. */
const RESERVED_TENANTS = new Set(['default', 'argocd', 'istio-system', 'aerogrid-system']);

export function checkTenant(value: string): string {
  const problem = dns1123Problem(value);
  if (problem) {
    throw new CliError(`Tenant '${value}' is not a valid name: it becomes a Kubernetes namespace.`, {
      exitCode: ExitCode.invalid,
      hint: `It ${problem.reason}. Use at most ${DNS1123_MAX} lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. ${problem.suggestion ?? 'team-sales'}).`,
    });
  }
  if (RESERVED_TENANTS.has(value) || value.startsWith('kube-') || value.startsWith('aerogrid-')) {
    throw new CliError(`Tenant '${value}' is reserved for the platform.`, { exitCode: ExitCode.invalid, hint: 'Pick another tenant name (e.g. team-sales).' });
  }
  return value;
}

export function checkApp(value: string): string {
  if (dns1123Problem(value) || !/^[a-z]/.test(value) || value.length > APP_MAX) {
    throw new CliError(`App '${value}' is not a valid name: it becomes Kubernetes and Kafka names.`, {
      exitCode: ExitCode.invalid,
      hint: `Use at most ${APP_MAX} lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. ordersapp).`,
    });
  }
  return value;
}

/** A topic, or a prefix pattern ending in '*' (tenant allowances only). */
export function checkTopic(value: string, options: { pattern?: boolean } = {}): string {
  const name = options.pattern && value.endsWith('*') ? value.slice(0, -1) : value;
  if (topicProblem(name)) {
    throw new CliError(`Topic '${value}' is not a valid Kafka topic name.`, {
      exitCode: ExitCode.invalid,
      hint: `Use letters, digits, '.', '_' and '-'${options.pattern ? ', optionally ending in \'*\' for every topic with that prefix' : ''}.`,
    });
  }
  return value;
}

/** The sidecar applies the same rule when an app says which topics it streams. */
export { topicAllowed } from '@aerogrid/sidecar/names';

/** The candidate closest to `value` when it is likely a typo of it. */
export const closestName = closest;
