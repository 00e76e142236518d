// How `serve --run local` runs user code: the Python runtime in a bubblewrap sandbox (its own
// user, PID, network, IPC and mount namespaces) inside a cgroup with spec.resources as limits. It
// sees the system's programs and libraries, Python, the SDK and its own code (all read-only), its
// own working folder, and the socket to its sidecar: no other app's code or logs, no GitOps checkout,
// no other process (so no /proc/<pid>/environ), no network (so no Kafka of its own: only its
// sidecar, which holds the broker address and credentials, reads for it). Its environment is only
// what the runtime protocol needs. AEROGRID_SANDBOX=off runs it without (docs/operations.md).
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ENV } from '@aerogrid/protocol/environment';
import { CliError, ExitCode } from '../errors.js';
import { pythonSdkPath } from '../paths.js';
import type { ResourceLimits } from '../repo-layout/limits.js';
import { cgroupLayout, createCgroup, removeStaleCgroups, type Cgroup } from './cgroup.js';

/** The start of every cgroup name the runner makes: `aerogrid-<serve pid>-<tenant>-<app>`. */
export const CGROUP_PREFIX = 'aerogrid';

/** `off` runs apps unsandboxed (a machine without bubblewrap or cgroups); anything else: sandboxed. */
export const SANDBOX_SWITCH = 'AEROGRID_SANDBOX';
/** What BROKER_URI holds inside a sandboxed app: not an address; its sidecar does the reading. */
export const BROKER_PLACEHOLDER = 'sidecar';
const BWRAP = 'bwrap';
/** The user a sandboxed app runs as (inside its own user namespace). */
const NOBODY = '65534';
/** bubblewrap's isolation, the same for the probe and the apps (--disable-userns needs bubblewrap 0.8). */
const NAMESPACES = ['--unshare-all', '--unshare-user', '--disable-userns', '--uid', NOBODY, '--gid', NOBODY, '--hostname', 'aerogrid', '--die-with-parent', '--new-session'];
/** What losing the sandbox gives up, for the opt-out's notice and the refusal's fix line. */
export const UNSANDBOXED_NOTICE = 'apps then run as this user, see every file and process it can, reach the network (Kafka too) and have no memory or CPU limit';

export function sandboxWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[SANDBOX_SWITCH] !== 'off';
}

/** The Python to run inside the sandbox: the real interpreter (not a pyenv shim) and the folders it needs. */
interface PythonInstall { executable: string; folders: string[] }
let pythonInstall: Promise<PythonInstall> | undefined;

function findPython(): Promise<PythonInstall> {
  pythonInstall ??= new Promise((resolvePython, reject) => {
    const python = process.env.AEROGRID_PYTHON ?? 'python3';
    execFile(python, ['-c', 'import json, sys; print(json.dumps([sys.executable, sys.prefix, sys.base_prefix]))'], { timeout: 30_000 }, (error, stdout) => {
      if (error) { pythonInstall = undefined; reject(new Error(`cannot run ${python}: ${error.message}`)); return; }
      const [executable, prefix, basePrefix] = JSON.parse(stdout) as string[];
      const real = realpathSync(executable!);
      resolvePython({ executable: executable!, folders: [...new Set([prefix!, basePrefix!, dirname(executable!), dirname(real)])] });
    });
  });
  return pythonInstall;
}

/**
 * Whether this machine can sandbox apps; a CliError saying what is missing and how to fix it (or
 * opt out) where it cannot. Run once when serve starts, not per app.
 */
