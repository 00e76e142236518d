// The add-in's Office-free core on its own (the browser suites run it against real servers):
// PKCE against RFC 7636's example, the per-cell update bound, the size cut, and the cell texts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay } from '../../addin/src/core/backoff.js';
import { parseColumns, parseMaxRows } from '../../addin/src/core/cells.js';
import { Conflator } from '../../addin/src/core/conflator.js';
import { normalizePlatformUrl, wsUrlOf } from '../../addin/src/core/directory.js';
import { GridView, toScalar } from '../../addin/src/core/grid-view.js';
import { challengeOf, createVerifier } from '../../addin/src/core/oidc.js';
import { cellMessage } from '../../addin/src/core/status-text.js';

describe('the add-in core (no Office needed)', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('PKCE: the S256 challenge of RFC 7636 appendix B, and 43-character random verifiers', async () => {
    expect(await challengeOf('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const a = createVerifier();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createVerifier()).not.toBe(a);
  });

  it('a cell is updated at once, then at most once per interval with the latest state, and never with the same value twice', () => {
    vi.useFakeTimers();
    let state = 0;
    const sent: number[] = [];
    const cell = new Conflator(() => state, (v) => sent.push(v), 100);
    state = 1; cell.push();
    for (let i = 2; i <= 50; i++) { state = i; cell.push(); }
    expect(sent).toEqual([1]);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([1, 50]);
    cell.push(); // nothing changed
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([1, 50]);
    state = 51; cell.push(); cell.close();
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([1, 50, 51]);
  });

  it('a grid is cut to maxRows, and to what one Excel result may carry, saying which', () => {
    const view = new GridView();
    const rows = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, { text: 'x'.repeat(100), n: i }]));
    view.applySnapshot({ columns: ['text', 'n'], seq: 1, rows });
    view.applyDelta({ seq: 2, upserts: { k1000: { text: 'new', n: 1000 } }, deletes: ['k0'] });
    const byRows = view.toTable({ maxRows: 3, maxBytes: 4_000_000 });
    expect(byRows.values.slice(0, 4)).toEqual([['key', 'text', 'n'], ['k1', 'x'.repeat(100), 1], ['k2', 'x'.repeat(100), 2], ['k3', 'x'.repeat(100), 3]]);
    expect(byRows.values[4]).toEqual(['… 997 more rows not shown (maxRows 3)', '', '']);
    const bySize = view.toTable({ maxRows: 5000, maxBytes: 10_000 });
    expect(bySize.cut).toBeGreaterThan(900);
    expect(JSON.stringify(bySize.values).length).toBeLessThan(12_000);
    expect(bySize.values.at(-1)![0]).toMatch(/^… \d+ more rows not shown \(Excel's 5 MB limit per result\)$/);
    // Sizes are UTF-8 bytes of the JSON Excel gets: CJK text takes 3 bytes a character, quotes in JSON-ish text double up.
    const wide = new GridView();
    wide.applySnapshot({ columns: ['name', 'doc'], seq: 1, rows: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, { name: '東京都港区'.repeat(20), doc: { a: '"q"', b: [1, 2] } }])) });
    const wideCut = wide.toTable({ maxRows: 5000, maxBytes: 20_000 });
    expect(wideCut.cut).toBeGreaterThan(0);
    expect(wideCut.values.length).toBeGreaterThan(10);
    expect(new TextEncoder().encode(JSON.stringify(wideCut.values)).length).toBeLessThanOrEqual(20_000);
    expect(view.toTable({ columns: ['n'], maxRows: 1, maxBytes: 1e6 }).values[1]).toEqual(['k1', 1]);
    expect(() => view.checkColumns(['price'], 'g')).toThrow("no column 'price' in grid 'g'; columns: text, n");
    // Values as Excel takes them: null empty, objects as JSON, text no longer than a cell holds.
    expect([toScalar(null), toScalar({ a: 1 }), toScalar(true), toScalar(2.5)]).toEqual(['', '{"a":1}', true, 2.5]);
    expect(toScalar('y'.repeat(40_000))).toHaveLength(32_767);
  });

  it('cells say what is happening instead of showing a stale number', () => {
    const at = new Date(2026, 10, 22, 10, 42).getTime();
    expect(cellMessage('orders', { phase: 'live' })).toBeNull();
    expect(cellMessage('orders', { phase: 'connecting', attempt: 0 })).toBe("connecting to 'orders'");
    expect(cellMessage('orders', { phase: 'stopped', lastDataAt: at })).toBe("app 'orders' stopped, data stale since 10:42");
    expect(cellMessage('orders', { phase: 'reconnecting', lastDataAt: at, retryInMs: 500, reason: "connection to 'orders' lost" })).toBe("connection to 'orders' lost; reconnecting, data stale since 10:42");
    expect(cellMessage('orders', { phase: 'stale', since: new Date(at).toISOString() })).toMatch(/^'orders' is stale since 10:42/);
  });

  it('reconnects back off from 250 ms to at most 5 s', () => {
    expect(backoffDelay(0, { random: () => 0.5 })).toBe(250);
    expect(backoffDelay(3, { random: () => 0.5 })).toBe(2000);
    expect(backoffDelay(30, { random: () => 1 })).toBe(5000);
  });

  it('bad input names the problem and the fix', () => {
    expect(() => normalizePlatformUrl('aerogrid.example.com')).toThrow("'aerogrid.example.com' is not a URL: enter the platform URL");
    expect(() => normalizePlatformUrl('ftp://x')).toThrow("'ftp://x' is not an http(s) URL");
    expect(normalizePlatformUrl(' https://a.example.com/x ')).toBe('https://a.example.com/x/');
    expect(wsUrlOf('https://a.example.com/x/', 'v1/ws')).toBe('wss://a.example.com/x/v1/ws');
    expect(parseColumns(' a, b ,,c')).toEqual(['a', 'b', 'c']);
    expect(parseMaxRows(null)).toBe(5000);
    expect(() => parseMaxRows(2.5)).toThrow('maxRows must be a whole number of 1 or more, not 2.5');
    expect(() => parseMaxRows(2_000_000)).toThrow('maxRows must be at most 1048575 (the rows of a sheet under the header), not 2000000');
  });
});
