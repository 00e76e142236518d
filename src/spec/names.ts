// Name rules for everything a connector names. Pure functions, no dependencies: used by
// `aerogrid validate`, by `aerogrid init` (flags and prompts) and by anything that turns a name
// into a folder, a Kubernetes object or a Kafka topic.

/** A Kubernetes DNS-1123 label: lowercase letters, digits and '-', starting and ending alphanumeric, at most 63 characters. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_MAX = 63;

/** Kafka's legal topic characters (at most 249 of them, and not '.' or '..'). */
export const TOPIC_NAME = /^[A-Za-z0-9._-]+$/;
export const TOPIC_MAX = 249;

/** Grid names appear in URLs, Excel formulas and changelog topic names. */
export const GRID_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
export const GRID_MAX = 63;

/**
 * Every Kafka topic an app of `tenant` writes (its consumer group, changelog and dead letters)
 * starts with this, so no app can write into another tenant's topics.
 */
export function tenantTopicPrefix(tenant: string): string {
  return `aerogrid.${tenant}.`;
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

/** Why an entrypoint path is unsafe or unusable, or undefined when it is a plain relative .py path inside the folder. */
export function entrypointProblem(value: string): NameProblem | undefined {
  if (value.length === 0) return { reason: 'is empty' };
  if (value.includes('\0')) return { reason: 'holds a NUL character' };
  if (value.startsWith('/') || /^[A-Za-z]:[\\/]/.test(value)) return { reason: 'is an absolute path; it must be relative to the connector folder', suggestion: value.split(/[\\/]/).pop() };
  if (value.startsWith('~')) return { reason: 'starts with \'~\'; it must be relative to the connector folder', suggestion: value.split(/[\\/]/).pop() };
  if (value.includes('\\')) return { reason: 'holds \'\\\'; use \'/\' between folders', suggestion: value.replace(/\\/g, '/') };
  const parts = value.split('/');
  if (parts.includes('..')) return { reason: 'climbs out of the connector folder with \'..\'; the entrypoint must be inside it', suggestion: parts.filter((p) => p !== '..' && p !== '.' && p !== '').join('/') };
  if (parts.some((p) => p === '')) return { reason: 'has an empty path segment (\'//\' or a trailing \'/\')' };
  if (!value.endsWith('.py')) return { reason: 'is not a Python file; it must end with .py' };
  return undefined;
}

function describeChar(ch: string): string {
  if (ch === ' ') return 'a space';
  if (ch === '\t') return 'a tab';
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `a control character (U+${code.toString(16).padStart(4, '0').toUpperCase()})`;
  return `'${ch}'`;
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
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

/** The candidate closest to `value` when it is close enough to be a likely typo. */
export function closest(value: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(value.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) { best = candidate; bestDistance = d; }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(value.length / 3)) ? best : undefined;
}
