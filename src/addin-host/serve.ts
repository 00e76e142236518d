// The built add-in (addin/dist) on https://localhost:<port> with the development certificate, as
// Excel loads it: its manifest rewritten for that address (as addin/build.mjs does for
// AEROGRID_ADDIN_URL) and the task pane told the platform URL to start with.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { aerogridHome, packageRoot } from '../paths.js';
import type { DevCertificate } from './certs.js';

/** The address the source manifest is written for (addin/build.mjs replaces it the same way). */
const MANIFEST_BASE = 'https://localhost:3000';
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.json': 'application/json', '.xml': 'text/xml', '.png': 'image/png', '.map': 'application/json' };

export interface HostedAddin {
  url: string;
  /** The manifest for this address, written to a file to sideload. */
  manifestFile: string;
  close(): Promise<void>;
}

export async function hostAddin(options: { port: number; platform: string; certificate: DevCertificate; dist?: string }): Promise<HostedAddin> {
  const dist = options.dist ?? join(packageRoot, 'addin', 'dist');
  if (!existsSync(join(dist, 'taskpane.html')) || !existsSync(join(dist, 'functions.json'))) {
    throw new CliError(`The add-in is not built (no ${join(dist, 'taskpane.html')}).`, { exitCode: ExitCode.environment, hint: 'build it: `npm run setup` (or `npm run build -w addin`) in the aerogrid checkout' });
  }
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const pane = readFileSync(join(dist, 'taskpane.html'), 'utf8')
    .replace('<head>', `<head>\n  <meta name="aerogrid-platform" content="${escape(options.platform)}">`);
  const source = readFileSync(join(packageRoot, 'addin', 'manifest.xml'), 'utf8');

  const server: Server = createServer({ key: options.certificate.key, cert: options.certificate.cert }, (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'https://localhost').pathname));
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'GET only');
    if (path === '/' || path === '/taskpane.html') return send(200, TYPES['.html']!, pane);
    if (path === '/manifest.xml') return send(200, TYPES['.xml']!, manifest);
    const file = join(dist, path);
    if (!file.startsWith(dist + sep) || !existsSync(file)) return send(404, 'text/plain', 'not found');
    return send(200, TYPES[extname(file)] ?? 'application/octet-stream', readFileSync(file));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE'
      ? new CliError(`Port ${options.port} on 127.0.0.1 is in use, so the add-in cannot be served there.`, { exitCode: ExitCode.environment, hint: `use another: --port ${options.port + 1} (the manifest follows the port; sideload the one printed)` })
      : error));
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://localhost:${port}`;
  const manifest = source.replaceAll(MANIFEST_BASE, url);
  const dir = join(aerogridHome(), 'addin');
  await mkdir(dir, { recursive: true });
  const manifestFile = join(dir, `manifest-localhost-${port}.xml`);
  await writeFile(manifestFile, manifest);
  return { url: `${url}/`, manifestFile, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
