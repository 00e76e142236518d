// The platform's settings as `aerogrid platform init` wrote them (platform/platform.yaml of a checkout).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PLATFORM_FILE } from '../repo-layout/folders.js';

export interface PlatformRecord { host: string; repoUrl: string; gatewayClass: string; argocdNamespace: string }

export function parsePlatformRecord(text: string): PlatformRecord | undefined {
  const spec = (parse(text) as any)?.spec;
  if (!spec?.host || !spec?.repoUrl) return undefined;
  return { host: spec.host, repoUrl: spec.repoUrl, gatewayClass: spec.gatewayClass ?? 'istio', argocdNamespace: spec.argocdNamespace ?? 'argocd' };
}

export async function readPlatform(root: string): Promise<PlatformRecord | undefined> {
  const file = join(root, PLATFORM_FILE);
  return existsSync(file) ? parsePlatformRecord(await readFile(file, 'utf8')) : undefined;
}
