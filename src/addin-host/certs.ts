// The trusted development certificate for https://localhost, as Office add-in projects make it:
// Microsoft's office-addin-dev-certs (a CA and a localhost certificate in ~/.office-addin-dev-certs,
// the CA added to the system's trust store). Made once and reused until it nears expiry.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

export interface DevCertificate {
  key: Buffer;
  cert: Buffer;
  ca: Buffer;
  /** The CA file, to trust by hand where adding it to the trust store failed. */
  caPath: string;
  /** Whether the CA is in the system's trust store (false when --no-trust, or adding it failed). */
  trusted: boolean;
  /** Why the CA could not be trusted. */
  trustProblem?: string;
}

const DAYS = 30;
const DOMAINS = ['127.0.0.1', 'localhost'];

function usable(certPath: string): boolean {
  if (!existsSync(certPath)) return false;
  try {
    // At least a day left: a certificate that expires mid-session breaks the add-in.
    return new Date(new X509Certificate(readFileSync(certPath)).validTo).getTime() > Date.now() + 86_400_000;
  } catch {
    return false;
  }
}

/** The library tells what it does on stdout; this command's output is its own. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try { return await fn(); } finally { console.log = log; }
}

export async function devCertificate(options: { trust: boolean }): Promise<DevCertificate> {
  // CommonJS modules: their exports are the default export.
  const { default: certs } = await import('office-addin-dev-certs');
  const { default: paths } = await import('office-addin-dev-certs/lib/defaults.js');
  const { caCertificatePath, localhostCertificatePath, localhostKeyPath } = paths;
  if (!usable(localhostCertificatePath) || !existsSync(localhostKeyPath) || !existsSync(caCertificatePath)) {
    await quietly(() => certs.generateCertificates(caCertificatePath, localhostCertificatePath, localhostKeyPath, DAYS, DOMAINS));
  }
  let trusted = false;
  let trustProblem: string | undefined;
  if (options.trust) {
    try {
      trusted = certs.isCaCertificateInstalled();
      if (!trusted) {
        await quietly(() => certs.installCaCertificate(caCertificatePath));
        trusted = true;
      }
    } catch (error) {
      trustProblem = (error as Error).message.split('\n')[0];
    }
  }
  return { key: readFileSync(localhostKeyPath), cert: readFileSync(localhostCertificatePath), ca: readFileSync(caCertificatePath), caPath: caCertificatePath, trusted, ...(trustProblem ? { trustProblem } : {}) };
}
