// A connector's files as a request gives them ({"aerogrid.yaml": "...", "app.py": "..."}, the contract's ConnectorFiles): names
// and sizes checked before anything is written, then written into a fresh folder of their own.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ApiError } from './errors.js';
import { CONNECTOR_FILES, fileNameProblem, formatBytes, SPEC_FILE } from './limits.js';

export type ConnectorFiles = Map<string, string>;

/** The `files` of a body, checked: names (never a path), count and size (413 naming the cap). */
export function connectorFiles(value: unknown): ConnectorFiles {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ApiError(400, 'bad_request', `'files' must be an object of file name to text, e.g. {"${SPEC_FILE}": "...", "app.py": "..."}`);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const files: ConnectorFiles = new Map();
  for (const [name, text] of entries) {
    const problem = fileNameProblem(name);
    if (problem) throw new ApiError(400, 'bad_file_name', problem);
    if (typeof text !== 'string') throw new ApiError(400, 'bad_request', `files['${name}'] must be the file's text`);
    const bytes = Buffer.byteLength(text);
    const max = CONNECTOR_FILES[name as keyof typeof CONNECTOR_FILES];
    if (bytes > max) throw new ApiError(413, 'too_large', `${name} is ${formatBytes(bytes)}; it may be at most ${formatBytes(max)}`);
    files.set(name, text);
  }
  for (const name of Object.keys(CONNECTOR_FILES)) if (!files.has(name)) throw new ApiError(400, 'bad_request', `'files' has no ${name}: a connector here is ${Object.keys(CONNECTOR_FILES).join(' and ')}`);
  return files;
}

/** metadata.tenant and metadata.name as aerogrid.yaml writes them, when it can be read (the full check comes later). */
export function declaredApp(files: ConnectorFiles): { tenant?: string; name?: string } {
  try {
    const value = parseYaml(files.get(SPEC_FILE) ?? '', { uniqueKeys: false }) as { metadata?: { tenant?: unknown; name?: unknown } } | null;
    const tenant = value?.metadata?.tenant;
    const name = value?.metadata?.name;
    return { ...(typeof tenant === 'string' ? { tenant } : {}), ...(typeof name === 'string' ? { name } : {}) };
  } catch {
    return {};
  }
}

/** Writes the files into a new folder of their own; `use` gets it, and it is removed after. */
export async function withConnectorFolder<T>(files: ConnectorFiles, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'aerogrid-console-'));
  try {
    for (const [name, text] of files) await writeFile(join(dir, name), text, { flag: 'wx' });
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
