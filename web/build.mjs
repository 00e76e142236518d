#!/usr/bin/env node
// Builds the browser pages the servers serve, as the add-in's build does: type-checks web/ (tsc),
// bundles each page's script and style sheet (esbuild) and copies its HTML:
//   the console (`aerogrid serve`, at /)  -> web/dist/console/
//   the live viewer (a sidecar, at /)     -> sidecar/dist/viewer/, inside the sidecar package that
//                                            its image and the CLI's tarball carry
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const pages = [
  { name: 'console', out: join(here, 'dist', 'console') },
  { name: 'viewer', out: join(here, '..', 'sidecar', 'dist', 'viewer') },
];

execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
for (const { name, out } of pages) {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(here, 'src', name, `${name}.ts`), join(here, 'src', name, `${name}.css`)],
    outdir: out, bundle: true, format: 'iife', target: ['es2020'], minify: true, sourcemap: true, logLevel: 'warning',
  });
  copyFileSync(join(here, 'src', name, 'index.html'), join(out, 'index.html'));
}
