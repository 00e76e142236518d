// The auth both `aerogrid serve` modes (--run local, --run argocd) start with: from the flags, or
// the environment, refused before anything starts when the bind address needs auth and has none.
import type { AuthFlags, AuthOptions } from '@aerogrid/sidecar/auth';
import { CliError, ExitCode } from '../errors.js';

export interface ServeAuth {
  /** undefined = auth off. */
  auth: AuthOptions | undefined;
  /** The line to log once the directory is up: which issuer's tokens it takes, or that auth is off. */
  notice: string;
}

export async function serveAuth(options: AuthFlags & { host: string }): Promise<ServeAuth> {
  const { authOptionsFrom, assertBindAllowed, AuthConfigError, AUTH_OFF_NOTICE } = await import('@aerogrid/sidecar/auth');
  let auth: AuthOptions | undefined;
  try {
    auth = authOptionsFrom(options);
    assertBindAllowed(options.host, auth);
  } catch (error) {
    if (error instanceof AuthConfigError) throw new CliError(`${error.message}.`, { exitCode: ExitCode.usage });
    throw error;
  }
  return { auth, notice: auth ? `auth: on — tokens from ${auth.issuer} for ${auth.audience}` : AUTH_OFF_NOTICE };
}
