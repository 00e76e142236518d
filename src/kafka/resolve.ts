import { CliError, ExitCode } from '../cli/errors.js';

/** HOST:PORT[,HOST:PORT...], checked before anything tries to connect. */
export function parseBrokerList(value: string): string[] {
  const brokers = value.split(',').map((b) => b.trim()).filter(Boolean);
  for (const broker of brokers) {
    const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(broker);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new CliError(`'${broker}' is not a Kafka broker address.`, { exitCode: ExitCode.usage, hint: 'Use HOST:PORT, e.g. --broker 127.0.0.1:9092 (several: a comma-separated list).' });
    }
  }
  if (brokers.length === 0) throw new CliError('--broker is empty.', { exitCode: ExitCode.usage, hint: 'Use HOST:PORT, e.g. --broker 127.0.0.1:9092.' });
  return brokers;
}

/** The broker to use: --broker, else $AEROGRID_BROKER, else the local broker (started if needed). */
export async function resolveBroker(flag: string | undefined, onProgress?: (m: string) => void): Promise<string> {
  const given = flag ?? process.env.AEROGRID_BROKER;
  if (given) return parseBrokerList(given).join(',');
  const { kafkaUp } = await import('./broker.js');
  const broker = await kafkaUp({ onProgress });
  return broker.bootstrap;
}
