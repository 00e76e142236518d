// AeroGridClient's connections when the platform changes under them. The platforms are small
// stand-ins on loopback (a directory answering GET /v1/apps and a socket speaking aerogrid.v1), so
// that one of them can hold its answer for as long as the test wants: a real directory cannot be
// made to answer late on cue.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { AeroGridClient } from '../../../addin/src/core/client.js';
import type { GridState } from '../../../addin/src/core/app-connection.js';
import { waitFor } from '../../helpers/wait.js';

interface StandInPlatform {
  url: string;
  appsRequests: number;
  sockets: number;
  /** Answers the held GET /v1/apps (when started with hold). */
  release(): void;
  close(): Promise<void>;
}

/** A platform with one app 'orders' whose grid 'g' has one row {k: {v: label}}. */
async function startPlatform(label: string, options: { hold?: boolean } = {}): Promise<StandInPlatform> {
  const held: (() => void)[] = [];
  let holding = options.hold ?? false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== '/v1/apps') return res.writeHead(404).end();
    platform.appsRequests++;
    const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      tenant: null,
      apps: [{ name: 'orders', tenant: 'default', desired: 'running', status: 'running', message: null, stale_since: null, ready: true, grids: [{ name: 'g', columns: ['v'] }], url: platform.url, ws: `${platform.url.replace('http', 'ws')}v1/ws` }],
    }));
    if (holding) held.push(answer);
    else answer();
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    platform.sockets++;
    socket.send(JSON.stringify({ type: 'hello', protocol: 'aerogrid.v1', app: 'orders', grids: [{ name: 'g', columns: ['v'] }], status: { state: 'running' } }));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.op === 'subscribe') socket.send(JSON.stringify({ type: 'snapshot', id: message.id, grid: 'g', columns: ['v'], seq: 1, rows: { k: { v: label } } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const platform: StandInPlatform = {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    appsRequests: 0,
    sockets: 0,
    release: () => { holding = false; for (const answer of held.splice(0)) answer(); },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return platform;
}

/**
 * The ws client as the add-in sees a browser's: a refused connection is reported by onclose (a
 * browser's socket has no 'error' event that could go unhandled, as the ws package's does).
 */
class QuietWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    this.on('error', () => {});
  }
}

describe('an app connection when the platform URL changes (stand-in platforms on loopback)', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

  it('a platform changed while the old one is still answering the app lookup connects to the new one only', async () => {
    const old = await startPlatform('old', { hold: true });
    const fresh = await startPlatform('new');
    cleanups.push(() => old.close(), () => fresh.close());
    const client = new AeroGridClient({ platformUrl: old.url, WebSocketImpl: QuietWebSocket as unknown as typeof globalThis.WebSocket });
    let state: GridState | null = null;
    const release = client.subscribe('orders', 'g', (s) => { state = s; });
    cleanups.push(release);

    await waitFor('the lookup at the old platform', () => old.appsRequests === 1);
    client.setPlatformUrl(fresh.url);
    old.release();

    const shown = await waitFor('the grid', () => state?.view?.row('k')?.v);
    expect(shown).toBe('new');
    expect(old.sockets).toBe(0);
  });
});

describe('an app connection that loses its socket (a real sidecar front end on loopback)', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

  it('resumes each grid from the seq its cells hold: only the rows changed meanwhile come, not the whole grid', async () => {
    const { GridStore } = await import('../../../sidecar/src/grids.js');
    const { startAppFrontend } = await import('../../helpers/frontend.js');
    const store = new GridStore();
    store.declare('g', ['v']);
    store.markListKnown();
    store.apply(Array.from({ length: 40 }, (_, i) => ({ grid: 'g', key: `k${i}`, row: { v: i } })));
    let fe = await startAppFrontend(store, null);
    const port = Number(new URL(fe.url).port);
    cleanups.push(() => fe.close());
    const received: string[] = [];
    /** The ws client, recording the type of each message the add-in receives. */
    class RecordingWebSocket extends QuietWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        this.on('message', (data) => received.push((JSON.parse(String(data)) as { type: string }).type));
      }
    }
    const client = new AeroGridClient({ platformUrl: fe.url, WebSocketImpl: RecordingWebSocket as unknown as typeof globalThis.WebSocket });
    let state: GridState | null = null;
    cleanups.push(client.subscribe('ordersapp', 'g', (s) => { state = s; }));
    await waitFor('the grid', () => state?.view?.size === 40);

    // The sidecar goes away; 3 rows change (one is deleted) before it is back on the same port.
    await fe.close();
    await waitFor('the cell to notice', () => state?.view === null);
    store.apply([{ grid: 'g', key: 'k1', row: { v: 100 } }, { grid: 'g', key: 'k2', row: { v: 200 } }, { grid: 'g', key: 'k3', deleted: true }]);
    received.length = 0;
    fe = await startAppFrontend(store, null, { port });
    await waitFor('the resumed grid', () => state?.view?.row('k1')?.v === 100);
    expect(state!.view!.size).toBe(39);
    expect(state!.view!.row('k2')).toEqual({ v: 200 });
    expect(state!.view!.seq).toBe(store.get('g')!.seq);
    expect(received).toContain('resumed');
    expect(received).not.toContain('snapshot');
  });
});
