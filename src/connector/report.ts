// Human output of `aerogrid validate`: one block per problem, compiler style, on stderr.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { colors, info } from '../output.js';
import { displayFile } from '../app-spec/display.js';
import type { Problem } from '../app-spec/types.js';
import type { ValidationResult } from './validate.js';

function sourceLine(file: string, line: number, cache: Map<string, string[] | null>): string | undefined {
  if (!cache.has(file)) {
    try {
      cache.set(file, readFileSync(resolve(file), 'utf8').split(/\r?\n/));
    } catch {
      cache.set(file, null);
    }
  }
  return cache.get(file)?.[line - 1];
}

export function formatProblem(p: Problem, cache = new Map<string, string[] | null>()): string {
  const c = colors();
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  const label = p.severity === 'error' ? c.red('error') : c.yellow('warning');
  const lines = [`${c.bold(where)}: ${label}: ${p.message}`];
  const text = p.line > 0 ? sourceLine(p.file, p.line, cache) : undefined;
  if (text !== undefined && text.trim() !== '' && text.length <= 200) {
    const gutter = String(p.line).padStart(5);
    const width = p.endLine === p.line && p.endColumn && p.endColumn > p.column ? p.endColumn - p.column : 1;
    // eslint-disable-next-line no-control-regex
    lines.push(c.dim(`${gutter} | `) + text.replace(/\t/g, ' ').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\u2400'));
    lines.push(c.dim(`${' '.repeat(5)} | `) + ' '.repeat(Math.max(0, p.column - 1)) + (p.severity === 'error' ? c.red : c.yellow)('^'.repeat(Math.max(1, Math.min(width, 80)))));
  }
  if (p.hint) lines.push(`  ${c.cyan('fix:')} ${p.hint}`);
  return lines.join('\n');
}

export async function printProblems(result: ValidationResult): Promise<void> {
  const c = colors();
  const cache = new Map<string, string[] | null>();
  for (const p of result.problems) info(formatProblem(p, cache) + '\n');
  const where = displayFile(result.dir) || '.';
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (result.valid) {
    const spec = result.spec;
    const summary = spec ? ` app '${spec.name}' (tenant ${spec.tenant}): ${plural(spec.topics.length, 'topic')}, ${plural(spec.grids.length, 'grid')}` : '';
    const warned = result.warnings ? ` (${plural(result.warnings, 'warning')})` : '';
    info(`${c.green('✔')} ${where === '.' ? 'this connector' : where} is valid${warned}:${summary}`);
  } else {
    const warned = result.warnings ? ` and ${plural(result.warnings, 'warning')}` : '';
    info(`${c.red('✖')} ${plural(result.errors, 'error')}${warned} in ${where === '.' ? 'this connector' : where}`);
  }
}
