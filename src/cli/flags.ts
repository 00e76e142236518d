// The options several commands take, declared once so that each reads and behaves the same
// everywhere (as Heroku's `flags.app()` does): a command adds them with `.addOption(flags.x())`.
import { Option, type Command } from 'commander';
import { portParser } from './parse.js';

export const flags = {
  /** The OIDC issuer: auth is on when it (with --oidc-audience) is set. */
  oidcIssuer: () => new Option('--oidc-issuer <url>', 'auth on: accept OIDC access tokens from this issuer, e.g. https://example.eu.auth0.com/ (env AEROGRID_OIDC_ISSUER; unset: auth off)'),
  oidcAudience: () => new Option('--oidc-audience <aud>', 'the audience the access tokens carry, the API identifier (env AEROGRID_OIDC_AUDIENCE)'),
  jwksUri: () => new Option('--jwks-uri <url>', 'the issuer\'s keys (env AEROGRID_JWKS_URI; default: jwks_uri of its discovery document)'),
  /** The OIDC client the web console signs users in as (`aerogrid serve`). */
  oidcClientId: () => new Option('--oidc-client-id <id>', 'the OIDC client the web console signs users in as: a public client (authorization code with PKCE) whose redirect URI is the console\'s URL (env AEROGRID_OIDC_CLIENT_ID)'),
  tenantClaim: () => new Option('--tenant-claim <name>', 'the token claim naming the user\'s tenant (env AEROGRID_TENANT_CLAIM; default: tenant)'),

  /** Kafka for commands that run apps; resolveBroker() turns it into a broker list. */
  broker: () => new Option('--broker <host:port>', 'use this Kafka (env AEROGRID_BROKER; default: the local broker, started if it is not running)'),

  /**
   * The GitOps repo. For a command run in (or on) a connector folder, spec.gitops of its
   * aerogrid.yaml comes before the environment.
   */
  gitops: (options: { spec?: boolean } = {}) => new Option('--gitops <repo>', options.spec
    ? 'the GitOps repo (URL or path; default: spec.gitops of the connector\'s aerogrid.yaml, else env AEROGRID_GITOPS, else the local repo)'
    : 'the GitOps repo (URL or path; default: env AEROGRID_GITOPS, else the local repo)'),

  /** Machine-readable output: JSON alone on stdout (what: what is printed). */
  json: (what = 'the result', note?: string) => new Option('--json', `print ${what} as JSON on stdout${note ? ` (${note})` : ''}`),

  /** The tenant of an app named by its name alone (TENANT/APP also works). */
  tenant: (description = 'the app\'s tenant') => new Option('--tenant <tenant>', description),

  /**
   * With auth off, a web origin besides loopback whose pages may read the grids: a hosted add-in
   * (`https://addins.example.com`) beside a platform on 127.0.0.1. Repeatable.
   */
  allowOrigin: () => new Option('--allow-origin <origin>', 'with auth off, let pages of this origin read too, e.g. a hosted add-in at https://addins.example.com (repeatable; env AEROGRID_ALLOW_ORIGINS)')
    .argParser((value: string, previous: string[] = []) => [...previous, value]),

  /** A TCP port to listen on; 0 picks a free one. */
  port: (what: string) => new Option('--port <port>', `port of ${what} (0: any free port)`).argParser(portParser({ allowZero: true })).default(7070),
};

/** --oidc-issuer, --oidc-audience, --jwks-uri and --tenant-claim. */
export function addOidcFlags(command: Command): Command {
  return command.addOption(flags.oidcIssuer()).addOption(flags.oidcAudience()).addOption(flags.jwksUri()).addOption(flags.tenantClaim());
}

export interface OidcFlags {
  oidcIssuer?: string;
  oidcAudience?: string;
  jwksUri?: string;
  tenantClaim?: string;
}

/** The OIDC flags with their environment variables filled in where a flag is not given. */
export function oidcFlagsWithEnv(opts: OidcFlags, env: NodeJS.ProcessEnv = process.env): OidcFlags & { tenantClaim: string } {
  return {
    ...(opts.oidcIssuer ?? env.AEROGRID_OIDC_ISSUER) !== undefined ? { oidcIssuer: opts.oidcIssuer ?? env.AEROGRID_OIDC_ISSUER } : {},
    ...(opts.oidcAudience ?? env.AEROGRID_OIDC_AUDIENCE) !== undefined ? { oidcAudience: opts.oidcAudience ?? env.AEROGRID_OIDC_AUDIENCE } : {},
    ...(opts.jwksUri ?? env.AEROGRID_JWKS_URI) !== undefined ? { jwksUri: opts.jwksUri ?? env.AEROGRID_JWKS_URI } : {},
    tenantClaim: opts.tenantClaim ?? env.AEROGRID_TENANT_CLAIM ?? 'tenant',
  };
}

/**
 * --allow-origin (and AEROGRID_ALLOW_ORIGINS) checked and normalised; the processes this command
 * starts (sidecars) read them from the environment, so it is set here for them too.
 */
export async function allowedOriginsFromFlags(values: string[] | undefined): Promise<string[]> {
  const { ENV } = await import('@aerogrid/protocol/environment');
  const { parseAllowedOrigins } = await import('@aerogrid/sidecar/cors');
  const { CliError, ExitCode } = await import('../errors.js');
  let origins: string[];
  try {
    origins = parseAllowedOrigins([...(values ?? []), process.env[ENV.allowOrigins] ?? '']);
  } catch (error) {
    throw new CliError(`${(error as Error).message}.`, { exitCode: ExitCode.usage, hint: '--allow-origin https://addins.example.com (the add-in\'s origin as the browser shows it: no path, no trailing slash)' });
  }
  if (origins.length) process.env[ENV.allowOrigins] = origins.join(',');
  return origins;
}
