import { mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** A cross-process lock (an exclusive mkdir) that a crashed holder cannot leave behind for long. */
export async function withLock<T>(path: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(path);
      await writeFile(join(path, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await readFile(join(path, 'pid'), 'utf8').catch(() => 'NaN'));
      if (Number.isInteger(holder) && !alive(holder)) { await rm(path, { recursive: true, force: true }); continue; }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for the lock ${path}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { recursive: true, force: true });
  }
}
