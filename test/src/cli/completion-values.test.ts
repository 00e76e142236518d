// Shell completion of what only the GitOps repo knows (app names, tenants) and of option values
// (--dead-letter, --container, --run, --template): the generated scripts, loaded in real bash and
// fish, with `aerogrid` on PATH as after an install, against a real bare GitOps repo.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalRepo } from '../../../src/gitops/repo.js';
import { bin, runCli } from '../../helpers/cli.js';
import { cliEnv, tempDir, writeConnector } from '../../helpers/gitops.js';

let env: NodeJS.ProcessEnv;
let repo: string;
let bashFile: string;
let fishFile: string;

beforeAll(async () => {
  const home = await tempDir('complete-home');
  repo = join(await tempDir('complete-remote'), 'gitops.git');
  await ensureLocalRepo(repo);
  const shims = join(home, 'bin');
  mkdirSync(shims);
  writeFileSync(join(shims, 'aerogrid'), `#!/bin/sh\nexec "${process.execPath}" "${bin}" "$@"\n`);
  chmodSync(join(shims, 'aerogrid'), 0o755);
  env = { ...process.env, ...cliEnv(home), PATH: `${shims}:${process.env.PATH}`, AEROGRID_GITOPS: repo };
  for (const [tenant, topic] of [['sales', 'orders'], ['trading', 'ticks']]) {
    expect((await runCli(['tenant', 'add', tenant, '--topics', topic], { env })).code).toBe(0);
  }
  // 'twin' in both tenants (only TENANT/APP names it), 'vwap' in one.
  for (const [name, tenant, topic] of [['vwap', 'trading', 'ticks'], ['twin', 'trading', 'ticks'], ['twin', 'sales', 'orders']]) {
    const dir = await writeConnector(join(await tempDir('complete-conn'), name!), { name: name!, tenant: tenant!, topics: [topic!] });
    const d = await runCli(['deploy', dir], { env });
    expect(d.code, d.stderr).toBe(0);
  }
  bashFile = join(home, 'aerogrid.bash');
  writeFileSync(bashFile, (await runCli(['completion', 'bash'])).stdout);
  fishFile = join(home, 'aerogrid.fish');
  writeFileSync(fishFile, (await runCli(['completion', 'fish'])).stdout);
});

function bash(words: string[], extraEnv: NodeJS.ProcessEnv = {}): string[] {
  const script = `source ${bashFile}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _aerogrid_completion; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...env, ...extraEnv } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('bash', () => {
  it('completes app names for stop, start, delete, rollback, logs and status: APP, and TENANT/APP', () => {
    for (const command of ['stop', 'start', 'delete', 'rollback', 'logs', 'status']) {
      expect(bash(['aerogrid', command, '']), command).toEqual(['sales/twin', 'trading/twin', 'trading/vwap', 'vwap']);
    }
    expect(bash(['aerogrid', 'stop', 'v'])).toEqual(['vwap']);
    expect(bash(['aerogrid', 'stop', 'trading/'])).toEqual(['trading/twin', 'trading/vwap']);
  });

  it('completes tenants for --tenant, from the repo --gitops names on the line', async () => {
    expect(bash(['aerogrid', 'stop', 'twin', '--tenant', ''])).toEqual(['sales', 'trading']);
    const other = join(await tempDir('complete-other'), 'gitops.git');
    await ensureLocalRepo(other);
    expect((await runCli(['tenant', 'add', 'ops', '--topics', 'metrics', '--gitops', other], { env })).code).toBe(0);
    expect(bash(['aerogrid', 'status', '--gitops', other, '--tenant', ''])).toEqual(['ops']);
  });

  it('completes option values: --dead-letter, --container, --run, --template', () => {
    expect(bash(['aerogrid', 'dev', '--dead-letter', ''])).toEqual(['dlq', 'stop']);
    expect(bash(['aerogrid', 'logs', 'vwap', '--container', ''])).toEqual(['runtime', 'sidecar']);
    expect(bash(['aerogrid', 'serve', '--run', ''])).toEqual(['local']);
    expect(bash(['aerogrid', 'init', '--template', 't'])).toEqual(['top-n']);
  });

  it('completes nothing, quietly, when the repo cannot be read', () => {
    expect(bash(['aerogrid', 'stop', ''], { AEROGRID_GITOPS: '/nonexistent/gitops.git' })).toEqual([]);
  });
});

it('fish completes app names, tenants and option values', () => {
  expect(spawnSync('fish', ['--version']).status, 'fish is not installed: install it (apt-get install fish)').toBe(0);
  const run = (line: string) => {
    const f = spawnSync('fish', ['--no-config', '-c', `source ${fishFile}; complete -C '${line}'`], { encoding: 'utf8', env });
    expect(f.status, f.stderr).toBe(0);
    return f.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!).sort();
  };
  expect(run('aerogrid stop ')).toEqual(['sales/twin', 'trading/twin', 'trading/vwap', 'vwap']);
  expect(run('aerogrid status --tenant ')).toEqual(['sales', 'trading']);
  expect(run('aerogrid dev --dead-letter ')).toEqual(['dlq', 'stop']);
});
