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

describe('an app connection when the platform URL changes (stand-in platforms on loopback)', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

  it('a platform changed while the old one is still answering the app lookup connects to the new one only', async () => {
    const old = await startPlatform('old', { hold: true });
    const fresh = await startPlatform('new');
    cleanups.push(() => old.close(), () => fresh.close());
    const client = new AeroGridClient({ platformUrl: old.url, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
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
