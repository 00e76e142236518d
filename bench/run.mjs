#!/usr/bin/env node
// Runs every benchmark in bench/ (or those named: `npm run bench -- datapath cli-startup`), one
// after another; each prints its results as JSON lines on stdout.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(here).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs').sort();
const chosen = wanted.length ? all.filter((f) => wanted.some((w) => f.startsWith(w))) : all;
if (chosen.length === 0) {
  console.error(`No benchmark matches ${wanted.join(', ')}. Available: ${all.map((f) => f.replace('.mjs', '')).join(', ')}`);
  process.exit(2);
}
let failed = false;
for (const file of chosen) {
  console.error(`\n== ${file}`);
  const result = spawnSync(process.execPath, [join(here, file)], { stdio: 'inherit' });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
