#!/usr/bin/env node
// The whole suite: the Python SDK's pytest, the vitest suites against a real local Kafka, then the
// cluster suite against a real Kubernetes control plane and Argo CD.
// Ends with one summary line ("N passed, N failed, N skipped") over both runners.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const totals = { passed: 0, failed: 0, skipped: 0 };
let ok = true;

// 1. pytest (stdlib-only SDK)
const py = spawnSync('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'sdk/python/tests'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
process.stdout.write(py.stdout ?? '');
for (const [, n, what] of (py.stdout ?? '').matchAll(/(\d+) (passed|failed|skipped|error|errors)\b/g)) {
  const key = what.startsWith('error') ? 'failed' : what;
  totals[key] += Number(n);
}
if (py.status !== 0) ok = false;

// 2. vitest (the global setup starts or reuses the local Kafka broker)
const { brokerStatus, kafkaDown } = await import(join(root, 'dist', 'local-kafka', 'broker.js'));
const TEST_KAFKA_PORT = 19192; // test/global-setup.ts
const wasRunning = (await brokerStatus(TEST_KAFKA_PORT)).running;
mkdirSync(join(root, 'test-results'), { recursive: true });
const report = join(root, 'test-results', 'vitest.json');
const vt = spawnSync(join(root, 'node_modules', '.bin', 'vitest'),
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args],
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (vt.status !== 0) ok = false;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  totals.passed += r.numPassedTests;
  totals.failed += r.numFailedTests;
  totals.skipped += r.numPendingTests + (r.numTodoTests ?? 0);
} catch {
  ok = false;
}
// 3. the cluster suite: a real Kubernetes control plane and Argo CD (scripts/k8s), built once into
// $AEROGRID_HOME/k8s (25-40 minutes the first time, said while it builds) and started and stopped
// by its own global setup; where it cannot be built or started, it fails with the reason.
if (args.length === 0 || args.some((a) => a.includes('cluster'))) {
  const clusterReport = join(root, 'test-results', 'vitest-cluster.json');
  const ct = spawnSync(join(root, 'node_modules', '.bin', 'vitest'),
    ['run', '--config', 'vitest.cluster.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${clusterReport}`, ...args],
    { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (ct.status !== 0) ok = false;
  try {
    const r = JSON.parse(readFileSync(clusterReport, 'utf8'));
    totals.passed += r.numPassedTests;
    totals.failed += r.numFailedTests;
    totals.skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  } catch {
    ok = false;
  }
}
// Leave the machine as we found it: stop a broker that this run started.
if (!wasRunning && process.env.CI) await kafkaDown({ port: TEST_KAFKA_PORT });

console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(ok && totals.failed === 0 ? 0 : 1);
