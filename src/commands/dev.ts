import { Option, type Command } from 'commander';
import { info } from '../output.js';
import { addOidcFlags, flags } from '../cli/flags.js';
import type { DevOptions } from '../runner/dev.js';

export function register(program: Command): void {
  const command = program
    .command('dev')
    .argument('[dir]', 'the connector folder (holding aerogrid.yaml and app.py)', '.')
    .description('run a connector locally: its sidecar and Python runtime, on the local Kafka')
    .addOption(flags.broker())
    .addOption(flags.port('the viewer page, HTTP API and WebSocket'))
    .addOption(flags.tenant('tenant the app runs for, naming its consumer group (default: metadata.tenant of aerogrid.yaml, else "default")'))
    .option('--no-watch', 'do not restart the runtime when a .py file changes')
    .addOption(flags.allowOrigin())
    .addOption(new Option('--dead-letter <policy>', 'a record that cannot be processed: dlq (dead-letter it and go on) or stop (default: spec.deadLetter.policy of aerogrid.yaml, else dlq)').choices(['dlq', 'stop']))
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
listens on loopback only), and of web pages only those served from this machine, or from an
origin named with --allow-origin (an add-in hosted elsewhere). With them, HTTP needs "Authorization: Bearer <token>" and WebSocket
clients send {"op":"auth","token":...} first; the token's tenant claim must name the app's
tenant, and spec.access.groups of aerogrid.yaml (if any) limits who may read.

Examples:
  $ aerogrid dev                               the connector in this folder
  $ aerogrid dev ./ordersapp --port 8080
  $ aerogrid dev --broker kafka.internal:9092 --no-watch
  $ aerogrid dev --allow-origin https://addins.example.com     a hosted add-in, auth off
  $ aerogrid dev --oidc-issuer https://example.eu.auth0.com/ --oidc-audience https://aerogrid.example/api`)
    .action(async (dir: string, opts: DevFlags) => {
      // Before Kafka or the sidecar start: a taken port is said at once, with the free one to use.
      const { allowedOriginsFromFlags } = await import('../cli/flags.js');
      await allowedOriginsFromFlags(opts.allowOrigin);
      const { ensurePortFree } = await import('../cli/ports.js');
      await ensurePortFree(opts.port, '127.0.0.1', 'the sidecar (viewer, HTTP API and WebSocket)');
      const { runDev } = await import('../runner/dev.js');
      const { allowOrigin: _, ...devOptions } = opts;
      await runDev({ ...devOptions, dir, log: info });
    });
}

type DevFlags = Omit<DevOptions, 'dir' | 'log'> & { allowOrigin?: string[] };
