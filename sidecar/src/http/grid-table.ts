/**
 * The live table of one grid, shared by the pages the servers serve (the sidecar's viewer, the
 * console of `aerogrid serve`): a browser script defining `AeroGridTable.create(name, options)`,
 * which builds the grid's box (a heading with the row count and seq, the table, a note) and applies
 * `snapshot`, `delta` and `resumed` messages (docs/protocol.md §2) to the protocol's grid view
 * (`AeroGridView`, embedded before it). Deltas re-render at most once a frame and touch only the
 * rows they changed; changed cells flash. Boxes, rows and cells carry data-grid, data-key and
 * data-column. `view.loaded` tells whether it holds a grid, whose `view.data.seq` a reconnecting
 * page sends to resume.
 */
import { GRID_VIEW_JS } from '@aerogrid/protocol/grid-view';

export const GRID_TABLE_JS = `
${GRID_VIEW_JS}
var AeroGridTable = (function () {
  var MAX_ROWS = 2000;

  function fmt(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }
  function make(tag, cls) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    return node;
  }

  function renderHead(view) {
    var tr = make('tr');
    ['key'].concat(view.data.columns).forEach(function (c, i) {
      var th = make('th', i === 0 ? 'key' : '');
      th.textContent = c;
      tr.append(th);
    });
    view.thead.replaceChildren(tr);
  }

  function render(view) {
    var keys = view.data.keys();
    // The grid view hands out a new array only when the set of keys changed.
    var keysChanged = keys !== view.keys;
    view.keys = keys;
    var columns = view.data.columns;
    var visible = keys.length > MAX_ROWS ? keys.slice(0, MAX_ROWS) : keys;
    var flash = !view.fresh;
    visible.forEach(function (key) {
      var row = view.data.row(key);
      var tr = view.trs.get(key);
      var isNew = !tr;
      if (isNew) {
        tr = make('tr');
        tr.dataset.key = key;
        var k = make('td', 'key');
        k.textContent = key;
        tr.append(k);
        columns.forEach(function (c) { var td = make('td'); td.dataset.column = c; tr.append(td); });
        view.trs.set(key, tr);
      }
      if (!isNew && !view.changed.has(key)) return;
      columns.forEach(function (c, i) {
        var td = tr.children[i + 1];
        var text = fmt(row[c]);
        if (td.textContent === text && !isNew) return;
        td.textContent = text;
        td.className = typeof row[c] === 'number' ? 'num' : '';
        if (flash) { void td.offsetWidth; td.classList.add('flash'); }
      });
    });
    if (keysChanged) {
      var keep = new Set(visible);
      view.trs.forEach(function (tr, key) { if (!keep.has(key)) { tr.remove(); view.trs.delete(key); } });
      var current = view.tbody.children;
      var inOrder = current.length === visible.length;
      for (var i = 0; inOrder && i < visible.length; i++) inOrder = current[i] === view.trs.get(visible[i]);
      if (!inOrder) {
        var frag = document.createDocumentFragment();
        visible.forEach(function (key) { frag.append(view.trs.get(key)); });
        view.tbody.replaceChildren(frag);
      }
    }
    view.changed.clear();
    view.fresh = false;
    var n = keys.length;
    view.meta.textContent = n + (n === 1 ? ' row' : ' rows') + ' \\u00b7 seq ' + view.data.seq;
    view.note.textContent = n > MAX_ROWS ? 'showing the first ' + MAX_ROWS + ' of ' + n + ' rows, sorted by key' :
      (n === 0 ? 'no rows yet' : '');
    view.note.hidden = view.note.textContent === '';
  }

  /** options: tag (the box's element), className (optional), heading ('h2', 'h3'). */
  function create(name, options) {
    var box = make(options.tag, options.className);
    box.dataset.grid = name;
    var heading = make(options.heading);
    var title = make('span');
    title.textContent = name;
    var meta = make('span', 'meta');
    heading.append(title, meta);
    var scroll = make('div', 'scroll');
    var table = make('table', 'grid-table');
    var thead = make('thead');
    var tbody = make('tbody');
    table.append(thead, tbody);
    scroll.append(table);
    var note = make('div', 'note');
    box.append(heading, scroll, note);
    var view = { name: name, box: box, meta: meta, thead: thead, tbody: tbody, note: note,
                 data: new AeroGridView(), keys: null, trs: new Map(),
                 changed: new Set(), scheduled: false, fresh: true, loaded: false };
    view.snapshot = function (msg) {
      view.loaded = true;
      view.data.applySnapshot(msg);
      view.trs = new Map();
      view.tbody.replaceChildren();
      view.fresh = true;
      renderHead(view);
      render(view);
    };
    view.resumed = function (msg) {
      var columns = view.data.columns.join('\u0000');
      view.data.applyResumed(msg);
      if (view.data.columns.join('\u0000') !== columns) return view.snapshot({ columns: msg.columns, seq: msg.seq, rows: view.data.toObject() });
      view.delta(msg, true);
    };
    view.delta = function (msg, applied) {
      if (!applied) view.data.applyDelta(msg);
      Object.keys(msg.upserts).forEach(function (k) { view.changed.add(k); });
      if (view.scheduled) return;
      view.scheduled = true;
      requestAnimationFrame(function () { view.scheduled = false; render(view); });
    };
    return view;
  }

  return { create: create, collator: AeroGridView.collator };
})();
`;
