// The platform's settings as `platform init` wrote them (platform/platform.yaml of a checkout).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PLATFORM_FILE, parsePlatformRecord, type PlatformRecord } from './render.js';

export async function readPlatform(root: string): Promise<PlatformRecord | undefined> {
  const file = join(root, PLATFORM_FILE);
  return existsSync(file) ? parsePlatformRecord(await readFile(file, 'utf8')) : undefined;
}
