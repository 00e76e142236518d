// The grids the console's New app form declares (POST /v1/drafts `grids`), and the one check of
// them that the page runs as the user types and the server runs again on the body: the grid names
// by the validator's own rule and message, the columns as aerogrid.yaml takes them, the caps.
// A declared grid's key and columns are also the fields of the record the draft's app.py reads
// (an aerogrid.Record), so their names are Python names and each has a Record field type.
import { MAX_DRAFT_COLUMNS, MAX_DRAFT_GRIDS, MAX_DRAFT_KEY_FIELDS } from './console-api.js';
import { GRID_NAME_RULE, gridProblem } from './names.js';

/** The Record field types a declared column may have (JSON values: text, whole numbers, numbers, true/false). */
export const DRAFT_COLUMN_TYPES = ['str', 'int', 'float', 'bool'] as const;
export type DraftColumnType = (typeof DRAFT_COLUMN_TYPES)[number];

export interface DraftField { name: string; type: DraftColumnType }

/** One declared grid: its name, the record fields its row key is made of, and its columns. */
export interface DraftGrid { name: string; key: DraftField[]; columns: DraftField[] }

/** One thing wrong with the declared grids: where (`grids[0].columns[1].name`), what, how to fix it. */
export interface DraftGridProblem { path: string; message: string; fix?: string }

/** The longest column aerogrid.yaml takes (its schema's maxLength). */
const COLUMN_MAX = 128;

// Python's keywords (3.9+): a Record field cannot be one. Record's own methods cannot be shadowed.
const PYTHON_KEYWORDS = new Set(['False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield']);
const RECORD_METHODS = new Set(['from_dict', 'to_dict']);
export const FIELD_NAME_RULE = 'a column is also a field of the record app.py reads: a Python name of letters, digits and \'_\', starting with a letter, at most 128 characters';

/** Why `value` cannot be a declared key field or column, or undefined. */
export function fieldNameProblem(value: string): { reason: string; suggestion?: string } | undefined {
  if (value.length === 0) return { reason: 'is empty' };
  if (value.length > COLUMN_MAX) return { reason: `is ${value.length} characters long; at most ${COLUMN_MAX} are allowed`, suggestion: value.slice(0, COLUMN_MAX) };
  const suggestion = value.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^[^A-Za-z]+/, '').replace(/_+$/, '') || undefined;
  const withSuggestion = (reason: string) => (suggestion && suggestion !== value ? { reason, suggestion } : { reason });
  if (!/^[A-Za-z]/.test(value)) return withSuggestion('must start with a letter');
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(value)) {
    const bad = [...new Set([...value].filter((ch) => !/[A-Za-z0-9_]/.test(ch)))].map((ch) => (ch === ' ' ? 'a space' : `'${ch}'`));
    return withSuggestion(`has ${bad.join(', ')}; only letters, digits and '_' are allowed`);
  }
  if (PYTHON_KEYWORDS.has(value)) return { reason: 'is a Python keyword', suggestion: `${value}_` };
  if (RECORD_METHODS.has(value)) return { reason: `is a method of aerogrid.Record`, suggestion: `${value}_` };
  return undefined;
}

/** The validator's message for a bad grid name (src/app-spec/load.ts says it of spec.grids[i].name). */
export function gridNameMessage(index: number, value: string): DraftGridProblem | undefined {
  const problem = gridProblem(value);
  if (!problem) return undefined;
  return {
    path: `grids[${index}].name`,
    message: `spec.grids[${index}].name ${JSON.stringify(value)} ${problem.reason}`,
    fix: problem.suggestion ? `use '${problem.suggestion}' (${GRID_NAME_RULE})` : GRID_NAME_RULE,
  };
}

/**
 * Every problem of the declared grids, in form order; none: they make a valid aerogrid.yaml and
 * app.py. Takes what a body holds (anything): the page and the server run this same check.
 */
