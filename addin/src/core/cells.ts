// What each function puts in its cell, from the shared feeds: a grid table, one value, the app
// list, or #N/A with the reason (made by `error`, so this module needs nothing from Office).
import { formula } from '@aerogrid/protocol/excel-functions';
import type { GridState } from './app-connection.js';
import type { AeroGridClient } from './client.js';
import { Conflator } from './conflator.js';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS, toScalar, type Scalar } from './grid-view.js';
import { cellMessage, clockTime } from './status-text.js';

export interface CellSink {
  setResult(value: unknown): void;
  /** An error value (#N/A) carrying the message Excel shows on the cell. */
  error(message: string): unknown;
}

/** Each cell is updated at most this often (Excel itself throttles add-ins that update faster). */
export const UPDATE_INTERVAL_MS = 100;
/** Excel shows at most this much of an error's message. */
const MAX_MESSAGE = 255;
/** An Excel sheet has 1,048,576 rows; one is the header. */
const MAX_SHEET_ROWS = 1_048_575;

type Rendered = { value: unknown } | { error: string };

function conflate(sink: CellSink, render: () => Rendered): Conflator<Rendered> {
  return new Conflator(render, (r) => sink.setResult('error' in r ? sink.error(r.error.slice(0, MAX_MESSAGE)) : r.value), UPDATE_INTERVAL_MS);
}

/** Text args arrive as null when omitted, and as numbers when the user typed one. */
function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value).trim();
}

export function parseColumns(value: unknown): string[] {
  return text(value).split(',').map((c) => c.trim()).filter(Boolean);
}

export function parseMaxRows(value: unknown): number {
  if (value === null || value === undefined || value === '') return DEFAULT_MAX_ROWS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`maxRows must be a whole number of 1 or more, not ${JSON.stringify(value)}`);
  if (n > MAX_SHEET_ROWS) throw new Error(`maxRows must be at most ${MAX_SHEET_ROWS} (the rows of a sheet under the header), not ${n}`);
  return n;
}

function required(name: string, value: unknown, example: string): string {
  const t = text(value);
  if (!t) throw new Error(`${name} is empty: e.g. ${example}`);
  return t;
}

/** The reason a grid cell cannot show data now, or null. */
function problem(app: string, grid: string, state: GridState): string | null {
  if (state.error) return state.error;
  const message = cellMessage(app, state.phase);
  if (message) return message;
  if (!state.view) return `waiting for grid '${grid}' of '${app}'`;
  return null;
}

/** Starts a cell; returns its stop (the cell was deleted or its formula changed). */
function start(sink: CellSink, setup: (render: (fn: () => Rendered) => Conflator<Rendered>) => () => void): () => void {
  try {
    return setup((fn) => conflate(sink, fn));
  } catch (error) {
    sink.setResult(sink.error(error instanceof Error ? error.message : String(error)));
    return () => {};
  }
}

export function gridCell(client: AeroGridClient, args: { app: unknown; grid: unknown; columns?: unknown; maxRows?: unknown }, sink: CellSink): () => void {
  return start(sink, (conflator) => {
    const example = formula('grid', 'ordersapp', 'product_sum');
    const app = required('app', args.app, example);
    const grid = required('grid', args.grid, example);
    const columns = parseColumns(args.columns);
    const maxRows = parseMaxRows(args.maxRows);
    let state: GridState | null = null;
    const cell = conflator(() => {
      const why = state ? problem(app, grid, state) : `connecting to '${app}'`;
      if (why) return { error: why };
      try {
        state!.view!.checkColumns(columns, grid);
      } catch (error) {
        return { error: (error as Error).message };
      }
      return { value: state!.view!.toTable({ columns, maxRows, maxBytes: DEFAULT_MAX_BYTES }).values };
    });
    const release = client.subscribe(app, grid, (s) => { state = s; cell.push(); });
    return () => { cell.close(); release(); };
  });
}

export function valueCell(client: AeroGridClient, args: { app: unknown; grid: unknown; key: unknown; column: unknown }, sink: CellSink): () => void {
  return start(sink, (conflator) => {
    const example = formula('value', 'ordersapp', 'product_sum', 'How to...', 'units_sold');
    const app = required('app', args.app, example);
    const grid = required('grid', args.grid, example);
    const key = required('key', args.key, example);
    const column = required('column', args.column, example);
    let state: GridState | null = null;
    const cell = conflator(() => {
      const why = state ? problem(app, grid, state) : `connecting to '${app}'`;
      if (why) return { error: why };
      const view = state!.view!;
      try {
        view.checkColumns([column], grid);
      } catch (error) {
        return { error: (error as Error).message };
      }
      const row = view.row(key);
      if (!row) return { error: `no key '${key}' in grid '${grid}' (yet)` };
      return { value: toScalar(row[column]) };
    });
    const release = client.subscribe(app, grid, (s) => { state = s; cell.push(); });
    return () => { cell.close(); release(); };
  });
}

export const APPS_HEADER = ['app', 'tenant', 'status', 'ready', 'grids', 'message'];

export function appsCell(client: AeroGridClient, sink: CellSink): () => void {
  return start(sink, (conflator) => {
    let release: () => void = () => {};
    let rows: Scalar[][] | null = null;
    let why: string | null = 'connecting';
    const cell = conflator(() => (why ? { error: why } : { value: [APPS_HEADER, ...rows!] }));
    const watch = () => {
      release();
      const feed = client.apps();
      if (!feed) {
        why = 'no platform URL yet: open the AeroGrid task pane and enter it';
        cell.push();
        release = () => {};
        return;
      }
      release = feed.watch((state) => {
        why = state.problem ? `app list: ${state.problem}` : null;
        rows = state.apps.map((a) => [
          a.name, a.tenant,
          a.stale_since ? `stale since ${clockTime(a.stale_since)}` : a.status,
          a.ready, a.grids.map((g) => g.name).join(', '), a.message ?? '',
        ]);
        cell.push();
      });
    };
    watch();
    const unlisten = client.onConfigChange(watch);
    return () => { cell.close(); unlisten(); release(); };
  });
}
