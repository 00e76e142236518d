// POST /v1/drafts with declared grids, and the console's editor chunk, on a real `aerogrid serve`
// (auth off, loopback) with a real GitOps repo and real Python: the body's grids are checked by the
// server with the form's rules (never trusted), capped, and make files that validate and try.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DRAFT_COLUMNS, MAX_DRAFT_GRIDS } from '@aerogrid/protocol/console-api';
import type { CliProcess } from '../helpers/cli.js';
import { startConsoleServe } from '../helpers/console.js';
import { stopServe } from '../helpers/gitops.js';
import { uniqueName } from '../helpers/wait.js';

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

describe('drafts with declared grids, and the console\'s chunks', () => {
  const tenant = uniqueName('cdr').replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const topic = uniqueName('cdr-orders');
  let serve: CliProcess;
  let base: string;
  const sales = { name: 'sales', key: [{ name: 'product', type: 'str' }], columns: [{ name: 'qty', type: 'int' }] };
  const body = (grids: unknown) => ({ template: 'orders-sum', name: 'shop', tenant, topics: [topic], grids });

  beforeAll(async () => {
    ({ serve, base } = await startConsoleServe('cdr', [tenant], topic));
  }, 120_000);

  afterAll(() => stopServe(serve));

  it('a declared grid is in aerogrid.yaml and app.py writes it: valid, and a try fills it', async () => {
    const draft = await post(`${base}/v1/drafts`, body([sales]));
    expect(draft.status, JSON.stringify(draft.body)).toBe(200);
    expect(draft.body.generated).toBe(true);
    expect(draft.body.grids).toEqual([{ name: 'sales', description: 'one row per product', columns: ['qty'] }]);
    expect(draft.body.yaml).toContain('  grids:\n    - name: sales\n      description: one row per product\n      columns: [qty]\n  replicas: 1');
    expect(draft.body.files['app.py']).toContain("sales_grid[record.product] = {'qty': record.qty}");
    const files = draft.body.files;
    expect((await post(`${base}/v1/validate`, { files })).body).toMatchObject({ valid: true, problems: [] });
    const tried = await post(`${base}/v1/try`, { files, records: '{"product": "tea", "qty": 3}\n{"product": "cake", "qty": 1}\n{"product": "tea", "qty": "lots"}' });
    expect(tried.status, JSON.stringify(tried.body)).toBe(200);
    expect(tried.body.grids.sales.rows).toEqual({ tea: { qty: 3 }, cake: { qty: 1 } });
    expect(tried.body.deadLetters).toMatchObject([{ index: 2, reason: 'validation', message: "field 'qty': expected int, got str 'lots'" }]);
  }, 60_000);

  it('no grids declared (absent or []): the template\'s grids and handler, as before', async () => {
    for (const grids of [undefined, []]) {
      const draft = await post(`${base}/v1/drafts`, body(grids));
      expect(draft.status, JSON.stringify(draft.body)).toBe(200);
      expect(draft.body.generated).toBe(false);
      expect(draft.body.grids).toEqual([{ name: 'product_sum', columns: ['units_sold'] }]);
      expect(draft.body.files['app.py']).toContain("product_sum[order.product] = {'units_sold': units_sold}");
    }
  });

  it('a bad grid name is 422 with the validator\'s message and fix; a bad column, type or shape too', async () => {
    const bad = await post(`${base}/v1/drafts`, body([{ ...sales, name: 'Bad name' }]));
    expect(bad.status).toBe(422);
    expect(bad.body.error).toEqual({
      code: 'invalid',
      message: 'Nothing was created: spec.grids[0].name "Bad name" has a space; grid names may only hold letters, digits, \'_\' and \'-\'.',
      fix: "use 'Bad_name' (grid names start with a letter and hold letters, digits, '_' and '-', at most 63 characters)",
    });
    const column = await post(`${base}/v1/drafts`, body([{ ...sales, columns: [{ name: 'units sold', type: 'int' }] }]));
    expect(column.status).toBe(422);
    expect(column.body.error.message).toContain('column "units sold" of grid \'sales\' has a space');
    const type = await post(`${base}/v1/drafts`, body([{ ...sales, columns: [{ name: 'qty', type: 'money' }] }]));
    expect(type.body.error.message).toContain("the type of 'qty' must be one of str, int, float, bool");
    expect((await post(`${base}/v1/drafts`, body('sales'))).body.error.message).toContain("'grids' must be a list");
    // init's checks of the name come first, as they did.
    const name = await post(`${base}/v1/drafts`, { ...body([{ ...sales, name: 'Bad name' }]), name: 'Shop' });
    expect(name.body.error.message).toMatch(/^Nothing was created: the name 'Shop'/);
  });

  it('caps the grids and columns a draft declares', async () => {
    const grids = Array.from({ length: MAX_DRAFT_GRIDS + 1 }, (_, i) => ({ ...sales, name: `g${i}` }));
    const many = await post(`${base}/v1/drafts`, body(grids));
    expect(many.status).toBe(422);
    expect(many.body.error.message).toContain(`${MAX_DRAFT_GRIDS + 1} grids is more than the ${MAX_DRAFT_GRIDS} the form declares`);
    const columns = Array.from({ length: MAX_DRAFT_COLUMNS + 1 }, (_, i) => ({ name: `c${i}`, type: 'int' }));
    const wide = await post(`${base}/v1/drafts`, body([{ ...sales, columns }]));
    expect(wide.status).toBe(422);
    expect(wide.body.error.message).toContain(`grid 'sales' has ${MAX_DRAFT_COLUMNS + 1} columns; the form declares at most ${MAX_DRAFT_COLUMNS}`);
    expect((await post(`${base}/v1/drafts`, body(grids.slice(0, MAX_DRAFT_GRIDS)))).status).toBe(200);
  });

  it('a try of an app.py that does not load: load_failed with the line and column of the Python error', async () => {
    const { files } = (await post(`${base}/v1/drafts`, body([sales]))).body;
    const lines = (files['app.py'] as string).split('\n');
    const at = lines.findIndex((l) => l.startsWith('source = ')) + 1;
    lines[at - 1] = 'source = app.topic(';
    const syntax = await post(`${base}/v1/try`, { files: { ...files, 'app.py': lines.join('\n') }, records: '' });
    expect(syntax.status).toBe(422);
    expect(syntax.body.error).toMatchObject({ code: 'load_failed', file: 'app.py', line: at, column: 19 });
    expect(syntax.body.error.message).toContain(`app.py:${at}: SyntaxError`);
    // An exception at import: the line in app.py, the column of the failing expression.
    const raising = (files['app.py'] as string).replace("app = aerogrid.App(", "limit = {}['max']\napp = aerogrid.App(");
    const line = raising.split('\n').findIndex((l) => l.startsWith('limit = ')) + 1;
    const raised = await post(`${base}/v1/try`, { files: { ...files, 'app.py': raising }, records: '' });
    expect(raised.body.error).toMatchObject({ code: 'load_failed', file: 'app.py', line, column: 9 });
    expect(raised.body.error.message).toContain("KeyError: 'max'");
  }, 60_000);

  it('serves the console\'s chunks: JavaScript, cached for good, only chunk names', async () => {
    const page = await fetch(`${base}/console.js`);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const text = await page.text();
    // The editor is imported by name from the page's script, not bundled into it.
    const editor = /chunks\/editor-[A-Za-z0-9_-]+\.js/.exec(text)?.[0];
    expect(editor).toBeDefined();
    expect(text).not.toContain('cm-lintRange');
    const chunk = await fetch(`${base}/${editor}`);
    expect(chunk.status).toBe(200);
    expect(chunk.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(chunk.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(chunk.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await chunk.text()).toContain('cm-lintRange');
    expect((await fetch(`${base}/chunks/editor-NOPE.js`)).status).toBe(404);
    expect((await fetch(`${base}/chunks/..%2Fconsole.js`)).status).toBe(404);
  });
});
