import type { Command } from 'commander';
import { info } from '../cli/output.js';

export function register(program: Command): void {
  program
    .command('dev')
    .argument('[dir]', 'the connector folder (holding app.py)', '.')
    .description('run a connector locally: its sidecar and Python runtime, on the local Kafka')
    .option('--broker <host:port>', 'use this Kafka instead of the local one (env AEROGRID_BROKER)')
    .option('--port <port>', 'port of the viewer page, HTTP API and WebSocket (0: any free port)', '7070')
    .option('--tenant <tenant>', 'tenant the app runs for (names its consumer group)', 'default')
    .option('--no-watch', 'do not restart the runtime when a .py file changes')
    .option('--dead-letter <policy>', 'a record that cannot be processed: dlq (dead-letter it and go on) or stop (default: spec.deadLetter.policy of aerogrid.yaml, else dlq)')
    .addHelpText('after', `
The folder needs an app.py (see \`aerogrid init\`). Kafka defaults to the local broker, which is
started if it is not running. The viewer at the printed URL shows every grid updating live;
GET /v1/grids/<grid> returns one as JSON. Ctrl-C stops everything this command started.

Examples:
  $ aerogrid dev                               the connector in this folder
  $ aerogrid dev ./ordersapp --port 8080
  $ aerogrid dev --broker kafka.internal:9092 --no-watch`)
    .action(async (dir: string, opts: { broker?: string; port: string; tenant: string; watch: boolean; deadLetter?: string }) => {
      const { resolveBroker } = await import('../kafka/resolve.js');
      const { runConnector } = await import('../local/connector.js');
      const { runUntilInterrupted } = await import('../local/interrupt.js');
      const { CliError, ExitCode } = await import('../cli/errors.js');
      if (opts.deadLetter !== undefined && opts.deadLetter !== 'dlq' && opts.deadLetter !== 'stop') {
        throw new CliError(`--dead-letter must be dlq or stop, not ${JSON.stringify(opts.deadLetter)}.`, { exitCode: ExitCode.usage });
      }
      const { loadSpec } = await import('../spec/load.js');
      const spec = (await loadSpec(dir).catch(() => undefined))?.spec;
      const broker = await resolveBroker(opts.broker, (m) => info(m));
      const connector = await runConnector({
        dir, broker, port: Number(opts.port), tenant: opts.tenant, watch: opts.watch,
        deadLetter: (opts.deadLetter as 'dlq' | 'stop' | undefined) ?? spec?.deadLetter.policy,
        deadLetterTopic: spec?.deadLetter.topic,
      });
      info(`\n  Viewer: ${connector.url}\n  Grids:  ${connector.url}v1/grids\n  Kafka:  ${broker}\n\n  Ctrl-C to stop.\n`);
      await runUntilInterrupted(connector);
    });
}

