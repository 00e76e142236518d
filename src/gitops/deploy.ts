// `aerogrid deploy`: read and check the connector once, render, check the manifests, then commit
// only the app's folder to the GitOps repo and push it (or open a pull request). Every step
// before the push is local and cheap.
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { collectCode, renderApp } from '../render/app.js';
import { checkFolder } from '../render/check.js';
import { preloadSchemas } from '../render/schemas.js';
import { readDeployableConnector, type AppSpec, type DeployableConnector } from '../connector/deployable.js';
import { git } from './git.js';
import { appDir } from '../repo-layout/folders.js';
import { LIMIT_RANGE_FILE, readContainerLimits, resourcesOverLimits } from '../repo-layout/limits.js';
import { topicAllowed } from '@aerogrid/protocol/names';
import { appKafkaNames } from '@aerogrid/protocol/kafka-names';
import { checkSpecText } from '../app-spec/load.js';
import { listApps } from './apps.js';
import { openPullRequest, type PullRequestOptions } from './pull-request.js';
import { cloneRepo, commitChange, pushWithRetry, resolveGitopsRepo, type WorkingCopy } from './repo.js';
import { githubToken } from './tokens.js';
import { sourceCommit } from './source.js';
import { readTenant, writeFiles } from './tenants.js';

export interface DeployOptions {
  /** The connector folder. */
  dir: string;
  /** --gitops; else the spec's `spec.gitops`, $AEROGRID_GITOPS, the local repo. */
  gitops?: string;
  dryRun?: boolean;
  /** Open a pull request instead of pushing: the token from $GITHUB_TOKEN or standard input. */
  pr?: { tokenStdin?: boolean; githubRepo?: string };
  /** More trailers for the commit (who asked, when the directory deploys for a signed-in user). */
  trailers?: Record<string, string>;
}

export interface DeployResult {
  tenant: string;
  app: string;
  /** The GitOps commit that holds this version (new, or the one already there when nothing changed). */
  commit: string;
  changed: boolean;
  dryRun: boolean;
  /** `git diff` of the app's folder (dry runs). */
  diff?: string;
  pullRequest?: { url: string; number: number; branch: string };
  sourceCommit?: string;
  pushAttempts?: number;
}

/**
 * `aerogrid deploy`: reads and checks the connector once (readDeployableConnector), resolves the
 * GitOps repo (its spec.gitops included), and commits the rendered app folder there.
 */
export async function deploy(options: DeployOptions): Promise<{ repo: string; result: DeployResult }> {
  const dir = resolve(options.dir);
  void preloadSchemas();
  const pr: PullRequestOptions | undefined = options.pr
    ? { token: await githubToken(Boolean(options.pr.tokenStdin)), ...(options.pr.githubRepo ? { githubRepo: options.pr.githubRepo } : {}) }
    : undefined;
  const reading = readDeployableConnector(dir);
  reading.catch(() => undefined); // awaited below
  // The clone does not depend on the connector's code: with --gitops it starts at once, while
  // the connector is checked; otherwise the spec's spec.gitops names the repo.
  const resolving = options.gitops
    ? resolveGitopsRepo(options.gitops)
    : reading.then(({ spec }) => resolveGitopsRepo(undefined, { ...(spec.gitops ? { gitops: spec.gitops } : {}), dir }));
  const cloning = resolving.then((repo) => cloneRepo(repo));
  cloning.catch(() => undefined); // handled below; never an unhandled rejection meanwhile
  let connector: DeployableConnector, code: Map<string, string>, source: Awaited<ReturnType<typeof sourceCommit>>;
  try {
    connector = await reading;
    [code, source] = await Promise.all([collectCode(dir, connector.spec), sourceCommit(dir)]);
  } catch (error) {
    await cloning.then((w) => w.dispose(), () => undefined);
    throw error;
  }
  const repo = await resolving;
  return { repo, result: await deployTo(await cloning, connector, code, source, { dryRun: options.dryRun, pr, trailers: options.trailers }) };
}

