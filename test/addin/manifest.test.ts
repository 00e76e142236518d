// The add-in's XML manifest as built. Microsoft's `office-addin-manifest validate` needs an online
// service that cannot be reached here, so its offline `info` command parses the manifest, and these
// checks stand in for the schema-level rules a shared-runtime custom-functions add-in must follow.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { buildAddin } from '../helpers/addin.js';

const BASE = 'https://addin.example.com/excel';

function attrs(xml: string, element: string): Record<string, string>[] {
  return [...xml.matchAll(new RegExp(`<${element}\\b([^>]*?)/?>`, 'g'))].map((m) => Object.fromEntries([...m[1]!.matchAll(/([\w:]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])));
}

/** The resid of <Parent>…<SourceLocation resid="…"/> inside the CustomFunctions extension point. */
function sourceResid(block: string, parent: string): string | undefined {
  return new RegExp(`<${parent}>\\s*<SourceLocation resid="([^"]+)"`).exec(block)?.[1];
}

describe('the add-in manifest (office-addin-manifest info offline, plus the shared-runtime rules)', () => {
  let dist: string;
  let xml: string;
  let resources: Map<string, string>;

  beforeAll(() => {
    dist = buildAddin({ AEROGRID_ADDIN_URL: BASE });
    xml = readFileSync(join(dist, 'manifest.xml'), 'utf8');
    resources = new Map([...attrs(xml, 'bt:Url'), ...attrs(xml, 'bt:Image'), ...attrs(xml, 'bt:String')].map((a) => [a.id!, a.DefaultValue!]));
  });

  it('parses with office-addin-manifest info: a Workbook task pane add-in with a GUID id', () => {
    const bin = join(packageRoot, 'node_modules', '.bin', 'office-addin-manifest');
    const info = spawnSync(bin, ['info', join(dist, 'manifest.xml')], { encoding: 'utf8', input: '', timeout: 60_000 });
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/Id: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    expect(info.stdout).toContain('Name: AeroGrid');
    expect(info.stdout).toContain('Type: TaskPaneApp');
    expect(info.stdout).toContain('Hosts: Workbook');
    expect(info.stdout).toContain(`Source Location: ${BASE}/taskpane.html`);
  });

  it('declares one shared runtime (lifetime long) and requires SharedRuntime 1.1 and CustomFunctionsRuntime', () => {
    const runtimes = attrs(xml, 'Runtime');
    expect(runtimes).toEqual([{ resid: 'Taskpane.Url', lifetime: 'long' }]);
    const sets = Object.fromEntries(attrs(xml, 'Set').map((s) => [s.Name, s.MinVersion]));
    expect(sets.SharedRuntime).toBe('1.1');
    expect(Number(sets.CustomFunctionsRuntime)).toBeGreaterThanOrEqual(1.1);
  });

  it('runs the functions, the task pane and the ribbon button in that one runtime page', () => {
    const block = /<ExtensionPoint xsi:type="CustomFunctions">([\s\S]*?)<\/ExtensionPoint>/.exec(xml)?.[1] ?? '';
    const page = sourceResid(block, 'Page');
    expect(page).toBe('Taskpane.Url');
    expect(attrs(xml, 'FunctionFile')[0]!.resid).toBe(page);
    expect(/<Action xsi:type="ShowTaskpane">[\s\S]*?<SourceLocation resid="([^"]+)"/.exec(xml)?.[1]).toBe(page);
    expect(resources.get(sourceResid(block, 'Script')!)).toBe(`${BASE}/taskpane.js`);
    expect(resources.get(sourceResid(block, 'Metadata')!)).toBe(`${BASE}/functions.json`);
    expect(resources.get(attrs(block, 'Namespace')[0]!.resid!)).toBe('AEROGRID');
    // The page loads Office.js and the one bundle that registers the functions.
    const html = readFileSync(join(dist, 'taskpane.html'), 'utf8');
    expect(html).toMatch(/<script src="https:\/\/appsforoffice\.microsoft\.com\/lib\/1\/hosted\/office\.js">/);
    expect(html).toContain('src="taskpane.js"');
  });

  it('every resid resolves, every URL is HTTPS under the add-in URL, and the files they name were built', () => {
    const resids = [...xml.matchAll(/resid="([^"]+)"/g)].map((m) => m[1]!);
    expect(resids.length).toBeGreaterThan(10);
    for (const resid of resids) expect(resources.has(resid), `resid ${resid}`).toBe(true);
    const urls = [...xml.matchAll(/DefaultValue="(https?:[^"]+)"/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThan(8);
    for (const url of urls) {
      expect(url.startsWith(`${BASE}/`), url).toBe(true);
      expect(existsSync(join(dist, url.slice(BASE.length + 1))), `${url} built`).toBe(true);
    }
    expect(/<AppDomain>([^<]+)<\/AppDomain>/.exec(xml)?.[1]).toBe(BASE);
    expect(xml).not.toContain('localhost');
  });

  it('the build refuses an add-in URL that is not HTTPS, saying why', () => {
    const build = spawnSync(process.execPath, [join(packageRoot, 'addin', 'build.mjs')], { encoding: 'utf8', env: { ...process.env, AEROGRID_ADDIN_URL: 'http://example.com', AEROGRID_ADDIN_OUT: join(dist, 'refused') } });
    expect(build.status).toBe(2);
    expect(build.stderr).toContain("AEROGRID_ADDIN_URL must be an https:// URL (Office loads add-ins over HTTPS only), not 'http://example.com'");
  });
});
