#!/usr/bin/env node
// Cold start of the CLI: a new node process per run, as a user (or CI) starts it.
//   aerogrid --help                       goal: median under 150 ms
//   aerogrid validate <a connector>       goal: median under 400 ms (YAML, schema, Python ast)
// `node -e 0` is measured too, as the floor this machine puts under every figure; CPU time and
// the load average are printed beside wall time, since other work on the machine inflates wall time.
// The modules --help loads are counted too (a figure the machine's load does not change).
// Prints one JSON line per measurement. Options: --runs N (default 21); --against <bin>: also
// measure another build's bin/aerogrid (e.g. the main branch's), its runs interleaved with this
// one's so that both see the same load, for a before/after in one run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'aerogrid');
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 21;
const againstFlag = process.argv.indexOf('--against');
const against = againstFlag > 0 ? process.argv[againstFlag + 1] : null;
const emit = (result) => process.stdout.write(JSON.stringify(result) + '\n');
const env = { ...process.env, NO_COLOR: '1' };
delete env.CI;

/** CPU time (user + system, ms) of this process's finished children, from /proc (Linux); null elsewhere. */
function childCpuMs() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10; // cutime + cstime, in 1/100 s
  } catch {
    return null;
  }
}

function time(args, cwd) {
  const cpuBefore = childCpuMs();
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const cpuAfter = childCpuMs();
  return { ms, cpu: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore };
}

/** The files and modules a run resolves (ESM resolve hook), unique: what start-up loads. */
function modulesLoaded(args, cwd) {
  const hook = join(work, 'count-modules.mjs');
  writeFileSync(hook, "export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('MODULE ' + r.url + '\\n'); return r; }\n");
  const r = spawnSync(process.execPath, ['--no-warnings', '--loader', hook, ...args], { cwd, env, encoding: 'utf8' });
  return new Set(r.stderr.split('\n').filter((l) => l.startsWith('MODULE ')).map((l) => l.slice(7))).size;
}

function measure(name, label, args, cwd, goal, options = {}) {
  const { result } = measureEach([{ name, label, args, goal, ...options }], cwd)[0];
  return result;
}

/** Measures each command RUNS times, their runs interleaved (a, b, a, b, ...) so they share the load. */
function measureEach(commands, cwd) {
  for (const c of commands) time(c.args, cwd); // one unmeasured run each: the OS file cache, as for a user who ran it before
  const runs = commands.map(() => ({ samples: [], cpu: [] }));
  for (let i = 0; i < RUNS; i++) {
    commands.forEach((c, k) => {
      const t = time(c.args, cwd);
      runs[k].samples.push(t.ms);
      if (t.cpu !== null) runs[k].cpu.push(t.cpu);
    });
  }
  return commands.map((c, k) => ({ result: summarize(c, runs[k].samples, runs[k].cpu, cwd) }));
}

function summarize({ name, label, args, goal, countModules }, samples, cpu, cwd) {
  samples.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
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
    // CPU time (the process and its children, e.g. Python) is steadier than wall time on a busy machine.
    cpu_median_ms: cpu.length ? cpu[Math.floor(cpu.length / 2)] : null,
    load_average_1m: round(loadavg()[0]),
    ...(countModules ? { modules_loaded: modulesLoaded(args, cwd) } : {}),
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

  if (against) {
    // node -e 0, this build and the other, interleaved: one load for all three.
    measureEach([
      { name: 'node-floor', label: 'node -e 0', args: ['-e', '0'] },
      { name: 'help', label: 'aerogrid --help', args: [bin, '--help'], goal: 150, countModules: true },
      { name: 'help-against', label: `${against} --help`, args: [against, '--help'], goal: 150, countModules: true },
    ], work);
  } else {
    measure('node-floor', 'node -e 0', ['-e', '0'], work);
    measure('help', 'aerogrid --help', [bin, '--help'], work, 150, { countModules: true });
  }
  measure('validate', 'aerogrid validate <orders-sum connector>', [bin, 'validate', connector], connector, 400);
  measure('validate-json', 'aerogrid validate --json <orders-sum connector>', [bin, 'validate', connector, '--json'], connector, 400);
} finally {
  rmSync(work, { recursive: true, force: true });
}