export async function checkSandbox(): Promise<void> {
  const refuse = (problem: string, fix: string) => {
    throw new CliError(`serve --run local cannot sandbox the apps on this machine: ${problem}.`, {
      exitCode: ExitCode.environment,
      hint: `${fix}; or set ${SANDBOX_SWITCH}=off to run them without a sandbox (${UNSANDBOXED_NOTICE}).`,
    });
  };
  const probe = spawnSync(BWRAP, [...NAMESPACES, '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', 'true'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error) refuse(`${BWRAP} (bubblewrap) is not installed`, 'install it (Debian/Ubuntu: apt-get install bubblewrap)');
  if (probe.status !== 0) refuse(`${BWRAP} cannot create namespaces here (${(probe.stderr || '').trim() || `exit ${probe.status}`})`, 'use bubblewrap 0.8 or newer, and allow user namespaces (sysctl kernel.unprivileged_userns_clone=1) or run serve as root');
  const layout = cgroupLayout();
  if (typeof layout !== 'string') refuse(layout.problem, 'mount the cgroup memory and cpu controllers');
  await removeStaleCgroups(CGROUP_PREFIX);
  try {
    const probeGroup = await createCgroup(`${CGROUP_PREFIX}-${process.pid}-probe`, { cpu: '100m', memory: '64Mi' });
    await probeGroup.remove();
  } catch (error) {
    refuse(`cannot create a cgroup for the apps' limits (${(error as Error).message})`, 'run serve as root, or in a cgroup v2 subtree delegated to its user (systemd: Delegate=yes)');
  }
  await findPython().catch((error: Error) => refuse(error.message, 'install Python 3.9 or newer, or set AEROGRID_PYTHON to its path'));
}

export interface RuntimeSandboxOptions {
  /** A name for the cgroup, unique on the machine (e.g. aerogrid-<pid>-<tenant>-<app>). */
  name: string;
  /** The app's code, mounted read-only. */
  codeDir: string;
  /** The app's own writable folder: its working directory and $HOME. */
  workDir: string;
  /** The folder of the socket to the sidecar (none: a run that talks to nothing). */
  socketDir?: string;
  /** More folders the program needs, mounted read-only (e.g. a script it runs). */
  readOnly?: string[];
  limits: ResourceLimits;
  /** false: the clean environment and working folder only, no bubblewrap and no cgroup (AEROGRID_SANDBOX=off). */
  sandbox: boolean;
}

/** How to start one runtime, and what to clean up after it. */
export interface RuntimeLaunch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface RuntimeSandbox {
  /** The command for `python -m aerogrid run <appFile>` with `env` (the runtime protocol's variables). */
  launch(appFile: string, env: Record<string, string>): Promise<RuntimeLaunch>;
  /** The command for `python <args>` with `env`, confined the same way. */
  launchPython(args: string[], env: Record<string, string>): Promise<RuntimeLaunch>;
  /** Kills every process the app left (a child it started) and removes the cgroup. */
  dispose(): Promise<void>;
  /** SIGKILL to every process left in the cgroup (after the runtime exits, before a restart). */
  killLeftovers(): void;
}

/** The folders every program needs (read-only), mounted as they are on this machine (a merged /usr's links as links). */
function systemMounts(): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const top of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    if (!existsSync(top)) continue;
    const stat = lstatSync(top);
    args.push(...(stat.isSymbolicLink() ? ['--symlink', readlinkSync(top), top] : ['--ro-bind', top, top]));
  }
  // Of /etc only what carries no secret: the linker's cache, the time zone, the CA certificates.
  for (const file of ['/etc/ld.so.cache', '/etc/localtime', '/etc/ssl', '/etc/ca-certificates', '/etc/alternatives']) args.push('--ro-bind-try', file, file);
  return args;
}

export async function createRuntimeSandbox(options: RuntimeSandboxOptions): Promise<RuntimeSandbox> {
  await mkdir(options.workDir, { recursive: true });
  const cgroup: Cgroup | undefined = options.sandbox ? await createCgroup(options.name, options.limits) : undefined;
  const baseEnv = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: options.workDir,
    TMPDIR: options.sandbox ? '/tmp' : options.workDir,
    PYTHONPATH: pythonSdkPath,
    PYTHONUNBUFFERED: '1',
    // The code is read-only: no __pycache__ next to it.
    PYTHONDONTWRITEBYTECODE: '1',
  };
  return {
    killLeftovers: () => cgroup?.killAll(),
    dispose: async () => { await cgroup?.remove(); },
    launch: (appFile, protocolEnv) => launchPython(['-m', 'aerogrid', 'run', appFile], protocolEnv),
    launchPython,
  };

  async function launchPython(args: string[], extraEnv: Record<string, string>): Promise<RuntimeLaunch> {
    const python = await findPython();
    const env = { ...baseEnv, ...extraEnv, [ENV.broker]: BROKER_PLACEHOLDER };
    const argv = [python.executable, ...args];
    if (!cgroup) return { command: argv[0]!, args: argv.slice(1), env, cwd: options.workDir };
    const bwrap = [
      ...NAMESPACES,
      ...systemMounts(),
      // The empty /tmp first: mounts below it (an SDK installed under /tmp, say) go on top of it.
      '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp',
      ...python.folders.flatMap((f) => ['--ro-bind', f, f]),
      '--ro-bind', pythonSdkPath, pythonSdkPath,
      ...(options.readOnly ?? []).flatMap((f) => ['--ro-bind', f, f]),
      '--ro-bind', options.codeDir, options.codeDir,
      ...(options.socketDir ? ['--bind', options.socketDir, options.socketDir] : []),
      '--bind', options.workDir, options.workDir,
      '--chdir', options.workDir,
      '--clearenv', ...Object.entries(env).flatMap(([k, v]) => ['--setenv', k, v]),
      // Python itself is the namespace's PID 1: no second bubblewrap process waiting beside each
      // app (about 1.7 MB RSS). Stopping works as before (the outer bubblewrap's death kills it,
      // --die-with-parent) and what it leaves behind goes with the cgroup (killLeftovers).
      '--as-pid-1',
      '--', ...argv,
    ];
    // The shell joins the cgroup before bubblewrap starts, so no process of the app is ever outside it.
    const join = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 126; shift; done; shift; exec "$@"';
    return { command: '/bin/sh', args: ['-c', join, 'sh', ...cgroup.procsFiles, '--', BWRAP, ...bwrap], env: { PATH: baseEnv.PATH }, cwd: options.workDir };
  }
}
