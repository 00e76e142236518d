// How files and spec paths are shown to users. No dependencies, so that any command can use it.
import { isAbsolute, relative } from 'node:path';
import { SPEC_FILE } from './types.js';

export type Segment = string | number;

/** Shows a path the way a user would name it: spec.grids[0].name. */
export function displayPath(path: Segment[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out || SPEC_FILE;
}

/** Shows a file path as the user would type it: relative to the working directory when inside it. */
export function displayFile(abs: string): string {
  const rel = relative(process.cwd(), abs);
  if (rel === '') return '.';
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}
