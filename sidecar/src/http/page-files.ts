/**
 * A built browser page (web/build.mjs: index.html and its bundled script and style sheet) served
 * from its folder: the sidecar's viewer and the console of `aerogrid serve`. The page loads only
 * files of its own origin, so the Content-Security-Policy allows no inline script or style.
 */
import { existsSync, readFileSync } from 'node:fs';
import type http from 'node:http';
import { join } from 'node:path';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', map: 'application/json; charset=utf-8',
};

export interface PageFiles {
  /** Answers GET/HEAD of `/` and of the page's own files; false for any other path. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean;
}

/**
 * `name` is the page's bundle name (`viewer` serves /viewer.js, /viewer.css and their maps);
 * `policy` the page's own CSP directives (connect-src, frame-ancestors); `html` may rewrite the page
 * (a setting in a meta tag).
 */
export function pageFiles(dir: string, name: string, options: { policy: string; html?: (page: string) => string }): PageFiles {
  const files = new Map([['/', 'index.html'], ...[`${name}.js`, `${name}.css`, `${name}.js.map`, `${name}.css.map`].map((f) => [`/${f}`, f] as const)]);
  const csp = `default-src 'none'; script-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'; ${options.policy}`;
  return {
    handle(req, res, path) {
      const file = files.get(path);
      if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
      const full = join(dir, file);
      let body: string | Buffer;
      if (!existsSync(full)) {
        body = `the ${name} page is not built (${full} is missing): run npm run setup`;
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      } else {
        body = file === 'index.html' && options.html ? options.html(readFileSync(full, 'utf8')) : readFileSync(full);
        res.writeHead(200, {
          'content-type': TYPES[file.slice(file.lastIndexOf('.') + 1)]!,
          'content-length': Buffer.byteLength(body),
          'cache-control': 'no-cache',
          'x-content-type-options': 'nosniff',
          'content-security-policy': csp,
        });
      }
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
  };
}
