// "Try it": a connector run offline on sample records with the SDK's test harness (try_app.py), in
// the sandbox a deployed app runs in on this machine (src/runner/sandbox.ts: bubblewrap, a clean
// environment, no network, none of the server's files, a cgroup with spec.resources as limits),
// held to a time limit. Nothing is deployed and nothing reads Kafka, so no offset moves.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAppSpec } from '../connector/deployable.js';
import { packageRoot } from '../paths.js';
import { CGROUP_PREFIX, checkSandbox, createRuntimeSandbox, sandboxWanted } from '../runner/sandbox.js';
import { readContainerLimits, resourcesOverLimits, type ResourceLimits } from '../repo-layout/limits.js';
import { ApiError } from './errors.js';
import { withConnectorFolder, type ConnectorFiles } from './files.js';
import type { TryResponse } from '@aerogrid/protocol/console-api';
import { formatBytes, MAX_CONCURRENT_TRIES, MAX_TRY_OUTPUT_BYTES, MAX_TRY_RECORDS, SPEC_DEFAULTS, SPEC_FILE, TRY_TIME_LIMIT_MS } from './limits.js';

const SCRIPT_DIR = join(packageRoot, 'src', 'console-api');
const SCRIPT = join(SCRIPT_DIR, 'try_app.py');

/** One record as the harness gets it: its key and value as text (a null value: a tombstone). */
export interface SampleRecord { key: string | null; value: string | null }

/** The contract's TryResponse (@aerogrid/protocol/console-api), and what else a try knows. */
export interface TryAnswer extends TryResponse {
  /** Whether it ran in the sandbox (false only where the server runs its apps without one). */
  sandboxed: boolean;
  topic: string;
  /** app.log(...) lines: [level, message]. */
  logs: Array<[string, string]>;
}

/**
 * Pasted JSON lines as records: one record per non-blank line. Not keyed: its value is the line as
 * written (a line that is not JSON goes in as it is, and the app dead-letters it as a deployed one
 * would). Keyed: each line is {"key": ..., "value": ...}; a string value is the record's text as it
 * is, any other value its JSON.
 */
export function sampleRecords(text: unknown, keyed?: unknown): SampleRecord[] {
  if (typeof text !== 'string') throw new ApiError(400, 'bad_request', "'records' must be the sample records as text, one JSON value per line");
  if (keyed !== undefined && typeof keyed !== 'boolean') throw new ApiError(400, 'bad_request', "'keyed' must be true or false");
  const lines = text.split(/\r?\n/).map((line, i) => ({ line, n: i + 1 })).filter(({ line }) => line.trim() !== '');
  if (lines.length > MAX_TRY_RECORDS) throw new ApiError(413, 'too_large', `${lines.length} sample records is more than the ${MAX_TRY_RECORDS} a try takes`);
  return lines.map(({ line, n }) => {
    if (!keyed) return { key: null, value: line };
    let parsed: unknown;
    try { parsed = JSON.parse(line); } catch { parsed = undefined; }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !('value' in parsed)) {
      throw new ApiError(400, 'bad_request', `line ${n} of the records is not {"key": ..., "value": ...}, as keyed records are written`);
    }
    const { key, value } = parsed as { key?: unknown; value: unknown };
    return {
      key: key === undefined || key === null ? null : typeof key === 'string' ? key : JSON.stringify(key),
      value: value === null ? null : typeof value === 'string' ? value : JSON.stringify(value),
    };
  });
}

let sandboxChecked: Promise<void> | undefined;
let running = 0;
let serial = 0;

/**
 * The limits the app would run with: its spec.resources (the defaults when the spec cannot say),
 * never more than a tenant's container may have, as a deploy would refuse it.
 */
async function limitsOf(files: ConnectorFiles): Promise<{ limits: ResourceLimits; entrypoint: string }> {
  let found: { limits: ResourceLimits; entrypoint: string };
  try {
    const spec = await parseAppSpec(files.get(SPEC_FILE) ?? '', '.');
    found = { limits: spec.resources, entrypoint: spec.entrypoint };
  } catch {
    found = { limits: { cpu: SPEC_DEFAULTS.cpu, memory: SPEC_DEFAULTS.memory }, entrypoint: SPEC_DEFAULTS.entrypoint };
  }
  const max = await readContainerLimits(join(packageRoot, 'gitops'));
  const over = max ? resourcesOverLimits(found.limits, max) : [];
  if (over.length > 0) throw new ApiError(422, 'invalid', `spec.resources asks for more than a tenant's container may use: ${over.join('; ')}; lower it in ${SPEC_FILE} to at most {cpu: ${max!.cpu}, memory: ${max!.memory}}`);
  return found;
}

export async function tryConnector(files: ConnectorFiles, records: SampleRecord[], topic?: string): Promise<TryAnswer> {
  if (running >= MAX_CONCURRENT_TRIES) throw new ApiError(429, 'busy', `${MAX_CONCURRENT_TRIES} tries are running on this server already; try again in a few seconds`);
  running++;
  try {
    const sandbox = sandboxWanted();
    if (sandbox) {
      sandboxChecked ??= checkSandbox();
      try {
        await sandboxChecked;
      } catch (error) {
        sandboxChecked = undefined;
        throw new ApiError(503, 'sandbox_unavailable', `this server cannot sandbox user code, so it runs no tries: ${(error as Error).message}`);
      }
    }
    const { limits, entrypoint } = await limitsOf(files);
    if (!files.has(entrypoint)) throw new ApiError(400, 'bad_request', `'files' has no ${entrypoint}, the entrypoint ${SPEC_FILE} names`);
    return await withConnectorFolder(files, (codeDir) => runConfined(codeDir, entrypoint, limits, sandbox, { topic, records }));
  } finally {
    running--;
  }
}

