// The name rules every part applies: the CLI (validate, init, deploy, tenants), the sidecar and,
// in its own stdlib-only copy (sdk/python/aerogrid/names.py), the Python SDK. Both copies are
// tested against fixtures/names.json. Names become folders, Kubernetes objects, Kafka topics,
// URLs and Excel formulas, so they are checked early: no input can escape its folder, namespace
// or topic prefix.

/** A Kubernetes DNS-1123 label: lowercase letters, digits and '-', starting and ending alphanumeric, at most 63 characters. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_MAX = 63;

/** Kafka's legal topic characters (at most 249 of them, and not '.' or '..'). */
export const TOPIC_NAME = /^[A-Za-z0-9._-]+$/;
export const TOPIC_MAX = 249;

/** Grid names appear in URLs, Excel formulas and changelog topic names. */
export const GRID_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
export const GRID_MAX = 63;
/** The grid name rule, as the validator's fix says it. */
export const GRID_NAME_RULE = 'grid names start with a letter and hold letters, digits, \'_\' and \'-\', at most 63 characters';

/** A deployed app also names the Service `<app>-connector`, a DNS-1035 label (a leading letter). */
export const DEPLOYED_APP_MAX = DNS1123_MAX - '-connector'.length;

/** Every topic and consumer group the platform makes for an app starts with this. */
export const TOPIC_PREFIX = 'aerogrid.';

/**
 * Every Kafka topic an app of `tenant` writes (its consumer group, changelog and dead letters)
 * starts with this, so no app can write into another tenant's topics.
 */
export function tenantTopicPrefix(tenant: string): string {
  return `${TOPIC_PREFIX}${tenant}.`;
}

/** Tenants name namespaces: these, and names starting 'kube-' or 'aerogrid-', belong to the platform. */
export const RESERVED_TENANTS: ReadonlySet<string> = new Set(['default', 'argocd', 'istio-system', 'aerogrid-system']);

/** Whether onboarding must refuse `tenant` (the platform's own namespaces). */
export function isReservedTenant(tenant: string): boolean {
  return RESERVED_TENANTS.has(tenant) || tenant.startsWith('kube-') || tenant.startsWith('aerogrid-');
}

/**
 * A tenant that apps are deployed to: a DNS-1123 label that is not one of the platform's own
 * namespaces. The one rule `aerogrid init`, `validate`, `deploy` and `tenant add` apply, so that
 * a name one of them accepts is never refused by another.
 */
export function deployedTenantProblem(value: string): NameProblem | undefined {
  const problem = dns1123Problem(value);
  if (problem) return problem;
  if (!isReservedTenant(value)) return undefined;
  const suggestion = toDns1123(`team-${value.replace(/^(kube|aerogrid)-/, '')}`);
  return { reason: `is reserved for the platform (its namespaces: ${[...RESERVED_TENANTS].join(', ')}, kube-*, aerogrid-*)`, suggestion };
}

export interface NameProblem {
  /** What is wrong, as a sentence fragment: "has uppercase letters". */
  reason: string;
  /** A valid name close to the given one, when one can be made. */
  suggestion?: string;
}

/** Why `value` is not a DNS-1123 label, or undefined when it is one. */
export function dns1123Problem(value: string): NameProblem | undefined {
  if (DNS1123_LABEL.test(value) && value.length <= DNS1123_MAX) return undefined;
  const suggestion = toDns1123(value);
  const withSuggestion = (reason: string): NameProblem => (suggestion && suggestion !== value ? { reason, suggestion } : { reason });
  if (value.length === 0) return { reason: 'is empty' };
  if (value.length > DNS1123_MAX) return withSuggestion(`is ${value.length} characters long; at most ${DNS1123_MAX} are allowed`);
  if (/[A-Z]/.test(value)) return withSuggestion('has uppercase letters; only lowercase letters, digits and \'-\' are allowed');
  if (value.includes('_')) return withSuggestion('has \'_\'; use \'-\' instead (only lowercase letters, digits and \'-\' are allowed)');
  if (value.includes('/') || value.includes('\\') || value.includes('..')) return withSuggestion('looks like a path; a name cannot hold \'/\', \'\\\' or \'..\'');
  const bad = [...new Set([...value].filter((ch) => !/[a-z0-9-]/.test(ch)))];
  if (bad.length > 0) return withSuggestion(`has ${bad.map(describeChar).join(', ')}; only lowercase letters, digits and '-' are allowed`);
  if (value.startsWith('-')) return withSuggestion('starts with \'-\'; it must start with a letter or digit');
  return withSuggestion('ends with \'-\'; it must end with a letter or digit');
}

/** The closest DNS-1123 label to `value` ('' when nothing usable is left). */
export function toDns1123(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, DNS1123_MAX)
    .replace(/^-+|-+$/g, '');
}

/** Tenants and apps become namespaces, Kafka group ids and topic prefixes: DNS-1123 labels. */
export const tenantProblem = dns1123Problem;
export const appProblem = dns1123Problem;

