/** A sidecar front end (the real HTTP/WebSocket server) over a grid store the test feeds directly. */
import http from 'node:http';
import type net from 'node:net';
import { GridStore } from '../../sidecar/src/grids.js';
import { StatusTracker } from '../../sidecar/src/status.js';
import { Metrics } from '../../sidecar/src/metrics.js';
import { silentLogger } from '../../sidecar/src/log.js';
import { startFrontend, type Frontend, type FrontendOptions } from '../../sidecar/src/http/server.js';
import { createAuthenticator } from '../../sidecar/src/auth/index.js';
import type { TestIssuer } from './oidc.js';

/** App 'ordersapp' of tenant 'acme' with one grid, product_sum = { 'How to...': 300 }. */
export function ordersStore(): GridStore {
  const store = new GridStore();
  store.declare('product_sum', ['units_sold']);
  store.markListKnown();
  store.apply([{ grid: 'product_sum', key: 'How to...', row: { units_sold: 300 } }]);
  return store;
}

/** Auth on with `issuer` unless it is null. */
export async function startAppFrontend(store: GridStore, issuer: TestIssuer | null, extra: Partial<FrontendOptions> = {}): Promise<Frontend> {
  const status = new StatusTracker();
  status.set('running', null);
  return startFrontend({
    host: '127.0.0.1',
    port: 0,
    store,
    status,
    metrics: new Metrics(),
    logger: silentLogger(),
    tenant: 'acme',
    app: () => 'ordersapp',
    ready: () => true,
    authenticator: issuer ? createAuthenticator({ issuer: issuer.issuer, audience: issuer.audience }) : undefined,
    ...extra,
  });
}

/** A JWKS endpoint in front of `issuer`'s that answers after `delayMs` (changeable): a slow issuer. */
export async function startSlowJwks(issuer: TestIssuer, delayMs: number): Promise<{ url: string; delay(ms: number): void; close(): Promise<void> }> {
  let delay = delayMs;
  const server = http.createServer((_req, res) => {
    setTimeout(() => {
      fetch(issuer.jwksUri)
        .then(async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()))
        .catch(() => res.writeHead(502).end());
    }, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/jwks.json`,
    delay: (ms) => (delay = ms),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
