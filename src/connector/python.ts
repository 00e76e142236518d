// Which Python runs a connector's checks and tests: $AEROGRID_PYTHON, else python3 on PATH.
// A pyenv shim on PATH is a bash script that costs ~100 ms of CPU before Python even starts, so
// when python3 is one, the interpreter it would pick is found the way pyenv finds it
// ($PYENV_VERSION, .python-version, $PYENV_ROOT/version) and run directly; anything unusual
// (a version prefix, several versions, 'system' with no other python3) keeps the shim.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function pyenvVersion(root: string, cwd: string): string | undefined {
  const fromEnv = process.env.PYENV_VERSION;
  if (fromEnv !== undefined) return fromEnv.split(':')[0]?.trim();
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const file = join(dir, '.python-version');
    if (existsSync(file)) return readFileSync(file, 'utf8').split(/\s+/).find(Boolean);
    if (dirname(dir) === dir) break;
  }
  const global = join(root, 'version');
  return existsSync(global) ? readFileSync(global, 'utf8').split(/\s+/).find(Boolean) ?? 'system' : 'system';
}

const cache = new Map<string, string>();

/** The Python command for a connector in `cwd`. */
export function pythonCommand(cwd: string = process.cwd()): string {
  if (process.env.AEROGRID_PYTHON) return process.env.AEROGRID_PYTHON;
  const cached = cache.get(cwd);
  if (cached) return cached;
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  let found = 'python3';
  for (let i = 0; i < dirs.length; i++) {
    const candidate = join(dirs[i]!, 'python3');
    if (!executable(candidate)) continue;
    if (!/[\\/]shims$/.test(dirs[i]!) || !existsSync(join(dirs[i]!, '..', 'versions'))) { found = candidate; break; }
    // A pyenv shim: <root>/shims/python3.
    const root = resolve(dirs[i]!, '..');
    const version = pyenvVersion(process.env.PYENV_ROOT ?? root, cwd);
    if (version && version !== 'system') {
      const direct = join(root, 'versions', version, 'bin', 'python3');
      found = executable(direct) ? direct : candidate;
      break;
    }
    if (version !== 'system') { found = candidate; break; }
    // 'system': the next python3 on PATH, past the shims.
  }
  cache.set(cwd, found);
  return found;
}
