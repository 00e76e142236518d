// The README's promises about what the add-in and the CLI need match what they use: every
// requirement set of the add-in's manifest (which decides the Excel versions it runs in), and
// kubectl, which deploy and the other GitOps commands run to build the manifests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';

const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');

it('the README names each requirement set of the manifest, with its version, and the Excel versions', () => {
  const manifest = readFileSync(join(packageRoot, 'addin', 'manifest.xml'), 'utf8');
  const sets = [...manifest.matchAll(/<Set Name="([^"]+)" MinVersion="([^"]+)"\/>/g)].map((m) => `${m[1]} ${m[2]}`);
  expect(sets.length).toBeGreaterThan(0);
  const excel = readme.split(/^## Excel$/m)[1]!.split(/^## /m)[0]!;
  for (const set of sets) expect(excel, set).toContain(set);
  expect(excel).toMatch(/Excel on the web/);
  expect(excel).toMatch(/Excel on Windows/);
  expect(excel).toMatch(/Excel on Mac/);
});

it('the README\'s prerequisites name kubectl, which the GitOps commands run', () => {
  const check = readFileSync(join(packageRoot, 'src', 'render', 'check.ts'), 'utf8');
  expect(check).toContain("'kubectl'"); // the tool deploy runs (kubectl kustomize)
  const prerequisites = readme.split(/^## Quick start$/m)[1]!.split('```')[0]!;
  expect(prerequisites.replace(/\s+/g, " ")).toMatch(/kubectl 1\.27\+ for `aerogrid deploy`/);
});
