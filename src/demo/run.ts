import { join } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { info } from '../output.js';
import { resolveBroker } from '../local-kafka/resolve.js';
import { runConnector } from '../runner/connector.js';
import { runUntilInterrupted } from '../runner/interrupt.js';
import { packageRoot } from '../paths.js';
import { randomOrder } from './orders.js';

export interface DemoOptions {
  broker?: string;
  port: number;
  rate: number;
}

export async function runDemo(options: DemoOptions): Promise<void> {
  if (!Number.isFinite(options.rate) || options.rate <= 0 || options.rate > 100_000) {
    throw new CliError(`--rate must be a number of orders per second from 1 to 100000, got ${options.rate}.`, { exitCode: ExitCode.usage });
  }
  const broker = await resolveBroker(options.broker, (m) => info(m));
  const { createKafkaClient } = await import('@aerogrid/sidecar/kafka');
  const kafka = createKafkaClient({ brokers: broker.split(','), clientId: 'aerogrid-demo' });
  await kafka.ensureTopic('orders', { partitions: 3 });

  const connector = await runConnector({ dir: join(packageRoot, 'examples', 'ordersapp'), app: 'ordersapp', broker, port: options.port, watch: false });

  // Produce in small bursts so the stream looks steady at any rate.
  let produced = 0;
  let nextId = Date.now();
  const tickMs = 100;
  let carry = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      carry += (options.rate * tickMs) / 1000;
      const count = Math.floor(carry);
      carry -= count;
      if (count > 0) {
        const messages = Array.from({ length: count }, () => ({ key: `order-${nextId++}`, value: JSON.stringify(randomOrder()) }));
        try {
          await kafka.produce('orders', messages);
          produced += count;
        } catch (error) {
          info(`[demo] producing failed (${(error as Error).message}); retrying`);
        }
      }
      await new Promise((r) => setTimeout(r, tickMs));
    }
  })();

  info(`\n  AeroGrid demo is live.\n\n  Viewer: ${connector.url}\n  Grid:   ${connector.url}v1/grids/product_sum\n  Kafka:  ${broker} (topic 'orders', ${options.rate} orders/s)\n\n  Ctrl-C to stop.\n`);
  const status = setInterval(() => info(`[demo] ${produced} orders produced`), 30_000);
  await runUntilInterrupted(connector, async () => {
    stopped = true;
    clearInterval(status);
    await loop;
    await kafka.close();
  });
  clearInterval(status);
}
