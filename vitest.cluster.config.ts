import { defineConfig } from 'vitest/config';

// The cluster suite: a real kube-apiserver, controller manager, scheduler and Argo CD, with kwok
// for the kubelets (scripts/k8s/). Its global setup builds the control plane once (cached in
// $AEROGRID_HOME/k8s; the first build takes 25-40 minutes) and starts it, failing with the reason
// where it cannot. Run with `npm run test:cluster`.
export default defineConfig({
  test: {
    include: ['test/e2e/cluster/**/*.test.ts'],
    globalSetup: ['test/e2e/cluster/global-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 300_000,
    // One control plane, one Argo CD: the files share them, one at a time.
    fileParallelism: false,
    maxWorkers: 1,
  },
});
