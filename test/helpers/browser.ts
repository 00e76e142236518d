import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (installed by .ci/run), or the one named by AEROGRID_CHROMIUM. */
export const chromiumPath = process.env.AEROGRID_CHROMIUM ?? '/usr/bin/chromium';

/** A headless Chromium that talks to nothing but the loopback servers under test. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`No Chromium at ${chromiumPath}: install Debian's (apt-get install chromium) or set AEROGRID_CHROMIUM.`);
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
