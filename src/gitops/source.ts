// Where a deploy came from: the connector repo's commit, for the deploy commit's trailers.
import { git } from './git.js';

export async function sourceCommit(dir: string): Promise<{ commit?: string; dirty?: boolean }> {
  try {
    const commit = (await git(dir, ['rev-parse', 'HEAD'])).trim();
    const dirty = (await git(dir, ['status', '--porcelain', '--', '.'])).trim().length > 0;
    return { commit, dirty };
  } catch {
    return {};
  }
}
