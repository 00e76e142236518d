import { parseBrokers } from '@aerogrid/sidecar/brokers';
import { CliError, ExitCode } from '../errors.js';

/** HOST:PORT[,HOST:PORT...], checked before anything tries to connect. */
export function parseBrokerList(value: string): string[] {
  try {
    return parseBrokers(value);
  } catch (error) {
    throw new CliError(`${(error as Error).message}.`, { exitCode: ExitCode.usage, hint: 'Use HOST:PORT, e.g. --broker 127.0.0.1:9092 (several: a comma-separated list).' });
  }
}

/** The broker to use: --broker, else $AEROGRID_BROKER, else the local broker (started if needed). */
export async function resolveBroker(flag: string | undefined, onProgress?: (m: string) => void): Promise<string> {
  const given = flag ?? process.env.AEROGRID_BROKER;
  if (given) return parseBrokerList(given).join(',');
  const { kafkaUp } = await import('./broker.js');
  const broker = await kafkaUp({ onProgress });
  return broker.bootstrap;
}