export function draftGridProblems(value: unknown): DraftGridProblem[] {
  if (!Array.isArray(value)) return [{ path: 'grids', message: "'grids' must be a list of {name, key, columns}" }];
  const out: DraftGridProblem[] = [];
  if (value.length > MAX_DRAFT_GRIDS) out.push({ path: 'grids', message: `${value.length} grids is more than the ${MAX_DRAFT_GRIDS} the form declares`, fix: 'declare the rest in aerogrid.yaml and app.py after' });
  const gridNames = new Map<string, number>();
  // One record carries every grid's fields: a field named in two grids has one type.
  const fieldTypes = new Map<string, { type: string; grid: string }>();
  value.slice(0, MAX_DRAFT_GRIDS).forEach((g: unknown, i) => {
    const at = `grids[${i}]`;
    if (!g || typeof g !== 'object' || Array.isArray(g)) {
      out.push({ path: at, message: `${at} must be {name, key, columns}` });
      return;
    }
    const grid = g as Record<string, unknown>;
    const name = typeof grid.name === 'string' ? grid.name : '';
    if (typeof grid.name !== 'string') out.push({ path: `${at}.name`, message: `${at}.name must be the grid's name` });
    else {
      const bad = gridNameMessage(i, name);
      if (bad) out.push(bad);
      const first = gridNames.get(name);
      if (!bad && first !== undefined) out.push({ path: `${at}.name`, message: `grid '${name}' is declared twice (spec.grids[${first}] and spec.grids[${i}])`, fix: 'each grid once: remove or rename the second' });
      else gridNames.set(name, i);
    }
    const seen = new Map<string, string>();
    const fields = (list: unknown, part: 'key' | 'columns', max: number) => {
      if (!Array.isArray(list)) {
        out.push({ path: `${at}.${part}`, message: `${at}.${part} must be a list of {name, type}` });
        return;
      }
      if (list.length === 0) out.push({ path: `${at}.${part}`, message: part === 'key' ? `grid '${name}' needs a key: the field of a record that picks its row` : `grid '${name}' needs at least one column` });
      if (list.length > max) out.push({ path: `${at}.${part}`, message: `grid '${name}' has ${list.length} ${part === 'key' ? 'key fields' : 'columns'}; the form declares at most ${max}` });
      list.slice(0, max).forEach((f: unknown, j) => {
        const where = `${at}.${part}[${j}]`;
        const field = typeof f === 'string' ? { name: f, type: 'str' } : (f as Record<string, unknown> | null);
        if (!field || typeof field !== 'object' || typeof field.name !== 'string') {
          out.push({ path: where, message: `${where} must be {name, type}` });
          return;
        }
        const fieldName = field.name as string;
        const problem = fieldNameProblem(fieldName);
        if (problem) {
          out.push({ path: `${where}.name`, message: `${part === 'key' ? 'key field' : 'column'} ${JSON.stringify(fieldName)} of grid '${name}' ${problem.reason}`, fix: problem.suggestion ? `use '${problem.suggestion}' (${FIELD_NAME_RULE})` : FIELD_NAME_RULE });
        } else if (seen.has(fieldName)) {
          out.push({ path: `${where}.name`, message: `'${fieldName}' is named twice in grid '${name}' (as ${seen.get(fieldName)} and as ${part === 'key' ? 'key' : 'column'})`, fix: 'name each field of a grid once' });
        } else seen.set(fieldName, part === 'key' ? 'key' : 'column');
        const type = field.type ?? 'str';
        if (!(DRAFT_COLUMN_TYPES as readonly unknown[]).includes(type)) {
          out.push({ path: `${where}.type`, message: `the type of '${fieldName}' must be one of ${DRAFT_COLUMN_TYPES.join(', ')}`, fix: 'str for text, int for whole numbers, float for numbers, bool for true/false' });
        } else if (!problem) {
          const other = fieldTypes.get(fieldName);
          if (other && other.type !== type) out.push({ path: `${where}.type`, message: `'${fieldName}' is ${other.type} in grid '${other.grid}' but ${String(type)} in grid '${name}'; the record app.py reads has one field '${fieldName}'`, fix: `give '${fieldName}' one type` });
          else if (!other) fieldTypes.set(fieldName, { type: type as string, grid: name });
        }
      });
    };
    fields(grid.key, 'key', MAX_DRAFT_KEY_FIELDS);
    fields(grid.columns, 'columns', MAX_DRAFT_COLUMNS);
  });
  return out;
}

/** The declared grids in their one shape (a field given as a bare name is a str); call after draftGridProblems found none. */
export function normaliseDraftGrids(value: unknown): DraftGrid[] {
  const field = (f: unknown): DraftField => (typeof f === 'string' ? { name: f, type: 'str' } : { name: (f as DraftField).name, type: (f as DraftField).type ?? 'str' });
  return (value as Array<Record<string, unknown>>).map((g) => ({ name: g.name as string, key: (g.key as unknown[]).map(field), columns: (g.columns as unknown[]).map(field) }));
}
