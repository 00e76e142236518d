import type { Command } from 'commander';
import { info } from '../output.js';
import { addOidcFlags, flags } from '../cli/flags.js';

export function register(program: Command): void {
  const command = program
    .command('dev')
    .argument('[dir]', 'the connector folder (holding aerogrid.yaml and app.py)', '.')
    .description('run a connector locally: its sidecar and Python runtime, on the local Kafka')
    .addOption(flags.broker())
    .addOption(flags.port('the viewer page, HTTP API and WebSocket'))
    .addOption(flags.tenant('tenant the app runs for, naming its consumer group (default: metadata.tenant of aerogrid.yaml, else "default")'))
    .option('--no-watch', 'do not restart the runtime when a .py file changes')
    .option('--dead-letter <policy>', 'a record that cannot be processed: dlq (dead-letter it and go on) or stop (default: spec.deadLetter.policy of aerogrid.yaml, else dlq)')
  addOidcFlags(command);
  command
    .addHelpText('after', `
When the folder has an aerogrid.yaml, it says what runs: its spec.entrypoint, its tenant (unless
--tenant is given) and its dead-letter policy. An aerogrid.yaml with errors stops the command
(exit 3) with every problem listed. Without one, the folder needs an app.py (see \`aerogrid init\`).

A dev run is a copy of the app of its own: it reads the app's topics from the start with its own
consumer group, and keeps its own changelog, dead letters and transactional id
(aerogrid.<tenant>.<app>.dev.*), so running it beside a deployed app, even on the production
broker, never fences, splits or changes the deployed app. It says so when the app is also live.

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
      const { CliError, ExitCode } = await import('../errors.js');
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
        const { dns1123Problem } = await import('../app-spec/names.js');
        const problem = dns1123Problem(opts.tenant);
        if (problem) {
          throw new CliError(`--tenant ${JSON.stringify(opts.tenant)} ${problem.reason}.`, {
            exitCode: ExitCode.usage,
            hint: problem.suggestion ? `use --tenant ${problem.suggestion}` : 'a tenant is a DNS-1123 label: lowercase letters, digits and \'-\'',
          });
        }
      }
      // The spec, read once: undefined without aerogrid.yaml; an invalid one throws (exit 3).
      const { loadSpec } = await import('../app-spec/load.js');
      const spec = (await loadSpec(dir))?.spec;
      const tenant = opts.tenant ?? spec?.tenant ?? 'default';
      const { resolveBroker } = await import('../local-kafka/resolve.js');
      const { runConnector } = await import('../runner/connector.js');
      const { runUntilInterrupted } = await import('../runner/interrupt.js');
      const broker = await resolveBroker(opts.broker, (m) => info(m));
      const connector = await runConnector({
        dir, broker, port: opts.port, tenant, watch: opts.watch, auth, viewerGroups: spec?.access.groups, instance: DEV_INSTANCE,
        ...(spec ? { app: spec.name, entrypoint: spec.entrypoint, deadLetter: spec.deadLetter.policy } : {}),
        ...(opts.deadLetter ? { deadLetter: opts.deadLetter as 'dlq' | 'stop' } : {}),
      });
      const authLine = auth ? `OIDC ${auth.issuer} (audience ${auth.audience})` : 'off (loopback only)';
      const state = await devStateLines(broker, tenant, spec?.name);
      info(`\n  Viewer: ${connector.url}\n  Grids:  ${connector.url}v1/grids\n  Kafka:  ${broker}\n  Auth:   ${authLine}\n${state}\n  Ctrl-C to stop.\n`);
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

/** What makes a dev run a copy of its own (the sidecar's `--instance`). */
const DEV_INSTANCE = 'dev';

/**
 * The start-up lines that say which Kafka state this run uses, and whether the deployed app
 * (its consumer group has members) is live beside it.
 */
async function devStateLines(broker: string, tenant: string, app: string | undefined): Promise<string> {
  const deployed = `aerogrid.${tenant}.${app ?? '<app>'}`;
  const own = `${deployed}.${DEV_INSTANCE}`;
  const line = `  State:  its own: group '${own}', changelog '${own}.changelog', dead letters '${own}.dlq', transactional id '${own}.tx'`;
  // Without aerogrid.yaml the app's name comes with the runtime's hello: nothing to look up yet.
  if (app === undefined) return `${line}\n`;
  let live = '';
  const { createKafkaClient } = await import('@aerogrid/sidecar/kafka');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'aerogrid-dev', logger: { warn: () => {}, error: () => {} } });
  try {
    const members = await kafka.groupMembers(deployed);
    if (members > 0) live = `\n  Note:   '${app}' is also deployed and live here (${members} instance${members === 1 ? '' : 's'} in group '${deployed}'); this run does not touch it.`;
  } catch {
    // Kafka unreachable: the sidecar says so.
  } finally {
    await kafka.close();
  }
  return `${line}${live}\n`;
}
