// The Kafka connection of the topic commands (`topic`, `produce`): the sidecar's client, quiet
// (kafkajs' own retry lines would bury the one error that matters), and its failures turned into
// the CLI's errors with a fix.
import type { KafkaClient } from '@aerogrid/sidecar/kafka';
import { topicProblem, TOPIC_MAX } from '@aerogrid/protocol/names';
import { CliError, ExitCode } from '../errors.js';
import { resolveBroker } from '../local-kafka/resolve.js';
import { info } from '../output.js';

export interface Connection {
  /** The bootstrap list as used (`host:port[,host:port...]`). */
  broker: string;
  /** Whether the broker was named (--broker or $AEROGRID_BROKER) rather than the local default. */
  named: boolean;
  kafka: KafkaClient;
}

/** A topic name by Kafka's rule, or a CliError that says what is wrong with it and what would do. */
export function checkTopicName(value: string): string {
  const problem = topicProblem(value);
  if (problem) {
    throw new CliError(`Topic '${value}' is not a valid Kafka topic name: it ${problem.reason}.`, {
      exitCode: ExitCode.invalid,
      hint: `Use at most ${TOPIC_MAX} letters, digits, '.', '_' and '-', not '.' or '..' alone${problem.suggestion ? ` (e.g. ${problem.suggestion})` : ''}.`,
    });
  }
  return value;
}

/** The broker (--broker, $AEROGRID_BROKER, else the local one, started if needed) and a client for it. */
export async function connect(brokerFlag: string | undefined, clientId: string, options: { quiet?: boolean } = {}): Promise<Connection> {
  const named = Boolean(brokerFlag ?? process.env.AEROGRID_BROKER);
  const broker = await resolveBroker(brokerFlag, options.quiet ? undefined : (m) => info(m));
  const { createKafkaClient } = await import('@aerogrid/sidecar/kafka');
  const kafka = createKafkaClient({ brokers: broker.split(','), clientId, logger: { warn: () => {}, error: () => {} } });
  return { broker, named, kafka };
}

/** ` --broker B` when the broker was named, so that a printed command works as shown. */
export function brokerArg(c: Pick<Connection, 'broker' | 'named'>): string {
  return c.named ? ` --broker ${c.broker}` : '';
}

/**
 * Runs `work` with the connection and closes it after; a Kafka failure (the broker unreachable,
 * a request refused) becomes a CliError naming the broker.
 */
export async function withKafka<T>(c: Connection, work: (kafka: KafkaClient) => Promise<T>): Promise<T> {
  try {
    return await work(c.kafka);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw kafkaError(error, c);
  } finally {
    await c.kafka.close();
  }
}

function kafkaError(error: unknown, c: Connection): CliError {
  const e = error as { name?: string; message?: string; cause?: { message?: string } };
  const detail = e.cause?.message && !e.message?.includes(e.cause.message) ? `${e.message}: ${e.cause.message}` : (e.message ?? '');
  const connection = /connect|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|timed? ?out|retries/i.test(detail) || e.name === 'KafkaJSConnectionError';
  if (connection) {
    return new CliError(`Cannot reach Kafka at ${c.broker} (${detail}).`, {
      exitCode: ExitCode.environment,
      hint: c.named ? 'Check --broker (or $AEROGRID_BROKER): HOST:PORT of a broker this machine can reach.' : 'Start the local broker with `aerogrid kafka up` (`aerogrid kafka status` shows whether it runs).',
    });
  }
  return new CliError(`Kafka at ${c.broker} refused the request: ${detail || String(error)}.`, {
    hint: 'The message above is Kafka\'s own; check the broker\'s log and settings (e.g. a partition count above what it allows).',
  });
}
