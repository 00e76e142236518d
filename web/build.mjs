#!/usr/bin/env node
// Builds the browser pages the servers serve, as the add-in's build does: type-checks web/ (tsc),
// bundles each page's script and style sheet (esbuild) and copies its HTML. The console is an ES
// module split in chunks (web/dist/console/chunks/<name>-<hash>.js): the code editor (CodeMirror,
// most of its size) is loaded by a dynamic import only when a developer opens New app or Edit, so
// a viewer's page never fetches it.
//   the console (`aerogrid serve`, at /)  -> web/dist/console/
//   the live viewer (a sidecar, at /)     -> sidecar/dist/viewer/, inside the sidecar package that
//                                            its image and the CLI's tarball carry
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const pages = [
  // chunks/: served by src/console/hosting.ts, cached for good (a chunk's name holds its hash).
  { name: 'console', out: join(here, 'dist', 'console'), split: { format: 'esm', splitting: true, chunkNames: 'chunks/[name]-[hash]' } },
  { name: 'viewer', out: join(here, '..', 'sidecar', 'dist', 'viewer'), split: { format: 'iife' } },
];

execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
for (const { name, out, split } of pages) {
  mkdirSync(out, { recursive: true });
  // A rebuild's chunks have new hashes: the old ones go.
  rmSync(join(out, 'chunks'), { recursive: true, force: true });
  await build({
    entryPoints: [join(here, 'src', name, `${name}.ts`), join(here, 'src', name, `${name}.css`)],
    outdir: out, bundle: true, ...split, target: ['es2020'], minify: true, sourcemap: true, logLevel: 'warning',
  });
  copyFileSync(join(here, 'src', name, 'index.html'), join(out, 'index.html'));
}
