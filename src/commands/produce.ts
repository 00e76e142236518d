import { InvalidArgumentError, type Command } from 'commander';
import { flags } from '../cli/flags.js';

function rateParser(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || n > 1_000_000) throw new InvalidArgumentError('expected records per second, a number above 0 and at most 1000000.');
  return n;
}

export function register(program: Command): void {
  program
    .command('produce <topic> [file]')
    .description('send JSON lines (a file, or standard input) to a topic, one record per line')
    .option('--key-field <field>', 'take each record\'s key from this field of the line\'s object (default: no key)')
    .option('--rate <records/s>', 'send at most this many records per second (default: as fast as Kafka takes them)', rateParser)
    .addOption(flags.broker())
    .addOption(flags.json('a summary', 'records sent, blank lines skipped'))
    .addHelpText('after', `
Each non-blank line is one JSON value and becomes one record's value, as written. Every line is
checked before anything is sent: a line that is not JSON, a line without the --key-field, or a
topic that does not exist sends nothing. The topic must exist (\`aerogrid topic create\`).
Reads standard input when the file is \`-\` or not given.

Examples:
  $ aerogrid produce orders orders.jsonl --key-field order_id
  $ echo '{"order_id": "o-1", "product": "tea", "quantity": 3}' | aerogrid produce orders - --key-field order_id
  $ aerogrid produce orders orders.jsonl --rate 10 --json`)
    .action(async (topic: string, file: string | undefined, opts: { keyField?: string; rate?: number; broker?: string; json?: boolean }) => {
      const { checkTopicName, connect, withKafka } = await import('../topics/client.js');
      const { parseRecords, produceLines, readInput } = await import('../topics/produce.js');
      const { plural } = await import('../topics/topics.js');
      const { info, printJson } = await import('../output.js');
      const { CliError, ExitCode } = await import('../errors.js');
      checkTopicName(topic);
      if (opts.keyField === '') throw new CliError('--key-field is empty.', { exitCode: ExitCode.usage, hint: 'Name the field of each line\'s object that holds the key, e.g. --key-field order_id.' });
      if ((file === undefined || file === '-') && process.stdin.isTTY && !opts.json) info('Reading JSON lines from the terminal; end with Ctrl-D.');
      const input = await readInput(file);
      const parsed = parseRecords(input.text, { source: input.source, ...(opts.keyField === undefined ? {} : { keyField: opts.keyField }) });
      const c = await connect(opts.broker, 'aerogrid-produce', { quiet: opts.json });
      // Ctrl-C stops between requests: what was sent stays sent, and the count says how much.
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      try {
        const summary = await withKafka(c, (kafka) => produceLines(c, kafka, topic, parsed, { ...(opts.rate ? { rate: opts.rate } : {}), signal: stop.signal }));
        const interrupted = stop.signal.aborted && summary.records < parsed.messages.length;
        if (opts.json) printJson({ ...summary, ...(interrupted ? { interrupted: true } : {}) });
        const skipped = summary.blankLines ? ` (${plural(summary.blankLines, 'blank line')} skipped)` : '';
        if (interrupted) {
          info(`Interrupted: sent ${summary.records} of ${plural(parsed.messages.length, 'record')} to '${topic}' on ${summary.broker}.`);
          process.exitCode = ExitCode.interrupted;
        } else if (summary.records === 0) {
          info(`No records in ${input.source === '-' ? 'standard input' : input.source}${summary.blankLines ? ` (only ${plural(summary.blankLines, 'blank line')})` : ' (it is empty)'}: nothing was sent to '${topic}'.`);
        } else {
          info(`Sent ${plural(summary.records, 'record')} to '${topic}' on ${summary.broker}${skipped}.`);
        }
      } finally {
        process.off('SIGINT', onSignal);
      }
    });
}
