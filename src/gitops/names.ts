// Names that become folders, Kubernetes objects and Kafka names. Checked before anything is
// written so no input can escape its folder, namespace or topic prefix.
import { CliError, ExitCode } from '../cli/errors.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Services need DNS-1035 (a leading letter); '-connector' is appended to app names. */
const APP_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const APP_MAX = 63 - '-connector'.length;
/** Tenants name namespaces; 'aerogrid-' and 'kube-' prefixes and Argo CD's own are reserved. */
const RESERVED_TENANTS = new Set(['default', 'argocd', 'istio-system', 'aerogrid-system']);

export function checkTenant(value: string): string {
  if (!DNS1123_LABEL.test(value) || value.length > 63) {
    throw new CliError(`Tenant '${value}' is not a valid name: it becomes a Kubernetes namespace.`, {
      exitCode: ExitCode.invalid,
      hint: 'Use at most 63 lowercase letters, digits and \'-\', starting and ending with a letter or digit (e.g. team-sales).',
    });
  }
  if (RESERVED_TENANTS.has(value) || value.startsWith('kube-') || value.startsWith('aerogrid-')) {
    throw new CliError(`Tenant '${value}' is reserved for the platform.`, { exitCode: ExitCode.invalid, hint: 'Pick another tenant name (e.g. team-sales).' });
  }
  return value;
}

export function checkApp(value: string): string {
  if (!APP_NAME.test(value) || value.length > APP_MAX) {
    throw new CliError(`App '${value}' is not a valid name: it becomes Kubernetes and Kafka names.`, {
      exitCode: ExitCode.invalid,
      hint: `Use at most ${APP_MAX} lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. ordersapp).`,
    });
  }
  return value;
}

const TOPIC = /^[A-Za-z0-9._-]+$/;

/** A topic, or a prefix pattern ending in '*' (tenant allowances only). */
export function checkTopic(value: string, options: { pattern?: boolean } = {}): string {
  const name = options.pattern && value.endsWith('*') ? value.slice(0, -1) : value;
  if (!TOPIC.test(name) || name === '.' || name === '..' || name.length > 249) {
    throw new CliError(`Topic '${value}' is not a valid Kafka topic name.`, {
      exitCode: ExitCode.invalid,
      hint: `Use letters, digits, '.', '_' and '-'${options.pattern ? ', optionally ending in \'*\' for every topic with that prefix' : ''}.`,
    });
  }
  return value;
}

/** Whether `topic` is allowed by a tenant's list (exact names and 'prefix*' patterns). */
export function topicAllowed(topic: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => (a.endsWith('*') ? topic.startsWith(a.slice(0, -1)) : topic === a));
}

/** The Kafka consumer group of an app. */
export function consumerGroup(tenant: string, app: string): string {
  return `aerogrid.${tenant}.${app}`;
}

/** The candidate closest to `value` when it is likely a typo of it. */
export function closestName(value: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(value, candidate);
    if (d < bestDistance) { best = candidate; bestDistance = d; }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(value.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}
