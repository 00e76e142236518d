#!/usr/bin/env node
// Builds the add-in into addin/dist: functions.json generated from the JSDoc of src/functions.ts
// (Microsoft's custom-functions-metadata), the one shared-runtime bundle (taskpane.js) and the
// sign-in callback bundle (esbuild), the pages, icons, and manifest.xml with its URLs pointing at
// AEROGRID_ADDIN_URL (default https://localhost:3000, where Office's own tooling serves add-ins).
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
// Tests build into a folder of their own (AEROGRID_ADDIN_OUT) so that suites never race on one.
const dist = process.env.AEROGRID_ADDIN_OUT ?? join(here, 'dist');
const require = createRequire(import.meta.url);
const DEFAULT_URL = 'https://localhost:3000';

const baseUrl = (process.env.AEROGRID_ADDIN_URL ?? DEFAULT_URL).replace(/\/+$/, '');
if (!/^https:\/\/[^/\s"<>]+(\/[^\s"<>]*)?$/.test(baseUrl)) {
  console.error(`AEROGRID_ADDIN_URL must be an https:// URL (Office loads add-ins over HTTPS only), not '${baseUrl}'.`);
  process.exit(2);
}
mkdirSync(join(dist, 'assets'), { recursive: true });

// 1. functions.json from the JSDoc (the library call: the CLI would also send usage data).
const { generateCustomFunctionsMetadata } = require('custom-functions-metadata/lib/main.js');
const metadata = await generateCustomFunctionsMetadata(join(here, 'src', 'functions.ts'));
if (metadata.errors.length) {
  console.error(`custom-functions-metadata found errors in src/functions.ts:\n${metadata.errors.join('\n')}`);
  process.exit(1);
}
// The ids in the JSDoc must be the protocol's, which the README, the task pane and the CLI write.
const { EXCEL_FUNCTIONS, EXCEL_NAMESPACE } = await import('@aerogrid/protocol/excel-functions');
const ids = JSON.parse(metadata.metadataJson).functions.map((f) => f.id).sort();
const expected = Object.values(EXCEL_FUNCTIONS).sort();
if (ids.join() !== expected.join()) {
  console.error(`src/functions.ts declares the custom functions ${ids.join(', ')}, but protocol/src/excel-functions.ts names ${expected.join(', ')}: make them the same.`);
  process.exit(1);
}
if (!readFileSync(join(here, 'manifest.xml'), 'utf8').includes(`<bt:String id="Functions.Namespace" DefaultValue="${EXCEL_NAMESPACE}"/>`)) {
  console.error(`manifest.xml's Functions.Namespace is not ${EXCEL_NAMESPACE} (protocol/src/excel-functions.ts).`);
  process.exit(1);
}
writeFileSync(join(dist, 'functions.json'), metadata.metadataJson);

// 2. Bundles: one script per page, for the browsers Office embeds (Edge WebView2, Safari WebKit).
await build({
  entryPoints: { taskpane: join(here, 'src', 'taskpane.ts'), callback: join(here, 'src', 'callback.ts') },
  outdir: dist, bundle: true, format: 'iife', target: ['es2020'], minify: true, sourcemap: true, logLevel: 'warning',
});

// 3. Pages and the manifest.
for (const page of ['taskpane.html', 'callback.html']) copyFileSync(join(here, page), join(dist, page));
writeFileSync(join(dist, 'manifest.xml'), readFileSync(join(here, 'manifest.xml'), 'utf8').replaceAll(DEFAULT_URL, baseUrl));

// 4. Icons: a green square with a white grid, drawn here so no binary lives in the repo.
for (const size of [16, 32, 64, 80, 128]) writeFileSync(join(dist, 'assets', `icon-${size}.png`), icon(size));

function icon(size) {
  const raw = Buffer.alloc((size * 3 + 1) * size);
  const step = Math.max(4, Math.round(size / 4));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 3 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const line = x % step === 0 || y % step === 0 || x === size - 1 || y === size - 1;
      raw.set(line ? [255, 255, 255] : [0x21, 0x73, 0x46], y * (size * 3 + 1) + 1 + x * 3);
    }
  }
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'ascii');
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
