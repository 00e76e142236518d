// A cgroup per sandboxed runtime (the local runner's stand-in for the kubelet's limits): memory and
// CPU from spec.resources, a cap on processes, and a way to kill whatever is left in it. Created
// under the cgroup serve itself runs in, so a limit set on serve still holds for its apps. cgroup v2
// (one unified tree) or v1 (one tree per controller), whichever the machine mounts.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpuMillis, memoryBytes, type ResourceLimits } from '../repo-layout/limits.js';

const ROOT = '/sys/fs/cgroup';
/** Processes (threads included) one runtime may have: room for any app, not for a fork bomb. */
export const PIDS_MAX = 512;
const CPU_PERIOD_US = 100_000;

export interface Cgroup {
  /** The cgroup.procs files a process writes its pid to, to join. */
  procsFiles: string[];
  /** SIGKILL to every process left in it. */
  killAll(): void;
  /** Kills what is left and removes the cgroup. */
  remove(): Promise<void>;
}

/** serve's own cgroup path per v1 controller, and the v2 path ('' key), from /proc/self/cgroup. */
function ownPaths(): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const controller of m[1]!.split(',')) paths.set(controller, m[2]!);
  }
  return paths;
}

/** How this machine mounts cgroups: 'v2' (unified at /sys/fs/cgroup), 'v1', or why neither works. */
export function cgroupLayout(): 'v1' | 'v2' | { problem: string } {
  if (existsSync(join(ROOT, 'cgroup.controllers'))) return 'v2';
  if (existsSync(join(ROOT, 'memory', 'memory.limit_in_bytes')) && existsSync(join(ROOT, 'cpu', 'cpu.cfs_quota_us'))) return 'v1';
  return { problem: `no cgroup memory and cpu controllers are mounted at ${ROOT}` };
}

/** Whether a process with this pid runs (signal 0 probes without sending). */
function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (error) { return (error as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Removes the cgroups `prefix-<pid>-...` left by a serve that was killed before it could (its apps
 * died with it: bubblewrap ends the sandbox when its parent goes).
 */
export async function removeStaleCgroups(prefix: string): Promise<void> {
  const layout = cgroupLayout();
  if (typeof layout !== 'string') return;
  const own = ownPaths();
  const parents = layout === 'v2' ? [join(ROOT, own.get('') ?? '/')] : ['memory', 'cpu', 'pids'].map((c) => join(ROOT, c, own.get(c) ?? '/'));
  const pattern = new RegExp(`^${prefix}-(\\d+)-`);
  for (const parent of parents) {
    let names: string[] = [];
    try { names = (await readdir(parent, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name); } catch { continue; }
    for (const name of names) {
      const pid = Number(pattern.exec(name)?.[1]);
      if (!pid || alive(pid)) continue;
      try { await rmdir(join(parent, name)); } catch { /* still in use, or not ours to remove */ }
    }
  }
}

/** Creates the cgroup `name` with `limits` applied; throws (with the file it could not write) where it cannot. */
export async function createCgroup(name: string, limits: ResourceLimits): Promise<Cgroup> {
  const layout = cgroupLayout();
  if (typeof layout !== 'string') throw new Error(layout.problem);
  const own = ownPaths();
  const memory = memoryBytes(limits.memory);
  const quota = Math.max(1000, Math.round((cpuMillis(limits.cpu) / 1000) * CPU_PERIOD_US));
  const dirs: string[] = [];
  const set = async (dir: string, file: string, value: string, optional = false) => {
    try {
      await writeFile(join(dir, file), value);
    } catch (error) {
      if (!optional) throw new Error(`cannot write ${join(dir, file)}: ${(error as Error).message}`);
    }
  };
  const cgroup: Cgroup = {
    procsFiles: [],
    killAll: () => {
      for (const dir of dirs) {
        let pids: string[] = [];
        try { pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean); } catch { /* gone */ }
        for (const pid of pids) {
          try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
        }
      }
    },
    remove: async () => {
      // A killed process leaves its cgroup a moment later: retry the rmdir briefly.
      for (const dir of dirs.reverse()) {
        for (let attempt = 0; attempt < 50; attempt++) {
          cgroup.killAll();
          try { await rmdir(dir); break; } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      }
    },
  };
  try {
    if (layout === 'v2') {
      const parent = join(ROOT, own.get('') ?? '/');
      // Controllers must be enabled for the parent's children; where serve's own cgroup holds
      // processes (and is not the root) the kernel refuses that, and a delegated subtree is needed.
      const enabled = (await readFile(join(parent, 'cgroup.subtree_control'), 'utf8')).split(/\s+/);
      const wanted = ['memory', 'cpu', 'pids'].filter((c) => !enabled.includes(c));
      if (wanted.length) await set(parent, 'cgroup.subtree_control', wanted.map((c) => `+${c}`).join(' '));
      const dir = join(parent, name);
      await mkdir(dir);
      dirs.push(dir);
      await set(dir, 'memory.max', String(memory));
      await set(dir, 'memory.swap.max', '0', true);
      await set(dir, 'cpu.max', `${quota} ${CPU_PERIOD_US}`);
      await set(dir, 'pids.max', String(PIDS_MAX), true);
    } else {
      for (const controller of ['memory', 'cpu', 'pids']) {
        if (!existsSync(join(ROOT, controller))) continue;
        const dir = join(ROOT, controller, own.get(controller) ?? '/', name);
        await mkdir(dir);
        dirs.push(dir);
      }
      const at = (controller: string) => dirs.find((d) => d.startsWith(join(ROOT, controller) + '/'))!;
      await set(at('memory'), 'memory.limit_in_bytes', String(memory));
      // With swap accounting on, swap counts too: the limit cannot be dodged by swapping.
      await set(at('memory'), 'memory.memsw.limit_in_bytes', String(memory), true);
      // Without swap accounting: no swapping at the limit either, so it holds as in a pod.
      await set(at('memory'), 'memory.swappiness', '0', true);
      await set(at('cpu'), 'cpu.cfs_period_us', String(CPU_PERIOD_US));
      await set(at('cpu'), 'cpu.cfs_quota_us', String(quota));
      if (dirs.some((d) => d.startsWith(join(ROOT, 'pids') + '/'))) await set(at('pids'), 'pids.max', String(PIDS_MAX), true);
    }
  } catch (error) {
    await cgroup.remove();
    throw error;
  }
  cgroup.procsFiles = dirs.map((d) => join(d, 'cgroup.procs'));
  return cgroup;
}
