// Rules only the app spec needs: the entrypoint path, and "did you mean" hints for its keys and
// names. The name rules themselves are the contract package's (@aerogrid/protocol).

// src/commands/dev.ts still imports these two from here.
export { dns1123Problem, tenantTopicPrefix } from '@aerogrid/protocol/names';
import type { NameProblem } from '@aerogrid/protocol/names';

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
