// Connector templates: src/templates/<name>/ (template.json + files), plus src/templates/_common/
// (README, .gitignore, CI pipelines) shared by all. Read at run time from the package.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { packageRoot } from '../paths.js';

export const templatesDir = join(packageRoot, 'src', 'templates');
const COMMON = '_common';

export interface TemplateInfo {
  name: string;
  title: string;
  description: string;
  /** Default topic when none is given. */
  topic: string;
  /** The grid shown in the README's Excel example. */
  grid: string;
  /** A paragraph for the README (may hold placeholders). */
  about: string;
  order: number;
}

export function listTemplates(): TemplateInfo[] {
  const out: TemplateInfo[] = [];
  for (const entry of readdirSync(templatesDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('_')) continue;
    const meta = JSON.parse(readFileSync(join(templatesDir, entry.name, 'template.json'), 'utf8')) as Omit<TemplateInfo, 'name'>;
    out.push({ ...meta, name: entry.name });
  }
  return out.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

export function templateNames(): string[] {
  return listTemplates().map((t) => t.name);
}

/** A template path segment '_x' is written as '.x' (npm drops some dotfiles from packages). */
function outputPath(rel: string): string {
  return rel.split(sep).map((seg) => (/^_[^_]/.test(seg) ? `.${seg.slice(1)}` : seg)).join('/');
}

function walk(dir: string, root: string, files: Map<string, string>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === '__pycache__' || entry.name === '.pytest_cache') continue;
      walk(abs, root, files);
    } else if (entry.isFile() && statSync(abs).size < 1_000_000) {
      const rel = relative(root, abs);
      if (rel === 'template.json' || entry.name.endsWith('.pyc')) continue;
      files.set(outputPath(rel), readFileSync(abs, 'utf8'));
    }
  }
}

/** Every file of a template (common files first, the template's own win), unrendered. */
export function templateFiles(name: string): Map<string, string> {
  const files = new Map<string, string>();
  walk(join(templatesDir, COMMON), join(templatesDir, COMMON), files);
  walk(join(templatesDir, name), join(templatesDir, name), files);
  return files;
}

export type Values = Record<string, string>;

/**
 * Fills {{key}} placeholders. {{key|yaml}} writes the value as a YAML scalar (quoted when YAML
 * would read it as something other than text). Other {{...}}, such as GitHub's ${{ ... }}, are
 * left alone; an unknown key is an error, so a typo in a template never ships.
 */
export function render(text: string, values: Values, file: string): string {
  return text.replace(/(\$?)\{\{([A-Za-z][A-Za-z0-9]*)(\|yaml)?\}\}/g, (whole, dollar: string, key: string, filter?: string) => {
    if (dollar) return whole;
    const value = values[key];
    if (value === undefined) throw new Error(`template file ${file} uses {{${key}}}, which is not one of: ${Object.keys(values).join(', ')}`);
    return filter ? yamlScalar(value) : value;
  });
}

/** A plain YAML scalar when it reads back as the same text, else double-quoted. */
export function yamlScalar(value: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/.test(value)
    && !/^(true|false|yes|no|on|off|null|y|n|~)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}
