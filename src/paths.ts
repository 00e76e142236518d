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
 * The sidecar's entry point: beside the sidecar package's main module, wherever npm put it (the
 * workspace in a checkout, the bundled copy in an installed package).
 */
export function sidecarMainPath(): string {
  return fileURLToPath(new URL('./main.js', import.meta.resolve('@aerogrid/sidecar')));
}
