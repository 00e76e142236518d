// spec.resources against the tenant's LimitRange (bases/tenant/v1/limit-range.yaml, the most one
// container may ask for): validate and deploy refuse more, and the local runner applies the same
// numbers to the runtime's sandbox, as the kubelet does in the cluster.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TENANT_BASE_DIR } from './folders.js';

/** The tenant base's LimitRange file, relative to a GitOps repo (or the skeleton it is seeded from). */
export const LIMIT_RANGE_FILE = `${TENANT_BASE_DIR}/limit-range.yaml`;

export interface ResourceLimits {
  cpu: string;
  memory: string;
}

/** Millicores of a Kubernetes CPU quantity (250m, 0.5, 2); NaN when it is none. */
export function cpuMillis(value: string): number {
  const m = /^([1-9][0-9]*)m$|^([0-9]+(?:\.[0-9]{1,3})?)$/.exec(value.trim());
  if (!m) return NaN;
  return m[1] !== undefined ? Number(m[1]) : Math.round(Number(m[2]) * 1000);
}

const MEMORY_UNITS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** Bytes of a Kubernetes memory quantity (256Mi, 1Gi, 500M); NaN when it is none. */
export function memoryBytes(value: string): number {
  const m = /^([1-9][0-9]*)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(value.trim());
  return m ? Number(m[1]) * MEMORY_UNITS[m[2] ?? '']! : NaN;
}

/**
 * The Container `max` of the LimitRange in a GitOps repo checkout (or the skeleton); undefined
 * when the repo has none (a repo that predates the tenant base sets no limit).
 */
export async function readContainerLimits(root: string): Promise<ResourceLimits | undefined> {
  const file = join(root, LIMIT_RANGE_FILE);
  if (!existsSync(file)) return undefined;
  const { parse } = await import('yaml');
  const doc = parse(await readFile(file, 'utf8')) as { spec?: { limits?: Array<{ type?: string; max?: { cpu?: unknown; memory?: unknown } }> } } | null;
  const max = doc?.spec?.limits?.find((l) => l.type === 'Container')?.max;
  if (!max || max.cpu === undefined || max.memory === undefined) return undefined;
  return { cpu: String(max.cpu), memory: String(max.memory) };
}

/** What of `resources` exceeds `limits`, one phrase per field (empty: within them). */
export function resourcesOverLimits(resources: ResourceLimits, limits: ResourceLimits): string[] {
  const over: string[] = [];
  if (cpuMillis(resources.cpu) > cpuMillis(limits.cpu)) over.push(`cpu ${resources.cpu} is more than the ${limits.cpu} allowed`);
  if (memoryBytes(resources.memory) > memoryBytes(limits.memory)) over.push(`memory ${resources.memory} is more than the ${limits.memory} allowed`);
  return over;
}
