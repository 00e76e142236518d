// The formula a generated connector's README tells Excel users to type is one the built add-in
// declares: its manifest's namespace and a function id from its functions.json, with the
// function's own parameters (app, grid). The old README said =AEROGRID("app", "grid"), which
// Excel does not know.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { buildAddin } from '../../helpers/addin.js';
import { runCli } from '../../helpers/cli.js';
import { read, tempDir } from '../../helpers/files.js';

let built: { namespace: string; functions: Array<{ id: string; parameters: Array<{ name: string; optional?: boolean }> }> };

beforeAll(() => {
  const dist = buildAddin();
  const manifest = readFileSync(join(dist, 'manifest.xml'), 'utf8');
  const namespace = /<bt:String id="Functions.Namespace" DefaultValue="([^"]+)"/.exec(manifest)![1]!;
  built = { namespace, functions: JSON.parse(readFileSync(join(dist, 'functions.json'), 'utf8')).functions };
});

it.each(['orders-sum', 'passthrough', 'top-n', 'blank'])('the %s README names a function of the built add-in, with its required arguments', async (template) => {
  const base = tempDir();
  const r = await runCli(['init', 'shop', '--template', template, '--yes', '--no-git'], { cwd: base });
  expect(r.code, r.stderr).toBe(0);
  const readme = read(join(base, 'shop'), 'README.md');
  const m = /`=([A-Z]+)\.([A-Z]+)\(([^)]*)\)`/.exec(readme);
  expect(m, readme.slice(0, 600)).not.toBeNull();
  const [, namespace, id, args] = m!;
  expect(namespace).toBe(built.namespace);
  const fn = built.functions.find((f) => f.id === id);
  expect(fn, `${id} among ${built.functions.map((f) => f.id).join(', ')}`).toBeDefined();
  const required = fn!.parameters.filter((p) => !p.optional && p.name !== 'invocation').map((p) => p.name);
  expect(required).toEqual(['app', 'grid']);
  const yaml = read(join(base, 'shop'), 'aerogrid.yaml');
  const grids = [...yaml.matchAll(/^\s*- name: (\S+)/gm)].map((g) => g[1]);
  const [app, grid] = args!.split(',').map((a) => JSON.parse(a));
  expect(app).toBe('shop');
  expect(grids).toContain(grid);
});
