/**
 * The grid store: the sidecar's copy of every grid of the app (name → columns, rows by key, seq).
 * It holds committed data only: a batch's rows are applied once its transaction committed (or
 * read from the changelog); the HTTP and WebSocket front ends read from here.
 *
 * `seq` (docs/protocol.md §2): with the changelog, a grid's seq is the changelog offset of the
 * last record that changed it, plus one, so it is the same on every instance and after restarts.
 * Without offsets (commit modes `plain`, `offsets`, tests) it counts changes from `firstSeq`.
 */
import type { Row } from '@aerogrid/protocol/client-messages';
import { GridHistory } from './grid-history.js';

export type { Row };

/** One change of one row, as carried by a runtime `ack`. */
export interface Delta {
  grid: string;
  key: string;
  /** The complete new row; absent when `deleted`. */
  row?: Row;
  deleted?: boolean;
}

export interface GridInfo {
  name: string;
  columns: string[];
  rows: number;
  seq: number;
}

/** Called after a batch changed a grid, with the keys it touched. */
export type GridListener = (grid: Grid, keys: ReadonlySet<string>) => void;

export class DeltaError extends Error {
  override name = 'DeltaError';
}

export class Grid {
  rows = new Map<string, Row>();
  /** The grid's version: grows with every applied change (see the module comment). */
  seq: number;
  readonly listeners = new Set<GridListener>();
  /** Which keys the recent changes touched, for resuming clients. */
  readonly history: GridHistory;

  constructor(
    readonly name: string,
    public columns: string[],
    seq = 0,
    historyKeys = DEFAULT_HISTORY_KEYS,
  ) {
    this.seq = seq;
    this.history = new GridHistory(seq, historyKeys);
  }

  /** Moves to the next seq (`at`: from the changelog), remembers the keys, tells the listeners. */
  changed(keys: ReadonlySet<string>, at?: number): void {
    this.seq = at !== undefined && at > this.seq ? at : this.seq + 1;
    this.history.record(this.seq, keys);
    for (const listener of this.listeners) listener(this, keys);
  }

  info(): GridInfo {
    return { name: this.name, columns: [...this.columns], rows: this.rows.size, seq: this.seq };
  }

  /** All rows as a JSON-ready object (null prototype, so any key is safe), sorted by key. */
  rowsObject(): Record<string, Row> {
    const out = Object.create(null) as Record<string, Row>;
    for (const key of [...this.rows.keys()].sort()) out[key] = this.rows.get(key)!;
    return out;
  }
}

/** Keys of history kept per grid by default. */
export const DEFAULT_HISTORY_KEYS = 100_000;

export interface GridStoreOptions {
  /**
   * Without the changelog's offsets (commit modes `plain` and `offsets`): seqs count from this
   * (the core takes the clock, so that a seq of an earlier process is never taken for one of this).
   */
  countFrom?: number;
  /** Keys of history kept per grid for resuming clients (default 100 000). */
  historyKeys?: number;
}

