// The web console as `aerogrid serve` serves it: the built page (web/build.mjs, web/dist/console)
// at `/`, and GET /v1/console/config, which tells the page how to sign users in: the issuer and
// audience the directory checks tokens against, and the OIDC client the console signs in as.
import type http from 'node:http';
import { join } from 'node:path';
import type { AuthOptions } from '@aerogrid/sidecar/auth';
import { pageFiles } from '@aerogrid/sidecar/page-files';
import { packageRoot } from '../paths.js';
import { CONSOLE_API, type ConsoleConfig } from '@aerogrid/protocol/console-api';

export const CONSOLE_SCOPE = 'openid profile';

export function consoleConfig(auth: AuthOptions | undefined, clientId: string | undefined): ConsoleConfig {
  return auth ? { auth: true, issuer: auth.issuer, audience: auth.audience, client_id: clientId || null, scope: CONSOLE_SCOPE } : { auth: false };
}

export interface ConsoleHosting {
  /** Answers the console's page, its files and its config; false for any other path. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean;
}

export function hostConsole(config: ConsoleConfig, dir = join(packageRoot, 'web', 'dist', 'console')): ConsoleHosting {
  // The page talks to this directory, the apps' sidecars (anywhere) and the issuer.
  const page = pageFiles(dir, 'console', { policy: "connect-src 'self' ws: wss: http: https:; frame-ancestors 'none'" });
  const body = JSON.stringify(config);
  return {
    handle(req, res, path) {
      if (path !== CONSOLE_API.config) return page.handle(req, res, path);
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
  };
}
