#!/usr/bin/env node
// Makes a fresh clone runnable: installs npm packages when the lockfile changed, builds the
// TypeScript, the web pages and the Excel add-in when sources are newer than the build, and
// fetches the Kafka jars once.
// Every step is skipped when already done, so `npm run demo` and `npm test` stay quick.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, env = process.env) => execFileSync(cmd, args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
const log = (m) => process.stderr.write(`setup: ${m}\n`);

function newest(dir) {
  let latest = 0;
  if (!existsSync(dir)) return latest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

// 1. npm packages
const marker = join(root, 'node_modules', '.package-lock.json');
if (mtime(marker) < mtime(join(root, 'package-lock.json'))) {
  log('installing npm packages...');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

// 2. TypeScript build (tsc -b is incremental; skip it entirely when nothing changed)
const built = Math.min(mtime(join(root, 'dist', 'cli.js')), mtime(join(root, 'sidecar', 'dist', 'main.js')), mtime(join(root, 'protocol', 'dist', 'index.js')));
const sources = Math.max(newest(join(root, 'src')), newest(join(root, 'sidecar', 'src')), newest(join(root, 'protocol', 'src')), mtime(join(root, 'tsconfig.json')));
if (built < sources) {
  log('building...');
  run(join(root, 'node_modules', '.bin', 'tsc'), ['-b']);
}

// 2a. The sidecar's one-module bundle, which the local runner and the image run (sidecar/bundle.mjs).
const bundle = join(root, 'sidecar', 'dist', 'bundle', 'main.js');
if (mtime(bundle) < Math.max(sources, mtime(join(root, 'package-lock.json')))) {
  log('bundling the sidecar...');
  run(process.execPath, [join(root, 'sidecar', 'bundle.mjs')]);
}

// 2b. The web pages (web/build.mjs): the console into web/dist/console, the sidecar's live viewer
// into sidecar/dist/viewer. They bundle the contract package too.
const pages = Math.min(mtime(join(root, 'web', 'dist', 'console', 'index.html')), mtime(join(root, 'sidecar', 'dist', 'viewer', 'index.html')));
if (pages < Math.max(newest(join(root, 'web')), newest(join(root, 'protocol', 'src')), mtime(join(root, 'package-lock.json')))) {
  log('building the web console and viewer...');
  run(process.execPath, [join(root, 'web', 'build.mjs')]);
}

// 2c. The Excel add-in (functions.json from its JSDoc, the bundles, the manifest) into addin/dist,
// for the URL it was built for (a rebuild keeps it) unless AEROGRID_ADDIN_URL names another. It
// bundles the contract package and web/src (sign-in) too, so a change there rebuilds it.
const manifest = join(root, 'addin', 'dist', 'manifest.xml');
const builtUrl = existsSync(manifest) ? /<SourceLocation DefaultValue="([^"]*)\/taskpane\.html"/.exec(readFileSync(manifest, 'utf8'))?.[1] ?? null : null;
const addinUrl = process.env.AEROGRID_ADDIN_URL?.trim().replace(/\/+$/, '') || builtUrl;
const addinStale = mtime(manifest) < Math.max(newest(join(root, 'addin')), newest(join(root, 'protocol', 'src')), newest(join(root, 'web', 'src')), mtime(join(root, 'package-lock.json')));
if (addinStale || addinUrl !== builtUrl) {
  log(`building the Excel add-in${addinUrl ? ` for ${addinUrl}` : ''}...`);
  run(process.execPath, [join(root, 'addin', 'build.mjs')], addinUrl ? { ...process.env, AEROGRID_ADDIN_URL: addinUrl } : process.env);
}

// 2d. The Python SDK's bytecode. Runtimes run read-only and with PYTHONDONTWRITEBYTECODE, so
// without it every runtime compiles the SDK in memory at start: about 1 MiB more RSS for as long
// as it lives. compileall skips files whose bytecode is current.
try {
  run(process.env.AEROGRID_PYTHON ?? 'python3', ['-m', 'compileall', '-q', join(root, 'sdk', 'python', 'aerogrid')]);
} catch (error) {
  log(`could not compile the Python SDK's bytecode (${error.message}); runtimes compile it as they start`);
}

// 3. Kafka jars (through Maven, once per machine)
if (!process.argv.includes('--no-kafka')) {
  const { ensureKafkaJars, kafkaLibDir } = await import(join(root, 'dist', 'local-kafka', 'jars.js'));
  if (!existsSync(join(kafkaLibDir(), '.complete'))) log('fetching the Apache Kafka jars from Maven Central (once)...');
  try {
    await ensureKafkaJars();
  } catch (error) {
    process.stderr.write(`setup: ${error.message}\n${error.hint ? `fix: ${error.hint}\n` : ''}`);
    process.exit(5);
  }
}
