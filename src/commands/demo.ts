import type { Command } from 'commander';
import { flags } from '../cli/flags.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('the seed app live: local Kafka, an orders topic, random orders, the viewer URL')
    .addOption(flags.broker())
    .addOption(flags.port('the viewer page'))
    .option('--rate <orders>', 'orders produced per second', '20')
    .addHelpText('after', `
Creates the topic 'orders' (3 partitions) if needed, runs examples/ordersapp/app.py (the seed
connector, verbatim) with its sidecar, and produces random orders until Ctrl-C.

Examples:
  $ aerogrid demo
  $ aerogrid demo --rate 500 --port 8080`)
    .action(async (opts: { broker?: string; port: number; rate: string }) => {
      const { runDemo } = await import('../demo/run.js');
      await runDemo({ broker: opts.broker, port: opts.port, rate: Number(opts.rate) });
    });
}
