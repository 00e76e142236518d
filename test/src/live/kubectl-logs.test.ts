// A cluster's logs through kubectl, followed and then stopped. No cluster runs here, so kubectl is a
// stand-in (AEROGRID_KUBECTL, a shell script that prints lines as `kubectl logs --prefix` does and
// then waits as --follow would); the real kubectl against a real API server is the cluster suite's.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appLogs } from '../../../src/live/logs.js';
import { tempDir } from '../../helpers/gitops.js';
import { waitFor } from '../../helpers/wait.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('kubectl logs, followed', () => {
  const before = process.env.AEROGRID_KUBECTL;
  afterEach(() => {
    if (before === undefined) delete process.env.AEROGRID_KUBECTL;
    else process.env.AEROGRID_KUBECTL = before;
  });

  it('gives its lines with the container as prefix, and kills kubectl when the follow is stopped', async () => {
    const dir = await tempDir('kubectl');
    const script = join(dir, 'kubectl');
    await writeFile(script, `#!/bin/sh\necho "$@" > "${dir}/args"\necho $$ > "${dir}/pid"\necho "[pod/shop-connector-5f7c9-abcde/sidecar] ready"\necho "[pod/shop-connector-5f7c9-abcde/runtime] summing order o-1"\nexec sleep 60\n`);
    await chmod(script, 0o755);
    process.env.AEROGRID_KUBECTL = script;
    const seen: string[] = [];
    const controller = new AbortController();
    let caughtUp = false;
    const done = appLogs({ cluster: { localRunner: false } }, { tenant: 'sales', app: 'shop', tail: 50, follow: true, containerPrefix: true, signal: controller.signal, onCaughtUp: () => { caughtUp = true; } }, (lines) => seen.push(...lines));
    await waitFor('both lines', () => seen.length === 2);
    expect(seen).toEqual(['[sidecar] ready', '[runtime] summing order o-1']);
    expect(caughtUp).toBe(true);
    expect(await readFile(join(dir, 'args'), 'utf8')).toContain('logs --namespace sales deployment/shop-connector --prefix --request-timeout=10s --all-containers --follow --tail=50');
    const pid = Number(await readFile(join(dir, 'pid'), 'utf8'));
    expect(alive(pid)).toBe(true);
    controller.abort();
    await expect(done).resolves.toBe(0);
    await waitFor('kubectl gone', () => !alive(pid), 5000);
  });
});
