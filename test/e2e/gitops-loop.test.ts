// The whole loop on one machine: `aerogrid init` makes a connector repo; a push to it runs its
// pipeline's commands (a git post-receive hook stands in for the CI service), the deploy commit
// lands in the GitOps repo, the local runner starts the app, and its grid is live with real Kafka data.
import { execFileSync } from 'node:child_process';
import { chmod, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import { packageRoot } from '../../src/paths.js';
import { ensureLocalRepo } from '../../src/gitops/repo.js';
import type { CliProcess } from '../helpers/cli.js';
import { getJson, testBroker, uniqueName, waitFor } from '../helpers/wait.js';
import { runCli } from '../helpers/cli.js';
import { cliEnv, gitIn, startServe, stopServe, tempDir } from '../helpers/gitops.js';

describe('the whole loop on one machine (a git hook stands in for the CI service)', () => {
  const broker = testBroker();
  const tenant = uniqueName('loop').replace(/[^a-z0-9-]/g, '');
  const topic = uniqueName('loop-orders');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-loop' });
  let root: string;
  let env: NodeJS.ProcessEnv;
  let gitops: string;
  let serve: CliProcess;

  beforeAll(async () => {
    root = await tempDir('loop');
    const home = join(root, 'home');
    gitops = join(root, 'gitops.git');
    env = { ...cliEnv(home), AEROGRID_GITOPS: '', AEROGRID_ARGOCD_URL: '' };
    await ensureLocalRepo(gitops);
    await kafka.ensureTopic(topic, { partitions: 3 });
    expect((await runCli(['tenant', 'add', tenant, '--topics', topic, '--gitops', gitops], { env })).code).toBe(0);
    serve = await startServe(['--gitops', gitops, '--broker', broker, '--poll', '200'], env);
  });

  afterAll(async () => {
    await stopServe(serve);
    await kafka.close();
  });

  it('git push to the connector repo deploys it, and its grid sums real orders', async () => {
    const dir = join(root, 'loopapp');
    const init = await runCli(['init', 'loopapp', '--template', 'orders-sum', '--tenant', tenant, '--topic', topic, '--dir', dir, '--yes'], { env });
    expect(init.code, init.stderr).toBe(0);

    // The connector's remote, whose post-receive hook runs the pipeline on every push to main.
    const remote = join(root, 'loopapp.git');
    gitIn(root, ['init', '-q', '--bare', '-b', 'main', remote]);
    const shims = join(root, 'bin');
    await mkdir(shims, { recursive: true });
    await writeFile(join(shims, 'aerogrid'), `#!/bin/sh\nexec "${process.execPath}" "${join(packageRoot, 'bin', 'aerogrid')}" "$@"\n`);
    await chmod(join(shims, 'aerogrid'), 0o755);
    const ciLog = join(root, 'ci.log');
    await writeFile(join(remote, 'hooks', 'post-receive'), `#!/usr/bin/env bash
# Stands in for the CI service: on a push to main, check the commit out and run the pipeline.
set -u
while read -r old new ref; do
  [ "$ref" = refs/heads/main ] || continue
  repo="$PWD"
  unset GIT_DIR GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
  work=$(mktemp -d)
  git clone -q --branch main "$repo" "$work/src"
  ( cd "$work/src" && HOME="$work" PATH="${shims}:$PATH" "${process.execPath}" "${join(packageRoot, 'test', 'fixtures', 'gitops', 'ci-runner.mjs')}" .github/workflows/aerogrid.yml "${packageRoot}" ) > "${ciLog}" 2>&1
  echo "exit $?" >> "${ciLog}"
done
`);
    await chmod(join(remote, 'hooks', 'post-receive'), 0o755);
    gitIn(dir, ['remote', 'add', 'origin', remote]);

    const pushed = gitIn(dir, ['rev-parse', 'HEAD']).trim();
    // The push's environment reaches the hook: the pipeline's secret (the GitOps repo) and $AEROGRID_HOME.
    execFileSync('git', ['push', '-q', 'origin', 'main'], { cwd: dir, env: { ...process.env, ...env, CI_SECRET_AEROGRID_GITOPS: gitops, CI_SECRET_AEROGRID_GITOPS_TOKEN: 'unused-for-a-local-repo' } });

    const log = await readFile(ciLog, 'utf8');
    expect(log, log).toContain('::pipeline passed');
    expect(log).toMatch(/::step check \/ Validate/);
    expect(log).toMatch(/::step check \/ Run the tests/);
    expect(log).toMatch(/::step deploy \/ Deploy to the GitOps repo/);
    expect(log).toContain('exit 0');

    // The deploy commit landed, naming the pushed connector commit.
    const message = gitIn(gitops, ['log', '-1', '--format=%B', 'main']);
    expect(message).toContain(`AeroGrid-App: ${tenant}/loopapp`);
    expect(message).toContain(`AeroGrid-Source-Commit: ${pushed}`);

    // The local runner starts it; orders flow in; the grid sums them exactly.
    const live = await waitFor('the app live', async () => {
      const run = await runCli(['status', `${tenant}/loopapp`, '--gitops', gitops, '--json'], { env });
      const s = run.code === 0 ? JSON.parse(run.stdout) : null;
      return s?.live.state === 'live' ? s : null;
    }, 90_000);
    const orders = [['book', 3], ['pen', 5], ['book', 4], ['lamp', 1], ['pen', 2]] as const;
    await kafka.produce(topic, orders.map(([product, quantity], i) => ({ key: `order-${i}`, value: JSON.stringify({ product, quantity }) })));
    const grid = await waitFor('the grid to sum the orders', async () => {
      const { body } = await getJson(`${live.live.url}v1/grids/product_sum`);
      return body?.rows?.book?.units_sold === 7 && body?.rows?.pen?.units_sold === 7 && body?.rows?.lamp?.units_sold === 1 ? body : null;
    }, 60_000);
    expect(Object.keys(grid.rows).sort()).toEqual(['book', 'lamp', 'pen']);
  }, 240_000);
});
