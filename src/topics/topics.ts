// `aerogrid topic create|list|describe`: the topics of a broker, the local one by default, so that
// data can get in without writing a Kafka client (the local broker never creates topics by itself).
import type { KafkaClient } from '@aerogrid/sidecar/kafka';
import { closestName } from '../repo-layout/names.js';
import { CliError, ExitCode } from '../errors.js';
import { brokerArg, checkTopicName, type Connection } from './client.js';

export interface PartitionInfo {
  partition: number;
  /** The first offset still stored. */
  earliest: number;
  /** The next offset to be written (the high watermark). */
  latest: number;
  /** latest - earliest: the records stored (transaction markers count too). */
  messages: number;
}

export interface TopicInfo {
  topic: string;
  broker: string;
  partitions: PartitionInfo[];
  messages: number;
}

export interface CreatedTopic {
  topic: string;
  broker: string;
  partitions: number;
  /** False when it existed already (--if-not-exists). */
  created: boolean;
}

export async function createTopic(c: Connection, kafka: KafkaClient, name: string, options: { partitions?: number; ifNotExists?: boolean }): Promise<CreatedTopic> {
  checkTopicName(name);
  if (await kafka.topicExists(name)) {
    const partitions = await kafka.partitionCount(name);
    if (!options.ifNotExists) {
      throw new CliError(`Topic '${name}' already exists on ${c.broker} (${plural(partitions, 'partition')}); it was left as it is.`, {
        exitCode: ExitCode.invalid,
        hint: `\`aerogrid topic describe ${name}${brokerArg(c)}\` shows it; add --if-not-exists to accept an existing topic.`,
      });
    }
    return { topic: name, broker: c.broker, partitions, created: false };
  }
  const created = await kafka.ensureTopic(name, options.partitions ? { partitions: options.partitions } : {});
  return { topic: name, broker: c.broker, partitions: await kafka.partitionCount(name), created };
}

export async function listTopics(c: Connection, kafka: KafkaClient): Promise<Array<{ topic: string; partitions: number; messages: number }>> {
  const names = await kafka.listTopics();
  const offsets = await kafka.manyTopicOffsets(names);
  return names.filter((topic) => offsets.has(topic)).map((topic) => {
    const partitions = toPartitions(offsets.get(topic)!);
    return { topic, partitions: partitions.length, messages: sum(partitions) };
  });
}

export async function describeTopic(c: Connection, kafka: KafkaClient, name: string): Promise<TopicInfo> {
  checkTopicName(name);
  await requireTopic(c, kafka, name);
  const partitions = toPartitions(await kafka.topicOffsets(name));
  return { topic: name, broker: c.broker, partitions, messages: sum(partitions) };
}

/** Fails with the command that creates the topic (and the closest existing name, for a typo). */
export async function requireTopic(c: Connection, kafka: KafkaClient, name: string, consequence = ''): Promise<void> {
  if (await kafka.topicExists(name)) return;
  const near = closestName(name, await kafka.listTopics());
  throw new CliError(`Topic '${name}' does not exist on ${c.broker}${consequence}.`, {
    exitCode: ExitCode.notFound,
    hint: `Create it with \`aerogrid topic create ${name}${brokerArg(c)}\` (add --partitions N to spread it)${near ? `, or did you mean '${near}'?` : '.'}`,
  });
}

function toPartitions(offsets: Array<{ partition: number; low: string; high: string }>): PartitionInfo[] {
  return offsets.map((p) => {
    const earliest = Number(p.low);
    const latest = Number(p.high);
    return { partition: p.partition, earliest, latest, messages: Math.max(0, latest - earliest) };
  });
}

const sum = (partitions: PartitionInfo[]) => partitions.reduce((n, p) => n + p.messages, 0);

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
