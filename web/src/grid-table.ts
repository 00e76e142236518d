// The live table of one grid, for the console and the viewer: the grid's box (a heading with the
// row count and seq, the table, a note) over the protocol's grid view, the same one the add-in's
// cells keep, fed `snapshot`, `delta` and `resumed` messages (docs/protocol.md §2). Deltas
// re-render at most once a frame and touch only the rows they changed; changed cells flash. Boxes,
// rows and cells carry data-grid, data-key and data-column.
import type { DeltaMessage, ResumedMessage, SnapshotMessage } from '@aerogrid/protocol/client-messages';
import { GridView } from '@aerogrid/protocol/grid-view';

const MAX_ROWS = 2000;

export const collator = GridView.collator;

function fmt(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function make<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  return node;
}

export interface GridTableOptions {
  tag: 'section' | 'div';
  className?: string;
  heading: 'h2' | 'h3';
}

export class GridTable {
  readonly box: HTMLElement;
  readonly data = new GridView();
  /** Whether it holds a grid, whose `data.seq` a reconnecting page sends to resume. */
  loaded = false;
  /** The page's subscription id for it (null: not subscribed on the current socket). */
  subId: string | null = null;
  private readonly meta: HTMLElement;
  private readonly thead: HTMLElement;
  private readonly tbody: HTMLElement;
  private readonly note: HTMLElement;
  private keys: readonly string[] | null = null;
  private trs = new Map<string, HTMLTableRowElement>();
  private readonly changed = new Set<string>();
  private scheduled = false;
  private fresh = true;

  constructor(readonly name: string, options: GridTableOptions) {
    this.box = make(options.tag, options.className);
    this.box.dataset.grid = name;
    const heading = make(options.heading);
    const title = make('span');
    title.textContent = name;
    this.meta = make('span', 'meta');
    heading.append(title, this.meta);
    const scroll = make('div', 'scroll');
    const table = make('table', 'grid-table');
    this.thead = make('thead');
    this.tbody = make('tbody');
    table.append(this.thead, this.tbody);
    scroll.append(table);
    this.note = make('div', 'note');
    this.box.append(heading, scroll, this.note);
  }

  snapshot(msg: Pick<SnapshotMessage, 'columns' | 'seq' | 'rows'>): void {
    this.loaded = true;
    this.data.applySnapshot(msg);
    this.trs = new Map();
    this.tbody.replaceChildren();
    this.fresh = true;
    this.renderHead();
    this.render();
  }

  resumed(msg: ResumedMessage): void {
    const columns = this.data.columns.join('\u0000');
    this.data.applyResumed(msg);
    if (this.data.columns.join('\u0000') !== columns) return this.snapshot({ columns: msg.columns, seq: msg.seq, rows: this.data.toObject() });
    this.changedRows(msg);
  }

  delta(msg: DeltaMessage): void {
    this.data.applyDelta(msg);
    this.changedRows(msg);
  }

  private changedRows(msg: { upserts?: Record<string, unknown> }): void {
    for (const k of Object.keys(msg.upserts ?? {})) this.changed.add(k);
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  private renderHead(): void {
    const tr = make('tr');
    ['key', ...this.data.columns].forEach((c, i) => {
      const th = make('th', i === 0 ? 'key' : '');
      th.textContent = c;
      tr.append(th);
    });
    this.thead.replaceChildren(tr);
  }

  private render(): void {
    const keys = this.data.keys();
    // The grid view hands out a new array only when the set of keys changed.
    const keysChanged = keys !== this.keys;
    this.keys = keys;
    const columns = this.data.columns;
    const visible = keys.length > MAX_ROWS ? keys.slice(0, MAX_ROWS) : keys;
    const flash = !this.fresh;
    for (const key of visible) {
      const row = this.data.row(key) ?? {};
      let tr = this.trs.get(key);
      const isNew = !tr;
      if (!tr) {
        tr = make('tr');
        tr.dataset.key = key;
        const k = make('td', 'key');
        k.textContent = key;
        tr.append(k);
        for (const c of columns) {
          const td = make('td');
          td.dataset.column = c;
          tr.append(td);
        }
        this.trs.set(key, tr);
      }
      if (!isNew && !this.changed.has(key)) continue;
      columns.forEach((c, i) => {
        const td = tr.children[i + 1] as HTMLElement;
        const text = fmt(row[c]);
        if (td.textContent === text && !isNew) return;
        td.textContent = text;
        td.className = typeof row[c] === 'number' ? 'num' : '';
        if (flash) {
          void td.offsetWidth; // restarts the animation of a cell that flashes again
          td.classList.add('flash');
        }
      });
    }
    if (keysChanged) {
      const keep = new Set(visible);
      for (const [key, tr] of this.trs) {
        if (!keep.has(key)) {
          tr.remove();
          this.trs.delete(key);
        }
      }
      const current = this.tbody.children;
      let inOrder = current.length === visible.length;
      for (let i = 0; inOrder && i < visible.length; i++) inOrder = current[i] === this.trs.get(visible[i]!);
      if (!inOrder) {
        const frag = document.createDocumentFragment();
        for (const key of visible) frag.append(this.trs.get(key)!);
        this.tbody.replaceChildren(frag);
      }
    }
    this.changed.clear();
    this.fresh = false;
    const n = keys.length;
    this.meta.textContent = `${n}${n === 1 ? ' row' : ' rows'} · seq ${this.data.seq}`;
    this.note.textContent = n > MAX_ROWS ? `showing the first ${MAX_ROWS} of ${n} rows, sorted by key` : n === 0 ? 'no rows yet' : '';
    this.note.hidden = this.note.textContent === '';
  }
}

/** Puts a table into its parent in name order, before the table of the next name. */
export function placeInOrder(parent: HTMLElement, tables: Map<string, GridTable>, table: GridTable): void {
  const names = [...tables.keys()].sort(collator.compare);
  const next = tables.get(names[names.indexOf(table.name) + 1]!);
  parent.insertBefore(table.box, next ? next.box : null);
}
