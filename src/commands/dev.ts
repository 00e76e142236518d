import type { Command } from 'commander';
import { info } from '../cli/output.js';
import { portParser } from '../cli/parse.js';

export function register(program: Command): void {
  program
    .command('dev')
    .argument('[dir]', 'the connector folder (holding aerogrid.yaml and app.py)', '.')
    .description('run a connector locally: its sidecar and Python runtime, on the local Kafka')
    .option('--broker <host:port>', 'use this Kafka instead of the local one (env AEROGRID_BROKER)')
    .option('--port <port>', 'port of the viewer page, HTTP API and WebSocket (0: any free port)', portParser({ allowZero: true }), 7070)
    .option('--tenant <tenant>', 'tenant the app runs for, naming its consumer group (default: metadata.tenant of aerogrid.yaml, else "default")')
    .option('--no-watch', 'do not restart the runtime when a .py file changes')
    .option('--dead-letter <policy>', 'a record that cannot be processed: dlq (dead-letter it and go on) or stop (default: spec.deadLetter.policy of aerogrid.yaml, else dlq)')
    .option('--oidc-issuer <url>', 'auth on: accept OIDC access tokens from this issuer, e.g. https://example.eu.auth0.com/ (env AEROGRID_OIDC_ISSUER)')
    .option('--oidc-audience <aud>', 'the audience tokens must carry, the API identifier (env AEROGRID_OIDC_AUDIENCE)')
    .option('--jwks-uri <url>', "the issuer's keys (default: jwks_uri of its discovery document; env AEROGRID_JWKS_URI)")
    .option('--tenant-claim <name>', 'the token claim naming the tenant (default tenant; env AEROGRID_TENANT_CLAIM)')
    .addHelpText('after', `
When the folder has an aerogrid.yaml, it says what runs: its spec.entrypoint, its tenant (unless
--tenant is given), its dead-letter policy and topic (with --tenant, the topic moves to that
tenant's topics). An aerogrid.yaml with errors stops the command (exit 3) with every problem
listed. Without one, the folder needs an app.py (see \`aerogrid init\`).

Kafka defaults to the local broker, which is started if it is not running. The viewer at the
printed URL shows every grid updating live; GET /v1/grids/<grid> returns one as JSON. Ctrl-C
stops everything this command started.

Without --oidc-issuer/--oidc-audience anyone on this machine can read the grids (the sidecar
listens on loopback only). With them, HTTP needs "Authorization: Bearer <token>" and WebSocket
clients send {"op":"auth","token":...} first; the token's tenant claim must name the app's
tenant, and spec.access.groups of aerogrid.yaml (if any) limits who may read.

Examples:
  $ aerogrid dev                               the connector in this folder
  $ aerogrid dev ./ordersapp --port 8080
  $ aerogrid dev --broker kafka.internal:9092 --no-watch
  $ aerogrid dev --oidc-issuer https://example.eu.auth0.com/ --oidc-audience https://aerogrid.example/api`)
    .action(async (dir: string, opts: DevOptions) => {
      const { CliError, ExitCode } = await import('../cli/errors.js');
      const { authOptionsFrom, AuthConfigError } = await import('@aerogrid/sidecar/auth');
      let auth;
      try {
        auth = authOptionsFrom(opts);
      } catch (err) {
        if (err instanceof AuthConfigError) throw new CliError(`${err.message}.`, { exitCode: ExitCode.usage });
        throw err;
      }
      if (opts.deadLetter !== undefined && opts.deadLetter !== 'dlq' && opts.deadLetter !== 'stop') {
        throw new CliError(`--dead-letter must be dlq or stop, not ${JSON.stringify(opts.deadLetter)}.`, { exitCode: ExitCode.usage });
      }
      if (opts.tenant !== undefined) {
        const { dns1123Problem } = await import('../spec/names.js');
        const problem = dns1123Problem(opts.tenant);
        if (problem) {
          throw new CliError(`--tenant ${JSON.stringify(opts.tenant)} ${problem.reason}.`, {
            exitCode: ExitCode.usage,
            hint: problem.suggestion ? `use --tenant ${problem.suggestion}` : 'a tenant is a DNS-1123 label: lowercase letters, digits and \'-\'',
          });
        }
      }
      // The spec, read once: undefined without aerogrid.yaml; an invalid one throws (exit 3).
      const { loadSpec } = await import('../spec/load.js');
      const spec = (await loadSpec(dir))?.spec;
      const tenant = opts.tenant ?? spec?.tenant ?? 'default';
      const { resolveBroker } = await import('../kafka/resolve.js');
      const { runConnector } = await import('../local/connector.js');
      const { runUntilInterrupted } = await import('../local/interrupt.js');
      const broker = await resolveBroker(opts.broker, (m) => info(m));
      const connector = await runConnector({
        dir, broker, port: opts.port, tenant, watch: opts.watch, auth, viewerGroups: spec?.access.groups,
        ...(spec ? { app: spec.name, entrypoint: spec.entrypoint, deadLetter: spec.deadLetter.policy, deadLetterTopic: await deadLetterTopicFor(spec, tenant) } : {}),
        ...(opts.deadLetter ? { deadLetter: opts.deadLetter as 'dlq' | 'stop' } : {}),
      });
      const authLine = auth ? `OIDC ${auth.issuer} (audience ${auth.audience})` : 'off (loopback only)';
      info(`\n  Viewer: ${connector.url}\n  Grids:  ${connector.url}v1/grids\n  Kafka:  ${broker}\n  Auth:   ${authLine}\n\n  Ctrl-C to stop.\n`);
      await runUntilInterrupted(connector);
    });
}

interface DevOptions {
  broker?: string;
  port: number;
  tenant?: string;
  watch: boolean;
  deadLetter?: string;
  oidcIssuer?: string;
  oidcAudience?: string;
  jwksUri?: string;
  tenantClaim?: string;
}

/** The spec's dead-letter topic, moved into `tenant`'s topics when --tenant names another tenant. */
async function deadLetterTopicFor(spec: import('../spec/types.js').AppSpec, tenant: string): Promise<string> {
  if (tenant === spec.tenant) return spec.deadLetter.topic;
  const { tenantTopicPrefix } = await import('../spec/names.js');
  return tenantTopicPrefix(tenant) + spec.deadLetter.topic.slice(tenantTopicPrefix(spec.tenant).length);
}
