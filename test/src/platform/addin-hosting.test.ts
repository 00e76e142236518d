// The platform hosts its add-in: a real directory server with the built add-in (addin/dist) at
// /addin/, its manifest made for the platform host, nothing outside the add-in's folder served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccess } from '../../../src/directory/access.js';
import { hostAddin } from '../../../src/directory/addin-hosting.js';
import { startDirectoryServer, type DirectoryServer } from '../../../src/directory/server.js';

describe('the add-in hosted by the platform at /addin/', () => {
  let server: DirectoryServer;
  beforeAll(async () => {
    const directory = { list: () => [], get: () => undefined, subscribe: () => () => undefined, close: () => undefined };
    server = await startDirectoryServer({
      host: '127.0.0.1', port: 0, directory, access: createAccess(undefined), addin: hostAddin('aerogrid.example.com'),
      act: async () => { throw new Error('no actions here'); },
    });
  });
  afterAll(() => server.close());

  it('serves a manifest made for the platform host, so the add-in and its pages load from https://<host>/addin/', async () => {
    const response = await fetch(`${server.url}/addin/manifest.xml`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/xml/);
    const manifest = await response.text();
    expect(manifest).toContain('<SourceLocation DefaultValue="https://aerogrid.example.com/addin/taskpane.html"/>');
    expect(manifest).not.toContain('localhost:3000');
    // /addin/ itself is the manifest: the one URL an admin gives the Microsoft 365 admin center.
    expect(await (await fetch(`${server.url}/addin/`)).text()).toBe(manifest);
  });

  it('serves the built pages and scripts, and nothing outside the add-in\'s folder', async () => {
    const page = await fetch(`${server.url}/addin/taskpane.html`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect((await fetch(`${server.url}/addin/taskpane.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${server.url}/addin/assets/icon-32.png`)).headers.get('content-type')).toBe('image/png');
    for (const escape of ['/addin/..%2F..%2Fpackage.json', '/addin/%2e%2e/manifest.xml', '/addin/assets']) {
      expect((await fetch(`${server.url}${escape}`)).status, escape).toBe(404);
    }
  });
});
