// The platform hosts its own Excel add-in: the built add-in (addin/dist) at https://<host>/addin/,
// with a manifest made for that host, so an admin deploys it to every Excel user from one URL
// (docs/addin.md) and the add-in's default platform URL is the host it came from.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type http from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { packageRoot } from '../paths.js';

export const ADDIN_PATH = '/addin/';
/** The URL the add-in's manifest template names (addin/manifest.xml), replaced by the platform's. */
const TEMPLATE_URL = 'https://localhost:3000';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8', '.png': 'image/png', '.xml': 'application/xml; charset=utf-8', '.css': 'text/css; charset=utf-8',
};

export interface AddinHosting {
  /** Answers a request under /addin/; false when the path is not the add-in's. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean;
}

export function hostAddin(platformHost: string, options: { dist?: string; template?: string } = {}): AddinHosting {
  const dist = options.dist ?? join(packageRoot, 'addin', 'dist');
  const template = options.template ?? join(packageRoot, 'addin', 'manifest.xml');
  const manifest = () => readFileSync(template, 'utf8').replaceAll(TEMPLATE_URL, `https://${platformHost}${ADDIN_PATH.replace(/\/$/, '')}`);
  const send = (res: http.ServerResponse, status: number, type: string, body: string | Buffer, head: boolean) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    res.end(head ? undefined : body);
  };
  return {
    handle(req, res, path) {
      if (path !== ADDIN_PATH.slice(0, -1) && !path.startsWith(ADDIN_PATH)) return false;
      const head = req.method === 'HEAD';
      if (req.method !== 'GET' && !head) { send(res, 405, 'text/plain; charset=utf-8', 'use GET', head); return true; }
      const rel = path === ADDIN_PATH.slice(0, -1) || path === ADDIN_PATH ? 'manifest.xml' : decodeURIComponent(path.slice(ADDIN_PATH.length));
      if (rel === 'manifest.xml') { send(res, 200, TYPES['.xml']!, manifest(), head); return true; }
      // Only files of the built add-in: no way out of the folder, no listings.
      const file = normalize(join(dist, rel));
      if (!file.startsWith(dist + sep) || !existsSync(file) || !statSync(file).isFile()) {
        send(res, 404, 'text/plain; charset=utf-8', `no such file of the add-in: ${rel}`, head);
        return true;
      }
      send(res, 200, TYPES[extname(file)] ?? 'application/octet-stream', readFileSync(file), head);
      return true;
    },
  };
}
