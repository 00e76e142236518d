// One grid as a cell sees it: the protocol's grid view (the snapshot with the deltas applied), and
// its projection into what an Excel cell can carry.
import { GridView as LiveGridView } from '@aerogrid/protocol/grid-view';

export type Scalar = string | number | boolean;

export interface TableOptions {
  /** The columns to show, in this order (default: every column of the grid). */
  columns?: readonly string[];
  /** At most this many data rows; beyond, a last row says how many were cut. */
  maxRows: number;
  /** At most about this many bytes of values (Excel on the web refuses results over 5 MB). */
  maxBytes: number;
}

export interface Table {
  values: Scalar[][];
  /** Rows of the grid not shown (0 when it fits). */
  cut: number;
}

export const DEFAULT_MAX_ROWS = 5_000;
/** Headroom under Excel's 5 MB per result, for the JSON around the values. */
export const DEFAULT_MAX_BYTES = 4_000_000;

/** Excel refuses a text longer than this in a cell. */
export const MAX_CELL_TEXT = 32_767;

/** A grid value as a cell value: numbers, text and booleans as they are, null as empty, anything else as its JSON; text cut to what a cell holds. */
export function toScalar(value: unknown): Scalar {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean') return value;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_CELL_TEXT ? `${text.slice(0, MAX_CELL_TEXT - 1)}…` : text;
}

/** The protocol's grid view, with what the cells ask of it. */
export class GridView extends LiveGridView {
  /** Throws with the grid's columns named when a requested column does not exist. */
  checkColumns(columns: readonly string[], grid: string): void {
    const unknown = columns.filter((c) => !this.columns.includes(c));
    if (unknown.length) throw new Error(`no column '${unknown[0]}' in grid '${grid}'; columns: ${this.columns.join(', ')}`);
  }

  /** Header row (key, then the columns) and one row per key in key order, cut to fit. */
  toTable(options: TableOptions): Table {
    const columns = options.columns?.length ? options.columns : this.columns;
    const keys = this.keys();
    const values: Scalar[][] = [['key', ...columns]];
    const notice = (cut: number, why: string): Scalar[] => [`… ${cut} more row${cut === 1 ? '' : 's'} not shown (${why})`, ...columns.map(() => '')];
    // The brackets, the header and room for the longest notice count against the budget too.
    let bytes = 2 + jsonBytes(values[0]!) + jsonBytes(notice(keys.length, `maxRows ${options.maxRows}; Excel's 5 MB limit per result`));
    let shown = 0;
    const limit = Math.min(keys.length, Math.max(0, options.maxRows));
    for (; shown < limit; shown++) {
      const key = keys[shown]!;
      const row = this.row(key)!;
      const line: Scalar[] = [key];
      for (const column of columns) line.push(toScalar(row[column]));
      bytes += jsonBytes(line);
      if (bytes > options.maxBytes) break;
      values.push(line);
    }
    const cut = keys.length - shown;
    if (cut > 0) values.push(notice(cut, shown < limit ? "Excel's 5 MB limit per result" : `maxRows ${options.maxRows}`));
    return { values, cut };
  }
}

const utf8 = new TextEncoder();

/** A row as Excel receives it: UTF-8 JSON (CJK text is 3 bytes a character, quotes inside text are escaped), and a comma. */
function jsonBytes(line: Scalar[]): number {
  return utf8.encode(JSON.stringify(line)).length + 1;
}
