// A draft with the grids the New app form declared: the template's aerogrid.yaml with its
// spec.grids (and description) replaced in place, every other line as init wrote it, and an app.py
// written for those grids. The template's handler writes the template's grid, so it cannot stay:
// the new app.py reads each record of the topic as an aerogrid.Record of the declared fields (their
// types checked, a record that does not fit dead-lettered) and upserts every declared grid by its
// key with its columns, a stub to change that validates and runs as it is.
import { parseDocument, stringify } from 'yaml';
import type { DraftField, DraftGrid } from '@aerogrid/protocol/draft-grids';
import { ApiError } from './errors.js';

/** A YAML scalar as it must be written to read back as the same string ('null' stays text). */
function scalar(value: string): string {
  return stringify(value).trimEnd();
}

function keyWords(grid: DraftGrid): string {
  const names = grid.key.map((k) => k.name);
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** The draft's aerogrid.yaml: `yaml` with spec.grids and metadata.description replaced, nothing else moved. */
export function withDeclaredGrids(yaml: string, grids: DraftGrid[], topic: string): string {
  const doc = parseDocument(yaml);
  const replace = (text: string, path: string[], block: (indent: string) => string): string => {
    const node = parseDocument(text).getIn(path, true) as { range?: [number, number, number] } | undefined;
    if (!node?.range) throw new ApiError(500, 'internal', `the template's aerogrid.yaml has no ${path.join('.')}`);
    const [start, end] = node.range;
    const indent = ' '.repeat(start - (text.lastIndexOf('\n', start - 1) + 1));
    // A block's range runs to the next key: keep the line breaks before it.
    const tail = /\s*$/.exec(text.slice(start, end))![0];
    return text.slice(0, start) + block(indent) + tail + text.slice(end);
  };
  if (doc.errors.length) throw new ApiError(500, 'internal', "the template's aerogrid.yaml does not parse");
  let out = replace(yaml, ['spec', 'grids'], (indent) => grids.map((g) => [
    `- name: ${scalar(g.name)}`,
    `${indent}  description: ${scalar(`one row per ${keyWords(g)}`)}`,
    `${indent}  columns: [${g.columns.map((c) => scalar(c.name)).join(', ')}]`,
  ].join('\n')).join(`\n${indent}`));
  const grid = grids.length === 1 ? `grid ${grids[0]!.name}` : `grids ${grids.map((g) => g.name).join(', ')}`;
  out = replace(out, ['metadata', 'description'], () => scalar(`The ${grid} from topic ${topic}`));
  return out;
}

const EXAMPLE: Record<DraftField['type'], string> = { str: '"..."', int: '0', float: '0.0', bool: 'false' };
const FIXED_NAMES = new Set(['aerogrid', 'app', 'source', 'handle', 'stream', 'key', 'record', 'Fields', 'BROKER_URI']);

/** app.py for the declared grids (their names, keys and columns already checked: plain Python-safe text). */
export function declaredGridsApp(name: string, topic: string, grids: DraftGrid[]): string {
  // One record carries every grid's fields, each once (one type: draftGridProblems checked).
  const fields = new Map<string, DraftField['type']>();
  for (const g of grids) for (const f of [...g.key, ...g.columns]) if (!fields.has(f.name)) fields.set(f.name, f.type);
  const variables = new Set<string>();
  const variable = (grid: string): string => {
    let v = `${grid.replace(/-/g, '_')}_grid`;
    for (let n = 2; variables.has(v) || FIXED_NAMES.has(v); n++) v = `${grid.replace(/-/g, '_')}_grid${n}`;
    variables.add(v);
    return v;
  };
  const names = grids.map((g) => ({ grid: g, v: variable(g.name) }));
  const example = `{${[...fields].map(([f, t]) => `"${f}": ${EXAMPLE[t]}`).join(', ')}}`;
  const rowKey = (g: DraftGrid): string => (g.key.length === 1 ? `record.${g.key[0]!.name}` : `f"${g.key.map((k) => `{record.${k.name}}`).join('|')}"`);
  const listed = grids.map((g) => `'${g.name}'`).join(', ');
  return [
    `"""${name}: reads topic '${topic}' and keeps the grid${grids.length === 1 ? '' : 's'} ${listed}, as the New app form declared ${grids.length === 1 ? 'it' : 'them'}.`,
    '',
    'For now each record\'s fields are written as they come to the row of its key: change handle()',
    'to compute what you need. When you add topics, grids or columns, list them in aerogrid.yaml too:',
    '`aerogrid validate` tells you what is missing.',
    '"""',
    'import aerogrid',
    '',
    `app = aerogrid.App('${name}', broker=BROKER_URI)`,
    '',
    '',
    `# A record of '${topic}' is a JSON object like ${example}.`,
    '# One that does not fit (a field missing, or of another type) goes to the dead letters, with the reason.',
    'class Fields(aerogrid.Record):',
    ...[...fields].map(([f, t]) => `    ${f}: ${t}`),
    '',
    '',
    `source = app.topic('${topic}', key_type=str, value_type=Fields)`,
    '',
    ...names.map(({ grid, v }) => `${v} = app.Grid('${grid.name}', columns=[${grid.columns.map((c) => `'${c.name}'`).join(', ')}])  # one row per ${keyWords(grid)}`),
    '',
    '',
    '@app.stream(source)',
    'async def handle(stream):',
    '    async for key, record in stream.items():',
    ...names.map(({ grid, v }) => `        ${v}[${rowKey(grid)}] = {${grid.columns.map((c) => `'${c.name}': record.${c.name}`).join(', ')}}`),
    '',
  ].join('\n');
}
