import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { portParser } from '../cli/parse.js';
import { info, printJson, progress } from '../output.js';
import { flags } from '../cli/flags.js';

// The controller listens on port + 1, so the client port stops one short of the last port.
const portOption = ['--port <port>', 'client port (controller: port + 1)', portParser({ max: 65534 }), 19092] as const;

export function register(program: Command): void {
  const kafka = program
    .command('kafka')
    .description('manage the local single-node Apache Kafka broker (the embedded default)')
    .addHelpText('after', `
The broker is Apache Kafka 4 (KRaft, one node) run from Maven Central's jars with your Java 17+.
It listens on 127.0.0.1 only; its controller uses the next port. State lives in $AEROGRID_HOME
(default ~/.aerogrid/kafka). Tests, \`aerogrid dev\` and the demo use it unless --broker is given.

Examples:
  $ aerogrid kafka up                    start it, or reuse the running one
  $ aerogrid kafka up --json             {"bootstrap": "127.0.0.1:19092", ...}
  $ aerogrid kafka status --json
  $ aerogrid kafka down --purge          stop it and delete its topics`);

  kafka
    .command('up')
    .description('start the local broker and wait until it answers (reuses a running one)')
    .option(...portOption)
    .addOption(flags.json('the broker'))
    .action(async (opts: { port: number; json?: boolean }) => {
      const { kafkaUp } = await import('../local-kafka/broker.js');
      const spin = await progress('Starting the local Kafka broker...', { quiet: opts.json });
      try {
        const broker = await kafkaUp({ port: opts.port, onProgress: (m) => spin.update(m) });
        spin.succeed(`Kafka ${broker.version} ${broker.reused ? 'already running' : 'running'} at ${broker.bootstrap}`);
        if (opts.json) printJson(broker);
      } catch (error) {
        spin.fail('Kafka did not start');
        throw error;
      }
    });

  kafka
    .command('down')
    .description('stop the local broker')
    .option(...portOption)
    .option('--purge', 'also delete its data (all topics)')
    .addOption(flags.json())
    .action(async (opts: { port: number; purge?: boolean; json?: boolean }) => {
      const { kafkaDown } = await import('../local-kafka/broker.js');
      const result = await kafkaDown({ port: opts.port, purge: opts.purge });
      if (opts.json) printJson(result);
      else info(result.stopped ? `Kafka on port ${opts.port} stopped${result.purged ? ' and its data deleted' : ''}.` : `No Kafka was running on port ${opts.port}${result.purged ? '; its data was deleted' : ''}.`);
    });

  kafka
    .command('status')
    .description('show whether the local broker runs (exit 4 when it does not)')
    .option(...portOption)
    .addOption(flags.json('the status'))
    .action(async (opts: { port: number; json?: boolean }) => {
      const { brokerStatus } = await import('../local-kafka/broker.js');
      const status = await brokerStatus(opts.port);
      if (opts.json) printJson(status);
      else info(status.running ? `Kafka ${status.version} running at ${status.bootstrap} (pid ${status.pid}); data in ${status.dataDir}` : `Kafka is not running on port ${opts.port}. Start it with \`aerogrid kafka up\`.`);
      if (!status.running) process.exitCode = ExitCode.notFound;
    });
}
