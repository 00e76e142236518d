/**
 * Name validation. Tenant and app names become Kubernetes names and Kafka group ids, so they must
 * be DNS-1123 labels; topic names follow Kafka's rules; grid names end up in URLs and JSON keys.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export class NameError extends Error {
  override name = 'NameError';
}

/** Returns null when `value` is a DNS-1123 label, else the reason it is not. */
export function dnsLabelProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if (value.length > 63) return `is ${value.length} characters long; at most 63 are allowed`;
  if (!DNS_LABEL.test(value)) {
    return "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit";
  }
  return null;
}

/** Throws a NameError naming the kind of name ("tenant", "app") when `value` is not a DNS-1123 label. */
export function validateDnsLabel(kind: string, value: unknown): string {
  const problem = dnsLabelProblem(value);
  if (problem) throw new NameError(`invalid ${kind} name ${JSON.stringify(value)}: ${problem}`);
  return value as string;
}

export function topicNameProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if (value === '.' || value === '..') return "must not be '.' or '..'";
  if (!TOPIC.test(value)) return "may contain only letters, digits, '.', '_' and '-' (at most 249 characters)";
  return null;
}

export function gridNameProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if (value.length > 200) return 'must be at most 200 characters long';
  if (CONTROL.test(value) || value.includes('/')) return "must not contain '/' or control characters";
  return null;
}

/** Whether `topic` is allowed by a tenant's list (exact names and 'prefix*' patterns). */
export function topicAllowed(topic: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => (a.endsWith('*') ? topic.startsWith(a.slice(0, -1)) : topic === a));
}
