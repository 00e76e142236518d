/**
 * The viewer page's built script (web/src/viewer, bundled into sidecar/dist/viewer), run against a
 * minimal DOM and a scripted WebSocket, where every step can be driven by hand: it subscribes to
 * every grid, renders sorted tables, applies deltas, highlights changed cells, shows status and
 * reconnects. The browser suites (test/e2e/viewer-*browser.test.ts) run it in Chromium.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import vm from 'node:vm';
import { packageRoot } from '../../../src/paths.js';

class Node_ {
  children: Node_[] = [];
  parent: Node_ | null = null;
  className = '';
  hidden = false;
  offsetWidth = 0;
  text = '';
  dataset: Record<string, string> = {};
  constructor(
    readonly tagName: string,
    readonly id = '',
  ) {}
  get classList() {
    return {
      add: (c: string) => {
        if (!this.className.split(' ').includes(c)) this.className = (this.className + ' ' + c).trim();
      },
      remove: (c: string) => {
        this.className = this.className.split(' ').filter((x) => x !== c).join(' ');
      },
    };
  }
  get textContent(): string {
    return this.tagName === '#text' ? this.text : this.children.map((c) => c.textContent).join('');
  }
  set textContent(v: string) {
    if (this.tagName === '#text') this.text = v;
    else this.replaceChildren(text(v));
  }
  get firstChild(): Node_ | null {
    return this.children[0] ?? null;
  }
  get lastElementChild(): Node_ | null {
    return [...this.children].reverse().find((c) => c.tagName !== '#text') ?? null;
  }
  private adopt(n: Node_): Node_[] {
    if (n.tagName === '#fragment') {
      const kids = n.children;
      n.children = [];
      return kids.flatMap((k) => this.adopt(k));
    }
    n.remove();
    n.parent = this;
    return [n];
  }
  append(...nodes: Node_[]) {
    for (const n of nodes) this.children.push(...this.adopt(n));
  }
  insertBefore(n: Node_, ref: Node_ | null) {
    const adopted = this.adopt(n);
    const i = ref ? this.children.indexOf(ref) : -1;
    if (i < 0) this.children.push(...adopted);
    else this.children.splice(i, 0, ...adopted);
  }
  replaceChildren(...nodes: Node_[]) {
    for (const c of this.children) c.parent = null;
    this.children = [];
    this.append(...nodes);
  }
  remove() {
    if (this.parent) this.parent.children.splice(this.parent.children.indexOf(this), 1);
    this.parent = null;
  }
  find(pred: (n: Node_) => boolean): Node_[] {
    return this.children.flatMap((c) => (pred(c) ? [c, ...c.find(pred)] : c.find(pred)));
  }
}

function text(v: string): Node_ {
  const t = new Node_('#text');
  t.text = v;
  return t;
}

function el(tag: string, id = '', ...kids: Node_[]): Node_ {
  const n = new Node_(tag, id);
  n.append(...kids);
  return n;
}

function setup() {
  const body = el('body', '',
    el('h1', 'title', text('AeroGrid '), el('small', 'tenant')),
    el('span', 'state', el('span'), el('span', 'state-text', text('connecting'))),
    el('span', 'message'),
    el('span', 'conn', el('span'), el('span', 'conn-text', text('connecting'))),
    el('main', 'grids', el('div', 'no-grids')),
  );
  const byId = (id: string) => (body.find((n) => n.id === id)[0] ?? null) as Node_;
  const sockets: FakeSocket[] = [];
  const timers: (() => void)[] = [];
  const frames: (() => void)[] = [];
  class FakeSocket {
    readyState = 0;
    sent: Record<string, unknown>[] = [];
    onopen: (() => void) | null = null;
    onmessage: ((e: { data: string }) => void) | null = null;
    onclose: (() => void) | null = null;
    constructor(
      readonly url: string,
      readonly protocol: string,
    ) {
      sockets.push(this);
    }
    send(s: string) {
      this.sent.push(JSON.parse(s));
    }
    open() {
      this.readyState = 1;
      this.onopen?.();
    }
    receive(msg: object) {
      this.onmessage?.({ data: JSON.stringify(msg) });
    }
    drop() {
      this.readyState = 3;
      this.onclose?.();
    }
  }
  const doc = {
    title: '',
    getElementById: byId,
    // The page's aerogrid-auth meta tag is absent: auth off.
    querySelector: () => null,
    createElement: (tag: string) => new Node_(tag),
    createDocumentFragment: () => new Node_('#fragment'),
  };
  const context = vm.createContext({
    document: doc,
    location: { protocol: 'http:', host: '127.0.0.1:7070' },
    WebSocket: FakeSocket,
    Intl,
    JSON,
    Math,
    Object,
    Array,
    Map,
    Set,
    String,
    console,
    requestAnimationFrame: (f: () => void) => frames.push(f),
    setTimeout: (f: () => void) => timers.push(f),
  });
  const script = readFileSync(join(packageRoot, 'sidecar', 'dist', 'viewer', 'viewer.js'), 'utf8');
  vm.runInContext(script, context);
  const flushFrames = () => {
    for (const f of frames.splice(0)) f();
  };
  return { byId, doc, sockets, timers, flushFrames };
}

function table(section: Node_): string[][] {
  const rows = section.find((n) => n.tagName === 'tr');
  return rows.map((tr) => tr.children.map((c) => c.textContent));
}

describe('viewer page', () => {
  it('subscribes to every grid, renders sorted tables, applies deltas with highlights, and reconnects', () => {
    const { byId, doc, sockets, timers, flushFrames } = setup();
    const ws = sockets[0]!;
    expect(ws.url).toBe('ws://127.0.0.1:7070/v1/ws');
    expect(ws.protocol).toBe('aerogrid.v1');
    ws.open();
    expect(byId('conn').textContent).toContain('connected');
    ws.receive({
      type: 'hello',
      protocol: 'aerogrid.v1',
      app: 'ordersapp',
      tenant: 'default',
      grids: [{ name: 'product_sum', columns: ['units_sold'], rows: 2 }],
      status: { state: 'running', message: null },
    });
    expect(doc.title).toBe('ordersapp · AeroGrid');
    expect(byId('state').textContent).toBe('running');
    expect(ws.sent).toEqual([{ op: 'subscribe', id: 's1', grid: 'product_sum' }]);
    ws.receive({
      type: 'snapshot',
      id: 's1',
      grid: 'product_sum',
      columns: ['units_sold'],
      seq: 3,
      rows: { 'book 10': { units_sold: 10 }, 'book 2': { units_sold: 2 } },
    });
    const section = byId('grids').children.find((c) => c.tagName === 'section')!;
    expect(table(section)).toEqual([
      ['key', 'units_sold'],
      ['book 2', '2'],
      ['book 10', '10'],
    ]);
    expect(section.find((n) => n.className.includes('flash'))).toEqual([]);

    ws.receive({ type: 'delta', id: 's1', grid: 'product_sum', seq: 5, upserts: { 'book 10': { units_sold: 11 }, 'a book': { units_sold: 1 } }, deletes: ['book 2'] });
    flushFrames();
    expect(table(section)).toEqual([
      ['key', 'units_sold'],
      ['a book', '1'],
      ['book 10', '11'],
    ]);
    const flashed = section.find((n) => n.className.includes('flash')).map((n) => n.textContent);
    expect(flashed.sort()).toEqual(['1', '11']);
    expect(section.textContent).toContain('2 rows · seq 5');

    // A grid that appears later (status carries the grid list) gets subscribed too.
    ws.receive({ type: 'status', state: 'waiting', message: 'waiting for the runtime to reconnect', grids: [{ name: 'product_sum' }, { name: 'late' }] });
    expect(byId('message').textContent).toBe('waiting for the runtime to reconnect');
    expect(ws.sent.at(-1)).toEqual({ op: 'subscribe', id: 's2', grid: 'late' });

    // Lost connection: shows it, reconnects after a backoff, resubscribes.
    ws.drop();
    expect(byId('conn').textContent).toMatch(/disconnected · retrying in 0.5 s/);
    timers.shift()!();
    const again = sockets[1]!;
    again.open();
    again.receive({ type: 'hello', app: 'ordersapp', tenant: 'default', grids: [{ name: 'late' }, { name: 'product_sum' }], status: { state: 'running', message: null } });
    expect(again.sent.map((m) => m.grid).sort()).toEqual(['late', 'product_sum']);
  });
});