/** Per delta of a batch, the changelog offset of its record (`first + i`), when known. */
export type ChangelogOffsets = ((i: number) => number) | null;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class GridStore {
  private readonly grids = new Map<string, Grid>();
  private readonly listListeners = new Set<() => void>();
  /**
   * True once a runtime declared its grids (hello): from then on a grid that is not here does
   * not exist. Before that, the grid list is not known yet.
   */
  private known = false;
  private readonly firstSeq: number;
  /** Seqs are changelog offsets (else counted). */
  private readonly durable: boolean;
  private readonly historyKeys: number;

  constructor(options: GridStoreOptions = {}) {
    this.durable = options.countFrom === undefined;
    this.firstSeq = options.countFrom ?? 0;
    this.historyKeys = options.historyKeys ?? DEFAULT_HISTORY_KEYS;
  }

  private newGrid(name: string, columns: string[]): Grid {
    const grid = new Grid(name, [...columns], this.firstSeq, this.historyKeys);
    this.grids.set(name, grid);
    return grid;
  }

  get listKnown(): boolean {
    return this.known;
  }

  /** Marks the grid list as known (a runtime declared its grids). */
  markListKnown(): void {
    if (this.known) return;
    this.known = true;
    this.notifyList();
  }

  /**
   * Declares a grid (from the runtime's hello). A new grid starts empty; an existing grid keeps
   * its rows, and takes the new column list if it changed: its rows then lose the columns no
   * longer declared (a new column stays absent until the row is written; the runtime fills it
   * from the grid's default). Returns what happened.
   */
  declare(name: string, columns: string[]): 'created' | 'unchanged' | 'columns-changed' {
    const existing = this.grids.get(name);
    if (!existing) {
      this.newGrid(name, columns);
      this.notifyList();
      return 'created';
    }
    // Restored rows may be of several versions of the app, whatever the first row's columns were.
    const unchanged = existing.columns.length === columns.length && existing.columns.every((c, i) => c === columns[i]);
    existing.columns = [...columns];
    this.dropUndeclared(existing, existing.rows);
    if (unchanged) return 'unchanged';
    // A client that saw the old columns must not resume from any seq so far.
    existing.history.reset(existing.seq + 1);
    this.notifyList();
    return 'columns-changed';
  }

  /**
   * Removes the columns `grid` does not declare from `rows` (its own, or rows about to become its
   * own), telling its listeners when its own changed. Rows restored from a changelog written by
   * another version of the app (a rollback, a column removed) are thus served in today's shape.
   */
  private dropUndeclared(grid: Grid, rows: Map<string, Row>): void {
    const declared = new Set(grid.columns);
    const keys = new Set<string>();
    for (const [key, row] of rows) {
      if (Object.keys(row).every((c) => declared.has(c))) continue;
      const kept: Row = {};
      for (const column of grid.columns) if (Object.hasOwn(row, column)) kept[column] = row[column];
      rows.set(key, kept);
      keys.add(key);
    }
    if (rows !== grid.rows || keys.size === 0) return;
    grid.changed(keys);
  }

  get(name: string): Grid | undefined {
    return this.grids.get(name);
  }

  names(): string[] {
    return [...this.grids.keys()].sort();
  }

  list(): GridInfo[] {
    return this.names().map((n) => this.grids.get(n)!.info());
  }

  /** Checks a batch's deltas without changing anything; throws a DeltaError naming the problem. */
  validate(deltas: unknown): asserts deltas is Delta[] {
    if (!Array.isArray(deltas)) throw new DeltaError("'deltas' must be a list");
    deltas.forEach((d: unknown, i) => {
      const where = `deltas[${i}]`;
      if (!isPlainObject(d)) throw new DeltaError(`${where} must be an object`);
      if (typeof d.grid !== 'string') throw new DeltaError(`${where}: 'grid' must be a string`);
      const grid = this.grids.get(d.grid);
      if (!grid) throw new DeltaError(`${where}: grid '${d.grid}' was not declared in hello`);
      if (typeof d.key !== 'string') throw new DeltaError(`${where}: 'key' must be a string (grid keys are strings on the wire)`);
      if (d.deleted === true) return;
      if (d.deleted !== undefined && d.deleted !== false) throw new DeltaError(`${where}: 'deleted' must be true or absent`);
      if (!isPlainObject(d.row)) throw new DeltaError(`${where}: 'row' must be an object (or 'deleted': true)`);
      for (const column of grid.columns) {
        if (!Object.hasOwn(d.row, column)) {
          throw new DeltaError(`${where}: row for key '${d.key}' of grid '${d.grid}' lacks column '${column}'`);
        }
      }
      for (const column of Object.keys(d.row)) {
        if (!grid.columns.includes(column)) {
          throw new DeltaError(`${where}: row for key '${d.key}' of grid '${d.grid}' has undeclared column '${column}'`);
        }
      }
    });
  }

  /**
   * Applies one batch's deltas (validated first: all or nothing). Each grid the batch changed gets
   * seq + 1 and its listeners are told which keys changed. Returns the names of the changed grids.
   */
  apply(deltas: unknown): string[] {
    this.validate(deltas);
    return this.applyValidated(deltas);
  }

  /**
   * Applies rows another instance committed (a standby following the changelog): as `apply`, but
   * the rows are taken as the changelog holds them, and a grid not declared yet is created with
   * the columns of its first row (as `replaceAll` does).
   */
  applyCommitted(deltas: Delta[], offsets: ChangelogOffsets = null): string[] {
    for (const d of deltas) {
      if (!this.grids.has(d.grid)) this.declare(d.grid, Object.keys(d.row ?? {}));
    }
    return this.applyValidated(deltas, offsets);
  }

  /**
   * Applies committed deltas that `validate` accepted (the ack's, checked once); with `offsets`,
   * each grid's seq becomes its last record's changelog offset + 1.
   */
  applyValidated(deltas: Delta[], offsets: ChangelogOffsets = null): string[] {
    const touched = new Map<Grid, { keys: Set<string>; at: number | undefined }>();
    deltas.forEach((d, i) => {
      const grid = this.grids.get(d.grid)!;
      if (d.deleted === true) grid.rows.delete(d.key);
      else grid.rows.set(d.key, d.row!);
      let t = touched.get(grid);
      if (!t) touched.set(grid, (t = { keys: new Set(), at: undefined }));
      t.keys.add(d.key);
      if (offsets) t.at = offsets(i) + 1;
    });
    for (const [grid, { keys, at }] of touched) grid.changed(keys, this.durable ? at : undefined);
    return [...touched.keys()].map((g) => g.name);
  }

  /**
   * Makes the store equal to `state` (grid → key → row), e.g. after reading the changelog. Grids
   * not declared yet are created with the columns of their first row. The differences are applied
   * like one batch: each grid that changed gets seq + 1 and its listeners are told which keys
   * changed. Rows are taken as they are until a runtime declared the grids (the changelog may hold rows
   * of another version of the app), then without the columns the grid no longer declares. The maps in `state` may become the grids' own. Returns the number
   * of rows.
   */
  replaceAll(state: Map<string, Map<string, Row>>, seqs?: ReadonlyMap<string, number>): number {
    let rows = 0;
    // New grids are told about once their rows are in: a subscription waiting for the grid must
    // get the restored rows as its snapshot, not an empty grid and then every row as a delta.
    let created = false;
    for (const [name, wanted] of state) {
      if (!this.grids.has(name) && wanted.size > 0) {
        const first = wanted.values().next().value as Row;
        this.newGrid(name, Object.keys(first));
        created = true;
      }
    }
    for (const grid of this.grids.values()) {
      const wanted = state.get(grid.name) ?? new Map<string, Row>();
      const at = this.durable ? seqs?.get(grid.name) : undefined;
      // Once a runtime declared the columns, restored rows take that shape.
      if (this.known) this.dropUndeclared(grid, wanted);
      if (grid.rows.size === 0) {
        // The usual restore into an empty grid: take the rows as they are.
        rows += wanted.size;
        if (wanted.size === 0) continue;
        grid.rows = wanted;
        grid.seq = at !== undefined && at > grid.seq ? at : grid.seq + 1;
        // Every row is new: there is nothing to resume from before this.
        grid.history.reset(grid.seq);
        if (grid.listeners.size > 0) {
          const keys = new Set(wanted.keys());
          for (const listener of grid.listeners) listener(grid, keys);
        }
        continue;
      }
      const keys = new Set<string>();
      for (const key of grid.rows.keys()) if (!wanted.has(key)) keys.add(key);
      for (const [key, row] of wanted) {
        const cur = grid.rows.get(key);
        if (cur === undefined || JSON.stringify(cur) !== JSON.stringify(row)) keys.add(key);
      }
      rows += wanted.size;
      if (keys.size === 0) continue;
      for (const key of keys) {
        const row = wanted.get(key);
        if (row === undefined) grid.rows.delete(key);
        else grid.rows.set(key, row);
      }
      grid.changed(keys, at);
    }
    if (created) this.notifyList();
    return rows;
  }

  /** grid → key → row, for the runtime's welcome. */
  snapshot(): Record<string, Record<string, Row>> {
    const out = Object.create(null) as Record<string, Record<string, Row>>;
    for (const name of this.names()) out[name] = this.grids.get(name)!.rowsObject();
    return out;
  }

  /** Listens to the changes of one grid; returns the function that stops listening. */
  listen(name: string, listener: GridListener): () => void {
    const grid = this.grids.get(name);
    if (!grid) throw new Error(`no grid '${name}'`);
    grid.listeners.add(listener);
    return () => grid.listeners.delete(listener);
  }

  /** Listens to changes of the grid list (a grid declared, or its columns changed). */
  onListChange(listener: () => void): () => void {
    this.listListeners.add(listener);
    return () => this.listListeners.delete(listener);
  }

  private notifyList(): void {
    for (const l of this.listListeners) l();
  }
}
