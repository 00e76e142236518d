// Validating a connector the page holds: the CLI's own validator (`aerogrid validate`) on the files
// written to a folder of their own, its problems said of the files by name (app.py, aerogrid.yaml),
// with the same line, column, message and fix.
import { relative, resolve } from 'node:path';
import { validateConnector } from '../connector/validate.js';
import { displayFile } from '../app-spec/display.js';
import type { Problem } from '../app-spec/types.js';
import { withConnectorFolder, type ConnectorFiles } from './files.js';

export interface ValidateAnswer {
  valid: boolean;
  errors: number;
  warnings: number;
  problems: Array<Problem & { fix?: string }>;
}

/** Where the folder shows in a message, for the user: it is not theirs to see. */
function unplace(text: string, dir: string): string {
  let out = text;
  for (const shown of new Set([dir, displayFile(dir)])) out = out.split(`${shown}/`).join('').split(shown).join('.');
  return out;
}

export function validateFiles(files: ConnectorFiles): Promise<ValidateAnswer> {
  return withConnectorFolder(files, async (dir) => {
    const result = await validateConnector(dir);
    const problems = result.problems.map((p) => ({
      ...p,
      file: p.file ? relative(dir, resolve(p.file)) || '.' : p.file,
      message: unplace(p.message, dir),
      // `fix` is the contract's name for the CLI's hint (`fix:` in its report); `hint` as in --json.
      ...(p.hint !== undefined ? { hint: unplace(p.hint, dir), fix: unplace(p.hint, dir) } : {}),
    }));
    return { valid: result.valid, errors: result.errors, warnings: result.warnings, problems };
  });
}
