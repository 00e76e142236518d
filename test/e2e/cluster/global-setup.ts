// Builds (once, cached by version) and starts the local control plane for the cluster suite,
// then stops it by PID. Where it cannot be built or started, the run fails with the reason.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { packageRoot } from '../../../src/paths.js';

const scripts = join(packageRoot, 'scripts', 'k8s');

function script(name: string, args: string[] = []): void {
  const run = spawnSync('bash', [join(scripts, name), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) throw new Error(`scripts/k8s/${name} failed (exit ${run.status}); its last lines above say why`);
}

export default function setup(project: TestProject): () => void {
  // A control plane started by hand (scripts/k8s/start.sh <dir>), reused and left running.
  const reuse = process.env.AEROGRID_TEST_K8S_STATE;
  if (reuse) {
    project.provide('kubeconfig', join(reuse, 'kubeconfig'));
    project.provide('k8sState', reuse);
    return () => undefined;
  }
  script('build.sh');
  const state = mkdtempSync(join(tmpdir(), 'aerogrid-k8s-'));
  script('start.sh', [state]);
  project.provide('kubeconfig', join(state, 'kubeconfig'));
  project.provide('k8sState', state);
  return () => script('stop.sh', [state]);
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    k8sState: string;
  }
}
