import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where AeroGrid keeps local state (Kafka jars and data, the local GitOps repo): $AEROGRID_HOME or ~/.aerogrid. */
export function aerogridHome(): string {
  return process.env.AEROGRID_HOME ?? join(homedir(), '.aerogrid');
}

/** The root of the aerogrid package (dist/.. or src/..). */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The Python SDK shipped with this package; put it on PYTHONPATH to run connectors. */
export const pythonSdkPath = join(packageRoot, 'sdk', 'python');

/**
 * The sidecar's entry point, wherever npm put the sidecar package (the workspace in a checkout,
 * the bundled copy in an installed package): its one-module bundle (sidecar/bundle.mjs: less
 * memory per app), or the build's main.js where there is no bundle or, in a checkout, `tsc -b`
 * rebuilt the sidecar or the contract package after the bundle was made.
 */
export function sidecarMainPath(): string {
  const dist = fileURLToPath(new URL('.', import.meta.resolve('@aerogrid/sidecar')));
  const main = join(dist, 'main.js');
  const bundle = join(dist, 'bundle', 'main.js');
  if (!existsSync(bundle)) return main;
  if (existsSync(join(dist, '..', 'src'))) {
    const protocol = fileURLToPath(new URL('.', import.meta.resolve('@aerogrid/protocol')));
    const made = statSync(bundle).mtimeMs;
    if (newestModule(dist) > made || newestModule(protocol) > made) return main;
  }
  return bundle;
}

/**
 * The newest mtime of the .js files under a build folder, its bundle left out, and the viewer's
 * browser bundle (web/build.mjs writes sidecar/dist/viewer; the sidecar does not run it).
 */
function newestModule(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'bundle' && entry.name !== 'viewer') newest = Math.max(newest, newestModule(path));
    } else if (entry.name.endsWith('.js')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}
