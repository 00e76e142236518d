// The web console as `aerogrid serve` serves it: the built page (web/build.mjs, web/dist/console)
// at `/`, and GET /v1/console/config, which tells the page how to sign users in: the issuer and
// audience the directory checks tokens against, and the OIDC client the console signs in as.
import { readFile } from 'node:fs/promises';
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

/**
 * The console's chunks (web/build.mjs): /chunks/<name>-<hash>.js and its map, e.g. the code editor
 * a developer's page imports on first use. Only such names, so no path can leave the folder.
 */
const CHUNK = /^\/chunks\/[A-Za-z0-9_-]+\.js(\.map)?$/;

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
      if (CHUNK.test(path) && (req.method === 'GET' || req.method === 'HEAD')) {
        void serveChunk(req, res, join(dir, path));
        return true;
      }
      if (path !== CONSOLE_API.config) return page.handle(req, res, path);
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
  };
}

/** A chunk's name holds its content's hash: a browser may keep it for good (the page itself is no-cache). */
async function serveChunk(req: http.IncomingMessage, res: http.ServerResponse, file: string): Promise<void> {
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    const text = 'no such file';
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : text);
    return;
  }
  res.writeHead(200, {
    'content-type': file.endsWith('.map') ? 'application/json; charset=utf-8' : 'text/javascript; charset=utf-8',
    'content-length': body.length,
    'cache-control': 'public, max-age=31536000, immutable',
    'x-content-type-options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
