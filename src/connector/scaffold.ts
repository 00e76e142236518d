// `aerogrid init`: renders a template into a new folder with a git repo and a first commit.
// All or nothing: the files are rendered in memory, written to a hidden staging folder beside the
// target, committed there, and only then renamed into place; on any failure nothing is left.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { displayFile } from '../app-spec/display.js';
import { deployedTenantProblem, dns1123Problem, topicProblem } from '@aerogrid/protocol/names';
import { formula } from '@aerogrid/protocol/excel-functions';
import { listTemplates, render, templateFiles, type TemplateInfo } from './templates.js';

export interface ScaffoldOptions {
  name: string;
  tenant: string;
  topic: string;
  template: string;
  /** Absolute target folder: must not exist, or be empty. */
  dir: string;
  /** Create a git repo with a first commit (default true). */
  git?: boolean;
  cliVersion: string;
  /** The npm package spec the pipelines install the CLI from (default: aerogrid@cliVersion). */
  cliPackage?: string;
}

export interface ScaffoldResult {
  dir: string;
  template: string;
  files: string[];
  /** The first commit, when a git repo was made. */
  commit?: string;
  branch?: string;
  /** Set when git had no user.name/user.email and a stand-in author was used. */
  standInAuthor?: boolean;
}

export function findTemplate(name: string): TemplateInfo {
  const all = listTemplates();
  const found = all.find((t) => t.name === name);
  if (!found) {
    throw new CliError(`There is no template '${name}'.`, { exitCode: ExitCode.invalid, hint: `use one of: ${all.map((t) => t.name).join(', ')} (\`aerogrid init --list-templates\` describes them)` });
  }
  return found;
}

/** Checks what init was given; throws (exit 3) before anything is written. */
export function checkInitInput(opts: Pick<ScaffoldOptions, 'name' | 'tenant' | 'topic' | 'template'>): TemplateInfo {
  const template = findTemplate(opts.template);
  const problems: string[] = [];
  const hints: string[] = [];
  const name = dns1123Problem(opts.name);
  if (name) {
    problems.push(`the name '${opts.name}' ${name.reason}`);
    hints.push(name.suggestion ? `name it '${name.suggestion}'` : 'use lowercase letters, digits and \'-\'');
  }
  const tenant = deployedTenantProblem(opts.tenant);
  if (tenant) {
    problems.push(`--tenant '${opts.tenant}' ${tenant.reason}`);
    hints.push(tenant.suggestion ? `--tenant ${tenant.suggestion}` : '--tenant with lowercase letters, digits and \'-\'');
  }
  const topic = topicProblem(opts.topic);
  if (topic) {
    problems.push(`--topic '${opts.topic}' ${topic.reason}`);
    hints.push(topic.suggestion ? `--topic ${topic.suggestion}` : '--topic with letters, digits, \'.\', \'_\' and \'-\'');
  }
  if (problems.length > 0) {
    throw new CliError(`Nothing was created: ${problems.join('; ')}.`, {
      exitCode: ExitCode.invalid,
      hint: `${hints.join('; ')} (app and tenant names become Kubernetes names: DNS-1123 labels)`,
    });
  }
  return template;
}

/**
 * The pipelines' npm package spec (a version, a tarball URL or path): written into YAML strings,
 * so only the characters such specs use.
 */
