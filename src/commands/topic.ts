import { InvalidArgumentError, type Command } from 'commander';
import { flags } from '../cli/flags.js';

function partitionsParser(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 10_000) throw new InvalidArgumentError('expected a whole number of partitions from 1 to 10000.');
  return n;
}

export function register(program: Command): void {
  const topic = program
    .command('topic')
    .description('create, list and describe Kafka topics (the local broker unless --broker is given)')
    .addHelpText('after', `
The local broker never creates a topic by itself (a typo stays an error): create the topics an
app reads before \`aerogrid dev\`, then feed them with \`aerogrid produce\`.

Examples:
  $ aerogrid topic create orders --partitions 3
  $ aerogrid topic list
  $ aerogrid topic describe orders --json
  $ aerogrid topic list --broker kafka.example.com:9092`);

  topic
    .command('create <name>')
    .description('create a topic (fails when it exists, unless --if-not-exists)')
    .option('--partitions <n>', 'number of partitions (default: the broker\'s, 1 on the local broker)', partitionsParser)
    .option('--if-not-exists', 'succeed, changing nothing, when the topic exists already')
    .addOption(flags.broker())
    .addOption(flags.json('the topic'))
    .addHelpText('after', `
Examples:
  $ aerogrid topic create orders --partitions 3
  $ aerogrid topic create orders --if-not-exists --json`)
    .action(async (name: string, opts: { partitions?: number; ifNotExists?: boolean; broker?: string; json?: boolean }) => {
      const { checkTopicName, connect, withKafka } = await import('../topics/client.js');
      const { createTopic, plural } = await import('../topics/topics.js');
      const { info, printJson } = await import('../output.js');
      checkTopicName(name);
      const c = await connect(opts.broker, 'aerogrid-topic', { quiet: opts.json });
      const result = await withKafka(c, (kafka) => createTopic(c, kafka, name, opts));
      if (opts.json) printJson(result);
      else info(result.created ? `Created topic '${name}' on ${result.broker} (${plural(result.partitions, 'partition')}).` : `Topic '${name}' already exists on ${result.broker} (${plural(result.partitions, 'partition')}); left as it is.`);
    });

  topic
    .command('list')
    .description('list the topics, with their partitions and messages (Kafka\'s internal __ topics left out)')
    .addOption(flags.broker())
    .addOption(flags.json('the topics'))
    .addHelpText('after', `
Examples:
  $ aerogrid topic list
  $ aerogrid topic list --json        [{"topic": "orders", "partitions": 3, "messages": 12}, ...]`)
    .action(async (opts: { broker?: string; json?: boolean }) => {
      const { connect, withKafka } = await import('../topics/client.js');
      const { listTopics } = await import('../topics/topics.js');
      const { info, printJson, table } = await import('../output.js');
      const c = await connect(opts.broker, 'aerogrid-topic', { quiet: opts.json });
      const topics = await withKafka(c, (kafka) => listTopics(c, kafka));
      if (opts.json) printJson(topics);
      else if (topics.length === 0) info(`No topics on ${c.broker} yet. Create one with \`aerogrid topic create <name>\`.`);
      else process.stdout.write(table(['TOPIC', 'PARTITIONS', 'MESSAGES'], topics.map((t) => [t.topic, String(t.partitions), String(t.messages)])).join('\n') + '\n');
    });

  topic
    .command('describe <name>')
    .description('show a topic\'s partitions: earliest and latest offsets, and the messages between')
    .addOption(flags.broker())
    .addOption(flags.json('the topic'))
    .addHelpText('after', `
EARLIEST is the first offset still stored, LATEST the next one to be written; MESSAGES is the
difference (transaction markers, which apps' own topics hold, count too).

Examples:
  $ aerogrid topic describe orders
  $ aerogrid topic describe orders --json`)
    .action(async (name: string, opts: { broker?: string; json?: boolean }) => {
      const { checkTopicName, connect, withKafka } = await import('../topics/client.js');
      const { describeTopic, plural } = await import('../topics/topics.js');
      const { info, printJson, table } = await import('../output.js');
      checkTopicName(name);
      const c = await connect(opts.broker, 'aerogrid-topic', { quiet: opts.json });
      const t = await withKafka(c, (kafka) => describeTopic(c, kafka, name));
      if (opts.json) {
        printJson(t);
        return;
      }
      info(`Topic '${t.topic}' on ${t.broker}: ${plural(t.partitions.length, 'partition')}, ${plural(t.messages, 'message')}.`);
      process.stdout.write(table(['PARTITION', 'EARLIEST', 'LATEST', 'MESSAGES'], t.partitions.map((p) => [p.partition, p.earliest, p.latest, p.messages].map(String))).join('\n') + '\n');
    });
}
