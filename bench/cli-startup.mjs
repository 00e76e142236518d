#!/usr/bin/env node
// Cold start of the CLI: a new node process per run, as a user (or CI) starts it.
//   aerogrid --help                       goal: median under 150 ms
//   aerogrid validate <a connector>       goal: median under 400 ms (YAML, schema, Python ast)
// `node -e 0` is measured too, as the floor this machine puts under every figure.
// Prints one JSON line per measurement. Options: --runs N (default 21).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'aerogrid');
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 21;
const emit = (result) => process.stdout.write(JSON.stringify(result) + '\n');
const env = { ...process.env, NO_COLOR: '1' };
delete env.CI;

function time(args, cwd) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function measure(name, label, args, cwd, goal) {
  time(args, cwd); // one unmeasured run: the OS file cache, as for a user who ran it before
  const samples = [];
  for (let i = 0; i < RUNS; i++) samples.push(time(args, cwd));
  samples.sort((a, b) => a - b);
  const pick = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  const round = (x) => Math.round(x * 10) / 10;
  const result = {
    bench: `cli-startup.${name}`,
    command: label,
    runs: RUNS,
    median_ms: round(pick(0.5)),
    p10_ms: round(pick(0.1)),
    p90_ms: round(pick(0.9)),
    min_ms: round(samples[0]),
    ...(goal ? { goal_ms: goal, met: pick(0.5) < goal } : {}),
  };
  emit(result);
  return result;
}

const work = mkdtempSync(join(tmpdir(), 'aerogrid-bench-'));
try {
  const init = spawnSync(process.execPath, [bin, 'init', 'bench-app', '--yes', '--no-git'], { cwd: work, env, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`);
  const connector = join(work, 'bench-app');

  measure('node-floor', 'node -e 0', ['-e', '0'], work);
  measure('help', 'aerogrid --help', [bin, '--help'], work, 150);
  measure('validate', 'aerogrid validate <orders-sum connector>', [bin, 'validate', connector], connector, 400);
  measure('validate-json', 'aerogrid validate --json <orders-sum connector>', [bin, 'validate', connector, '--json'], connector, 400);
} finally {
  rmSync(work, { recursive: true, force: true });
}