async function deployTo(
  work: WorkingCopy,
  connector: DeployableConnector,
  code: Map<string, string>,
  source: Awaited<ReturnType<typeof sourceCommit>>,
  options: { dryRun?: boolean; pr?: PullRequestOptions; trailers?: Record<string, string> },
): Promise<DeployResult> {
  const { spec, specText } = connector;
  try {
    await checkTenantAllows(work, spec);
    await checkWithinLimits(work, spec);
    await checkDeadLetterTopicIsOwn(work, spec);
    const folder = appDir(spec.tenant, spec.name);
    // Replace the whole folder, so files the connector dropped disappear too.
    await rm(join(work.dir, folder), { recursive: true, force: true });
    await writeFiles(work.dir, renderApp(spec, code, specText));
    await checkFolder(join(work.dir, folder), { namespace: spec.tenant });
    const base = { tenant: spec.tenant, app: spec.name, ...(source.commit ? { sourceCommit: source.commit } : {}) };

    if (options.dryRun) {
      await git(work.dir, ['add', '-A', '--', folder]);
      const diff = await git(work.dir, ['diff', '--cached', '--no-color', '--', folder]);
      return { ...base, commit: (await git(work.dir, ['rev-parse', 'HEAD'])).trim(), changed: diff.length > 0, dryRun: true, diff };
    }

    const trailers: Record<string, string> = { 'AeroGrid-App': `${spec.tenant}/${spec.name}`, 'AeroGrid-Action': 'deploy' };
    if (source.commit) trailers['AeroGrid-Source-Commit'] = source.commit + (source.dirty ? '-dirty' : '');
    Object.assign(trailers, options.trailers);
    const commit = await commitChange(work, {
      paths: [folder],
      subject: `Deploy ${spec.tenant}/${spec.name}${source.commit ? ` at ${source.commit.slice(0, 12)}` : ''}`,
      trailers,
    });
    if (!commit) {
      const current = (await git(work.dir, ['log', '-1', '--format=%H', '--', folder])).trim();
      return { ...base, commit: current, changed: false, dryRun: false };
    }
    if (options.pr) {
      const pullRequest = await openPullRequest(work, { ...options.pr, tenant: spec.tenant, app: spec.name, commit });
      return { ...base, commit, changed: true, dryRun: false, pullRequest };
    }
    const pushed = await pushWithRetry(work, {
      what: `the deploy of ${spec.tenant}/${spec.name}`,
      conflictMessage: (other) => `Another change to ${spec.tenant}/${spec.name} landed while this deploy was being pushed (${other}); its files conflict with this one.`,
    });
    return { ...base, commit: pushed.commit, changed: true, dryRun: false, pushAttempts: pushed.attempts };
  } finally {
    await work.dispose();
  }
}

async function checkTenantAllows(work: WorkingCopy, spec: AppSpec): Promise<void> {
  const tenant = await readTenant(work.dir, spec.tenant);
  if (!tenant) {
    throw new CliError(`Tenant '${spec.tenant}' is not set up in the GitOps repo ${work.repo}.`, {
      exitCode: ExitCode.notFound,
      hint: `An admin onboards it once: aerogrid tenant add ${spec.tenant} --topics ${spec.topics.join(',')}${work.repo ? ` --gitops ${work.repo}` : ''}`,
    });
  }
  const denied = spec.topics.filter((t) => !topicAllowed(t, tenant.topics));
  if (denied.length > 0) {
    throw new CliError(`Tenant '${spec.tenant}' may not read ${denied.map((t) => `'${t}'`).join(', ')} (it may read: ${tenant.topics.join(', ')}).`, {
      exitCode: ExitCode.invalid,
      hint: `Remove the topic from aerogrid.yaml, or ask an admin to allow it: aerogrid tenant add ${spec.tenant} --topics ${[...tenant.topics, ...denied].join(',')}`,
    });
  }
}

/** spec.resources against the LimitRange of the GitOps repo (what the cluster will enforce on the pod). */
async function checkWithinLimits(work: WorkingCopy, spec: AppSpec): Promise<void> {
  const limits = await readContainerLimits(work.dir);
  const over = limits ? resourcesOverLimits(spec.resources, limits) : [];
  if (!limits || over.length === 0) return;
  throw new CliError(`${spec.tenant}/${spec.name} asks for more than tenant '${spec.tenant}' allows a container: ${over.join('; ')} (its LimitRange, ${LIMIT_RANGE_FILE} in ${work.repo}, allows cpu ${limits.cpu}, memory ${limits.memory}).`, {
    exitCode: ExitCode.invalid,
    hint: `Lower spec.resources in aerogrid.yaml to at most {cpu: ${limits.cpu}, memory: ${limits.memory}}, or ask an admin to raise the limit in ${LIMIT_RANGE_FILE}.`,
  });
}

/**
 * The dead-letter topic against the other apps of the tenant in the GitOps repo (validate checks
 * what one spec can tell): never a topic another app reads, its dead-letter topic or changelog, or
 * its consumer group. A record rejected by this app would otherwise land in that app's input or state.
 */
async function checkDeadLetterTopicIsOwn(work: WorkingCopy, spec: AppSpec): Promise<void> {
  const topic = spec.deadLetter.topic;
  for (const ref of await listApps(work.dir)) {
    if (ref.tenant !== spec.tenant || ref.app === spec.name) continue;
    const file = join(work.dir, appDir(ref.tenant, ref.app), 'aerogrid.yaml');
    const other = (await checkSpecText(await readFile(file, 'utf8').catch(() => ''), file)).spec;
    const names = appKafkaNames(ref.tenant, ref.app);
    const clash: [boolean, string, string][] = [
      [Boolean(other?.topics.includes(topic)), `is a topic app '${ref.app}' reads`, 'a topic another app of the tenant reads'],
      [other?.deadLetter.topic === topic || names.deadLetters === topic, `is the dead-letter topic of app '${ref.app}'`, "another app's dead-letter topic"],
      [names.changelog === topic, `is the changelog topic of app '${ref.app}'`, "an app's changelog"],
      [names.group === topic, `is the consumer group of app '${ref.app}'`, "another app's consumer group"],
    ];
    const hit = clash.find(([yes]) => yes);
    if (hit) {
      throw new CliError(`spec.deadLetter.topic '${topic}' ${hit[1]}: a dead-letter topic may not be ${hit[2]}.`, {
        exitCode: ExitCode.invalid,
        hint: `Give the app's dead letters their own topic: remove the key to use ${appKafkaNames(spec.tenant, spec.name).deadLetters}.`,
      });
    }
  }
}