/** What try_app.py prints. */
type RunResult =
  | { ok: true; topic: string; processed: number; grids: TryResponse['grids']; rejected: Array<{ offset: string; kind: string; reason: string }>; logs: Array<[string, string]> }
  | { ok: false; error: { code: string; message: string; line?: number; column?: number } };

async function runConfined(codeDir: string, entrypoint: string, limits: ResourceLimits, sandboxed: boolean, input: { topic?: string; records: SampleRecord[] }): Promise<TryAnswer> {
  const workDir = await mkdtemp(join(tmpdir(), 'aerogrid-try-work-'));
  const confined = await createRuntimeSandbox({
    name: `${CGROUP_PREFIX}-${process.pid}-try-${++serial}`,
    codeDir,
    workDir,
    readOnly: [SCRIPT_DIR],
    limits,
    sandbox: sandboxed,
  });
  try {
    const launch = await confined.launchPython(['-B', SCRIPT, join(codeDir, entrypoint)], {});
    return await new Promise<TryAnswer>((resolveRun, rejectRun) => {
      const child = spawn(launch.command, launch.args, { env: launch.env, cwd: launch.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: !sandboxed });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outBytes = 0;
      let errBytes = 0;
      let timedOut = false;
      let overflow = false;
      const kill = () => {
        confined.killLeftovers();
        try { child.kill('SIGKILL'); } catch { /* gone */ }
        if (!sandboxed && child.pid) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
      };
      const timer = setTimeout(() => { timedOut = true; kill(); }, TRY_TIME_LIMIT_MS);
      child.stdout.on('data', (c: Buffer) => { outBytes += c.length; if (outBytes > MAX_TRY_OUTPUT_BYTES) { overflow = true; kill(); } else out.push(c); });
      child.stderr.on('data', (c: Buffer) => { errBytes += c.length; if (errBytes <= MAX_TRY_OUTPUT_BYTES) err.push(c); });
      child.stdin.on('error', () => undefined);
      child.stdin.end(JSON.stringify(input));
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        // Tracebacks name the app's file by the folder it ran in, which is the server's, not the user's.
        const unplace = (text: string) => text.split(`${codeDir}/`).join('');
        const output = unplace(Buffer.concat(err).toString('utf8').slice(0, 64 * 1024));
        const n = input.records.length;
        const fail = (status: number, failure: string, message: string, fix: string) => rejectRun(new ApiError(status, failure, message, fix));
        if (timedOut) {
          fail(422, 'time_limit', `${entrypoint} ran longer than the ${TRY_TIME_LIMIT_MS / 1000} s a try may take on ${n} record${n === 1 ? '' : 's'} and was stopped`, 'look for a handler that loops forever or waits for something that never comes');
          return;
        }
        let result: RunResult | undefined;
        if (!overflow && code === 0) {
          try { result = JSON.parse(unplace(Buffer.concat(out).toString('utf8'))) as RunResult; } catch { /* no result */ }
        }
        if (result?.ok === false) {
          const { code: failure, message, line, column } = result.error;
          // A load failure at a line of the app's file: where, so the page marks it there.
          const where = failure === 'load_failed' && line ? { file: entrypoint, line, column: column ?? 1 } : undefined;
          rejectRun(new ApiError(failure === 'bad_input' ? 400 : 422, failure, message, failure === 'bad_input' ? 'pick a topic the app reads' : `fix ${entrypoint}${line ? ` at line ${line}` : ''}`, where));
          return;
        }
        if (result?.ok) {
          resolveRun({
            grids: result.grids,
            deadLetters: result.rejected.map((r) => {
              const index = Number(r.offset);
              const record = input.records[index];
              let value: unknown = record?.value ?? null;
              try { value = typeof value === 'string' ? JSON.parse(value) : value; } catch { /* the text as it was */ }
              return { index, key: record?.key ?? null, value, reason: r.kind, message: r.reason };
            }),
            output,
            records: n,
            sandboxed,
            topic: result.topic,
            logs: result.logs,
          });
          return;
        }
        if (overflow) fail(422, 'crashed', `${entrypoint} wrote more than ${formatBytes(MAX_TRY_OUTPUT_BYTES)} of output and was stopped`, 'print less: app.log(...) is for a line at a time');
        else if (signal === 'SIGKILL' || code === 137) fail(422, 'memory_limit', `${entrypoint} was stopped: it used more than its memory limit (${limits.memory}, spec.resources.memory in ${SPEC_FILE})`, `use less memory, or raise spec.resources.memory in ${SPEC_FILE}`);
        else fail(422, 'crashed', `${entrypoint} stopped without a result (exit ${code ?? signal}): ${output.trim().split('\n').slice(-3).join(' ') || 'no output'}`, 'see the output above');
      });
    });
  } finally {
    await confined.dispose();
    await rm(workDir, { recursive: true, force: true });
  }
}