/** An app that is deployed: a DNS-1123 label that also leaves room for its Service's name. */
export function deployedAppProblem(value: string): NameProblem | undefined {
  const problem = dns1123Problem(value);
  if (problem) {
    const suggestion = problem.suggestion?.slice(0, DEPLOYED_APP_MAX).replace(/-+$/, '');
    return suggestion && /^[a-z]/.test(suggestion) ? { reason: problem.reason, suggestion } : { reason: problem.reason };
  }
  if (!/^[a-z]/.test(value)) return { reason: `starts with '${value[0]}'; a deployed app's name must start with a letter (it also names a Kubernetes Service)` };
  if (value.length > DEPLOYED_APP_MAX) {
    return { reason: `is ${value.length} characters long; a deployed app's name may have at most ${DEPLOYED_APP_MAX} (its Service's name adds '-connector')`, suggestion: value.slice(0, DEPLOYED_APP_MAX).replace(/-+$/, '') };
  }
  return undefined;
}

export function topicProblem(value: string): NameProblem | undefined {
  if (value.length === 0) return { reason: 'is empty' };
  if (value === '.' || value === '..') return { reason: `is '${value}', which Kafka does not allow as a topic name` };
  if (value.length > TOPIC_MAX) return { reason: `is ${value.length} characters long; Kafka allows at most ${TOPIC_MAX}` };
  if (!TOPIC_NAME.test(value)) {
    const bad = [...new Set([...value].filter((ch) => !/[A-Za-z0-9._-]/.test(ch)))];
    const suggestion = value.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
    return { reason: `has ${bad.map(describeChar).join(', ')}; Kafka topic names may only hold letters, digits, '.', '_' and '-'`, ...(suggestion && suggestion !== '.' && suggestion !== '..' ? { suggestion } : {}) };
  }
  return undefined;
}

/** A tenant's topic allowance: a topic name, or a prefix ending in '*' for every topic that starts with it. */
export function topicPatternProblem(value: string): NameProblem | undefined {
  return topicProblem(value.endsWith('*') ? value.slice(0, -1) : value);
}

/**
 * Whether a tenant's allowance entry would reach the platform's internal topics (every
 * `aerogrid.` topic: apps' changelogs and dead letters, keyed like their consumer groups):
 * a name under TOPIC_PREFIX, or a pattern whose prefix starts with it or is a start of it
 * (`aerogrid.*`, `aero*`, `a*`). Those can never be granted.
 */
export function internalTopicGrant(value: string): boolean {
  if (!value.endsWith('*')) return value.startsWith(TOPIC_PREFIX);
  const prefix = value.slice(0, -1);
  return prefix.startsWith(TOPIC_PREFIX) || TOPIC_PREFIX.startsWith(prefix);
}

/** Whether `topic` is allowed by a tenant's list (exact names and 'prefix*' patterns). */
export function topicAllowed(topic: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => (a.endsWith('*') ? topic.startsWith(a.slice(0, -1)) : topic === a));
}

export function gridProblem(value: string): NameProblem | undefined {
  if (value.length === 0) return { reason: 'is empty' };
  if (value.length > GRID_MAX) return { reason: `is ${value.length} characters long; at most ${GRID_MAX} are allowed`, suggestion: value.slice(0, GRID_MAX) };
  if (GRID_NAME.test(value)) return undefined;
  const suggestion = value.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^[^A-Za-z]+/, '').replace(/_+$/, '');
  const withSuggestion = (reason: string): NameProblem => (suggestion ? { reason, suggestion } : { reason });
  if (!/^[A-Za-z]/.test(value)) return withSuggestion('must start with a letter');
  const bad = [...new Set([...value].filter((ch) => !/[A-Za-z0-9_-]/.test(ch)))];
  return withSuggestion(`has ${bad.map(describeChar).join(', ')}; grid names may only hold letters, digits, '_' and '-'`);
}

/** The kinds of names a server checks in what it is given (flags, options, a runtime's hello). */
export type NameKind = 'tenant' | 'app' | 'instance' | 'topic' | 'grid';

const RULES: Record<NameKind, { problem: (value: string) => NameProblem | undefined; rule: string }> = {
  tenant: { problem: tenantProblem, rule: 'a DNS-1123 label' },
  app: { problem: appProblem, rule: 'a DNS-1123 label' },
  /** A separate copy of an app: part of its consumer group, changelog and transactional id. */
  instance: { problem: dns1123Problem, rule: 'a DNS-1123 label' },
  topic: { problem: topicProblem, rule: 'a Kafka topic name' },
  grid: { problem: gridProblem, rule: 'a grid name (a letter, then letters, digits, \'_\' and \'-\')' },
};

/** Why `value`, given as a `kind` name, is refused ("must be a DNS-1123 label (it has ...)"), or null. */
export function nameProblemText(kind: NameKind, value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  const { problem, rule } = RULES[kind];
  const found = problem(value);
  return found ? `must be ${rule} (it ${found.reason})` : null;
}

export class NameError extends Error {
  override name = 'NameError';
}

/** `value` when it is a valid `kind` name; else a NameError naming the kind and the reason. */
export function checkName(kind: NameKind, value: unknown): string {
  const problem = nameProblemText(kind, value);
  if (problem) throw new NameError(`invalid ${kind} name ${JSON.stringify(value)}: ${problem}`);
  return value as string;
}

function describeChar(ch: string): string {
  if (ch === ' ') return 'a space';
  if (ch === '\t') return 'a tab';
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `a control character (U+${code.toString(16).padStart(4, '0').toUpperCase()})`;
  return `'${ch}'`;
}
