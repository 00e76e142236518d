// The grids of the New app form: a list of grids, each a name, the record fields its row key is
// made of and its columns, each field a name and a type, rows added and removed. Every name is
// checked as it is typed with the rules the server checks the draft with
// (@aerogrid/protocol/draft-grids: the validator's grid-name rule and message, the caps).
import { MAX_DRAFT_COLUMNS, MAX_DRAFT_GRIDS, MAX_DRAFT_KEY_FIELDS } from '@aerogrid/protocol/console-api';
import { DRAFT_COLUMN_TYPES, draftGridProblems, type DraftColumnType, type DraftField, type DraftGrid, type DraftGridProblem } from '@aerogrid/protocol/draft-grids';
import { el } from '../dom.js';

type Part = 'key' | 'columns';
const PART_TITLE: Record<Part, string> = { key: 'Key', columns: 'Columns' };
const PART_ADD: Record<Part, string> = { key: 'Add a key field', columns: 'Add a column' };
const PART_MAX: Record<Part, number> = { key: MAX_DRAFT_KEY_FIELDS, columns: MAX_DRAFT_COLUMNS };

export class GridsForm {
  private list: DraftGrid[] = [];
  private problems: DraftGridProblem[] = [];

  /** `changed`: after every edit (the draft's preview follows it). */
  constructor(private readonly box: HTMLElement, private readonly changed: () => void) {
    this.render();
  }

  /** The declared grids (none: the template's). */
  grids(): DraftGrid[] {
    return this.list.map((g) => ({ name: g.name, key: g.key.map((f) => ({ ...f })), columns: g.columns.map((f) => ({ ...f })) }));
  }

  valid(): boolean {
    return this.problems.length === 0;
  }

  private edit(): void {
    this.check();
    this.changed();
  }

  private check(): void {
    this.problems = this.list.length ? draftGridProblems(this.list) : [];
    // A problem is shown at the input or list it is about; a name not typed yet is not scolded
    // (Create stays disabled all the same).
    for (const out of this.box.querySelectorAll<HTMLElement>('[data-problem]')) {
      const path = out.dataset.problem!;
      const input = this.box.querySelector<HTMLInputElement>(`input[data-path="${path}"]`);
      const found = input && input.value === '' ? [] : this.problems.filter((p) => p.path === path);
      out.textContent = found.map((p) => (p.fix ? `${p.message}; fix: ${p.fix}` : p.message)).join('\n');
      out.hidden = found.length === 0;
    }
  }

  private render(): void {
    const parts: HTMLElement[] = this.list.map((grid, i) => this.gridBox(grid, i));
    const add = el('button', '', 'Add a grid');
    add.type = 'button';
    add.id = 'draft-add-grid';
    add.disabled = this.list.length >= MAX_DRAFT_GRIDS;
    add.title = add.disabled ? `at most ${MAX_DRAFT_GRIDS} grids here; add more to the files after` : '';
    add.addEventListener('click', () => {
      this.list.push({ name: '', key: [{ name: '', type: 'str' }], columns: [{ name: '', type: 'str' }] });
      this.render();
      this.edit();
      this.box.querySelector<HTMLInputElement>(`input[data-path="grids[${this.list.length - 1}].name"]`)?.focus();
    });
    const all = problemOut('grids');
    const hint = el('p', 'muted', this.list.length ? '' : 'None declared: the template\'s grids and app.py.');
    hint.hidden = this.list.length > 0;
    this.box.replaceChildren(...parts, all, hint, add);
    this.check();
  }

  private gridBox(grid: DraftGrid, i: number): HTMLElement {
    const box = el('fieldset', 'draft-grid');
    box.dataset.grid = String(i);
    const legend = el('legend', '', `Grid ${i + 1}`);
    const name = input(`grids[${i}].name`, grid.name, 'grid name', 'sales');
    name.addEventListener('input', () => {
      grid.name = name.value;
      this.edit();
    });
    const remove = el('button', '', 'Remove grid');
    remove.type = 'button';
    remove.className = 'remove-grid';
    remove.addEventListener('click', () => {
      this.list.splice(i, 1);
      this.render();
      this.edit();
    });
    const label = el('label', '', 'Name ');
    label.append(name);
    box.append(legend, label, remove, problemOut(`grids[${i}].name`), this.fields(grid, i, 'key'), this.fields(grid, i, 'columns'));
    return box;
  }

  private fields(grid: DraftGrid, i: number, part: Part): HTMLElement {
    const box = el('div', `draft-fields ${part}`);
    const at = `grids[${i}].${part}`;
    box.append(el('div', 'muted', part === 'key' ? 'Key: the record fields that pick its row' : 'Columns: the record fields each row shows'));
    grid[part].forEach((field: DraftField, j) => {
      const row = el('div', 'draft-field');
      row.dataset.field = `${part}-${j}`;
      const name = input(`${at}[${j}].name`, field.name, `${PART_TITLE[part].toLowerCase()} ${j + 1} name`, part === 'key' ? 'product' : 'qty');
      name.addEventListener('input', () => {
        field.name = name.value;
        this.edit();
      });
      const type = el('select');
      type.dataset.path = `${at}[${j}].type`;
      type.setAttribute('aria-label', `${PART_TITLE[part].toLowerCase()} ${j + 1} type`);
      for (const t of DRAFT_COLUMN_TYPES) {
        const option = el('option', '', t);
        option.value = t;
        type.append(option);
      }
      type.value = field.type;
      type.addEventListener('change', () => {
        field.type = type.value as DraftColumnType;
        this.edit();
      });
      const remove = el('button', '', 'Remove');
      remove.type = 'button';
      remove.disabled = grid[part].length <= 1;
      remove.addEventListener('click', () => {
        grid[part].splice(j, 1);
        this.render();
        this.edit();
      });
      row.append(name, type, remove);
      box.append(row, problemOut(`${at}[${j}].name`), problemOut(`${at}[${j}].type`));
    });
    const add = el('button', '', PART_ADD[part]);
    add.type = 'button';
    add.className = `add-${part}`;
    add.disabled = grid[part].length >= PART_MAX[part];
    add.addEventListener('click', () => {
      grid[part].push({ name: '', type: 'str' });
      this.render();
      this.edit();
      this.box.querySelector<HTMLInputElement>(`input[data-path="${at}[${grid[part].length - 1}].name"]`)?.focus();
    });
    box.append(problemOut(at), add);
    return box;
  }
}

function input(path: string, value: string, label: string, placeholder: string): HTMLInputElement {
  const i = el('input');
  i.dataset.path = path;
  i.value = value;
  i.spellcheck = false;
  i.placeholder = placeholder;
  i.setAttribute('aria-label', label);
  return i;
}

function problemOut(path: string): HTMLElement {
  const p = el('p', 'problem');
  p.dataset.problem = path;
  p.setAttribute('role', 'status');
  p.hidden = true;
  return p;
}