function checkCliPackage(spec: string): string {
  if (/^[A-Za-z0-9@._~:/+%=#-]+$/.test(spec) && !spec.startsWith('-')) return spec;
  throw new CliError(`--cli '${spec}' is not an npm package spec the pipelines can install.`, {
    exitCode: ExitCode.invalid,
    hint: 'give a registry version (aerogrid@0.1.0), a tarball URL (https://example.com/aerogrid-0.1.0.tgz) or a path (./aerogrid-0.1.0.tgz), without spaces or quotes',
  });
}

function checkTarget(dir: string): void {
  const shown = displayFile(dir);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new CliError(`${shown} already exists and is a file.`, { exitCode: ExitCode.invalid, hint: 'choose another name, or another folder with --dir' });
    if (readdirSync(dir).length > 0) throw new CliError(`${shown} already exists and is not empty.`, { exitCode: ExitCode.invalid, hint: 'choose another name, or another folder with --dir; init never writes into a folder that has files' });
  }
  const parent = dirname(dir);
  if (!existsSync(parent)) throw new CliError(`The folder ${displayFile(parent)} does not exist.`, { exitCode: ExitCode.notFound, hint: `create it first (\`mkdir -p ${displayFile(parent)}\`), or choose another --dir` });
}

/** What init would write, rendered in memory: checked input first (throws, exit 3), nothing touched on disk. */
export function renderConnector(opts: Omit<ScaffoldOptions, 'dir' | 'git'>): { template: TemplateInfo; files: Map<string, string> } {
  const template = checkInitInput(opts);
  const values = {
    name: opts.name,
    tenant: opts.tenant,
    topic: opts.topic,
    template: template.name,
    grid: template.grid,
    cliVersion: opts.cliVersion,
    cliPackage: checkCliPackage(opts.cliPackage ?? `aerogrid@${opts.cliVersion}`),
    // The formula the add-in knows (its namespace and function id), for the README.
    gridFormula: formula('grid', opts.name, template.grid),
    about: '',
  };
  values.about = render(template.about, values, `${template.name}/template.json`);
  const files = new Map<string, string>();
  for (const [file, text] of templateFiles(template.name)) files.set(file, render(text, values, `${template.name}/${file}`));
  return { template, files };
}

export async function scaffold(opts: ScaffoldOptions): Promise<ScaffoldResult> {
  checkInitInput(opts);
  checkTarget(opts.dir);
  const { template, files: rendered } = renderConnector(opts);

  const parent = dirname(opts.dir);
  const staging = await mkdtemp(join(parent, `.${basename(opts.dir)}.aerogrid-init-`));
  try {
    for (const [file, text] of rendered) {
      const abs = join(staging, file);
      await mkdir(dirname(abs), { recursive: true });
      await writeFile(abs, text, { flag: 'wx' });
    }
    let git: Pick<ScaffoldResult, 'commit' | 'branch' | 'standInAuthor'> = {};
    if (opts.git !== false) git = await firstCommit(staging, `Create ${opts.name} from the aerogrid '${template.name}' template`);
    if (existsSync(opts.dir)) await rmdir(opts.dir); // empty (checked above)
    await rename(staging, opts.dir);
    return { dir: opts.dir, template: template.name, files: [...rendered.keys()].sort(), ...git };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function firstCommit(dir: string, message: string): Promise<{ commit: string; branch: string; standInAuthor?: boolean }> {
  const { simpleGit } = await import('simple-git');
  const git = simpleGit({ baseDir: dir });
  try {
    await git.init(['--initial-branch=main', '--quiet']);
    await git.add('.');
    const email = (await git.getConfig('user.email')).value;
    const name = (await git.getConfig('user.name')).value;
    let standInAuthor = false;
    if (!email || !name) {
      // No identity configured (a fresh machine, a CI runner): commit as a stand-in rather than fail.
      standInAuthor = true;
      await git.addConfig('user.name', name || 'aerogrid init', false, 'local');
      await git.addConfig('user.email', email || 'aerogrid-init@localhost', false, 'local');
    }
    await git.commit(message, undefined, { '--no-verify': null, '--quiet': null });
    const commit = (await git.revparse(['HEAD'])).trim();
    if (standInAuthor) {
      // Leave no stand-in identity behind for the user's own commits.
      await git.raw(['config', '--local', '--unset', 'user.name']).catch(() => undefined);
      await git.raw(['config', '--local', '--unset', 'user.email']).catch(() => undefined);
    }
    return { commit, branch: 'main', ...(standInAuthor ? { standInAuthor } : {}) };
  } catch (error) {
    const message = (error as Error).message;
    if (/ENOENT|spawn git/.test(message)) {
      throw new CliError('git was not found, so no repo could be made (nothing was created).', { exitCode: ExitCode.environment, hint: 'install git (e.g. `apt-get install git`), or pass --no-git' });
    }
    throw new CliError(`git failed, so nothing was created: ${message.trim()}`, { exitCode: ExitCode.failure, hint: 'fix the git problem above, or pass --no-git to create the files without a repo' });
  }
}
