/**
 * AeroGrid's Kafka client: kafkajs behind a small interface so the client library can be swapped.
 * Exported as `@aerogrid/sidecar/kafka`.
 *
 * ```ts
 * import { createKafkaClient } from '@aerogrid/sidecar/kafka';
 *
 * const kafka = createKafkaClient({ brokers: ['127.0.0.1:9092'], clientId: 'aerogrid-cli' });
 * await kafka.ensureTopic('orders', { partitions: 3 });          // true if it was created
 * await kafka.topicExists('orders');                              // true
 * await kafka.listTopics();                                       // ['orders', ...] (no internal topics)
 * await kafka.topicOffsets('orders');                             // [{ partition: 0, low: '0', high: '1' }, ...]
 * await kafka.deleteTopic('orders');                              // false if it did not exist
 * await kafka.produce('orders', [
 *   { key: 'order-1', value: JSON.stringify({ product: 'How to...', quantity: 300 }) },
 * ]);
 * await kafka.close();                                            // always close: it holds connections
 * ```
 *
 * Topics are never created implicitly: `produce` to a missing topic fails, so a typo in a topic
 * name is an error instead of a new topic. Connections are opened on first use and reused.
 *
 * `createConsumer` is the consumer-group wrapper the sidecar's pipeline uses: batch delivery per
 * partition, offsets resolved and committed only when the caller says so.
 */
import kafkajs from 'kafkajs';
import type {
  Admin,
  Consumer,
  Kafka,
  LogEntry,
  Producer,
  IHeaders,
  EachBatchPayload,
  SASLOptions,
} from 'kafkajs';

import { parseBrokers } from './brokers.js';
// Before any connection: kafkajs' request queue must not spin while idle.
import './request-queue-idle.js';
import type { KafkaSecurity } from './security.js';
import { singleWriterAssigner, type WriterClaim } from './single-writer.js';
import { partitionKey } from './partitions.js';

const { Kafka: KafkaCtor, logLevel: KafkaLogLevel, Partitioners, ConfigResourceTypes } = kafkajs;

/** Where kafkajs' own log lines go (WARN and above only). */
export interface KafkaLogSink {
  warn(message: string): void;
  error(message: string): void;
}

export interface KafkaClientOptions {
  /** `host:port` strings; a `kafka://` prefix is accepted and ignored. */
  brokers: string[];
  clientId: string;
  /** Receives kafkajs' warnings and errors; defaults to stderr. */
  logger?: KafkaLogSink;
  /** Connection timeout in ms (default 3000). */
  connectionTimeout?: number;
  /** SASL credentials and TLS (default: neither). */
  security?: KafkaSecurity;
}

export interface TopicOptions {
  /** Number of partitions; default: the broker's default. */
  partitions?: number;
  /** Replication factor; default: the broker's default. */
  replicationFactor?: number;
  /** Topic configuration, e.g. `{ 'cleanup.policy': 'compact' }`. */
  config?: Record<string, string>;
}

export interface ProduceMessage {
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string | Buffer>;
  /** Explicit partition; default: chosen from the key by Kafka's default partitioner. */
  partition?: number;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read, as a decimal string (Kafka's commit convention: last processed + 1). */
  offset: string;
}

export interface PartitionOffsets {
  partition: number;
  /** Decimal strings. */
  low: string;
  high: string;
}

/** One message as delivered by a consumer. */
export interface ConsumedMessage {
  offset: string;
  /** Epoch ms. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | undefined>;
}

/** The messages of one partition, in offset order, plus the controls of that delivery. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
  /** Marks messages up to and including `offset` as processed (where the next fetch starts). */
  resolveOffset(offset: string): void;
  /** Keeps the group membership alive during long processing; throws when the group is rebalancing. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True when the delivery is outdated (after a seek): stop processing it. */
  isStale(): boolean;
  /** The partition's high watermark when fetched (the next offset to be written), decimal. */
  highWatermark?: string;
}

/** One atomic step: messages to topics plus a consumer group's offsets, all or nothing. */
export interface TransactionContent {
  /**
   * `maxBatchBytes`: the topic's limit for one record batch (its `max.message.bytes`); the
   * messages go in as many produce requests as it takes to stay under it (all in the transaction).
   */
  messages: { topic: string; messages: ProduceMessage[]; maxBatchBytes?: number }[];
  consumerGroupId: string;
  offsets: TopicPartitionOffset[];
}

/**
 * Per partition (`partitionKey`), the offset of the first record a transaction wrote there.
 * With one writer per partition (the changelog), the others follow it one by one in send order.
 */
export type WrittenOffsets = Map<string, number>;

/**
 * A transactional producer (one per transactional id). `connect` fences any older producer with
 * the same id: its open transaction is aborted and it can no longer commit.
 */
export interface TransactionalProducer {
  /** Connects; this alone fences nobody (kafkajs takes the transactional epoch at the first transaction). */
  connect(): Promise<void>;
  /**
   * Takes the transactional id's epoch now (an empty transaction, begun and aborted): any older
   * producer of the id is fenced, and its open transaction aborted, before this resolves.
   */
  fence(): Promise<void>;
  /**
   * Runs one transaction; on any failure the transaction is aborted (best effort) and the error
   * thrown. Resolves with where the records went: `topic/partition` → offset of its first record.
   */
  commit(content: TransactionContent): Promise<WrittenOffsets>;
  disconnect(): Promise<void>;
}

/** A message as read by `readTopic` (header values as Kafka gave them). */
export interface ReadMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

export interface ReadTopicOptions {
  /**
   * Called with each delivery of committed messages, in offset order per partition. A returned
   * promise is awaited before the next delivery (backpressure).
   */
  onMessages(partition: number, messages: ReadMessage[]): void | Promise<void>;
  /**
   * Called once before the first delivery (`read` 0) and after each delivery, with the messages
   * read so far and the total to read (upper bound).
   */
  onProgress?(read: number, total: number): void;
  /** Called when the end is reached, before the reader's connections are closed. */
  onEnd?(read: number): void;
  /** Called once, first, with each partition's end offset that the read goes to (its high watermark then). */
  onRange?(ends: PartitionOffsets[]): void;
  /** A prefix for the throwaway consumer group used to read (default `aerogrid.read`). */
  groupPrefix?: string;
  /** Fails when nothing was read for this long (default 30 s), e.g. while Kafka is away. */
  stallMs?: number;
  /**
   * Bytes fetched per partition and request (default 32 MiB). Smaller fetches deliver the first
   * records sooner, at the cost of more requests.
   */
  maxBytesPerPartition?: number;
}

export interface GroupConsumerOptions {
  groupId: string;
  topics: string[];
  /** Where a group without committed offsets starts (default true: the earliest offset). */
  fromBeginning?: boolean;
  /**
   * With a claim: the single-writer assignor (`single-writer.ts`) instead of round robin, so one
   * member gets every partition and the others stand by; asked at every join.
   */
  claim?: () => WriterClaim;
  /** The group session timeout in ms (default 10 000); heartbeats go at a sixth of it. */
  sessionTimeout?: number;
  /** Partitions processed concurrently (default 1). */
  concurrency?: number;
  /** Called with each partition batch; offsets are neither resolved nor committed automatically. */
  onBatch(batch: PartitionBatch): Promise<void>;
  /** The consumer joined the group and has partitions assigned. */
  onJoin?(assignment: Record<string, number[]>): void;
  /** The consumer crashed; `restarting` tells whether it restarts by itself. */
  onCrash?(error: Error, restarting: boolean): void;
}

export interface FollowOptions {
  /** Per partition, the first offset to read. */
  from: { partition: number; offset: string }[];
  /** Each delivery of committed messages, in offset order per partition; awaited (backpressure). */
  onMessages(partition: number, messages: ReadMessage[]): void | Promise<void>;
  /** The next offset to read moved (also past transaction markers and aborted records). */
  onPosition?(partition: number, next: bigint): void;
  /** A prefix for the throwaway consumer group (default `aerogrid.follow`). */
  groupPrefix?: string;
  onCrash?(error: Error): void;
}

/** A reader that follows a topic as it grows (committed records only), from given offsets. */
export interface TopicFollower {
  /** Per partition, the next offset to read. */
  position(partition: number): bigint | null;
  stop(): Promise<void>;
}

export interface GroupConsumer {
  /** Connects, subscribes and starts delivering batches (returns once running). */
  start(): Promise<void>;
  /** Commits offsets for the group (each offset = the next one to read). */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Stops delivering (waits for the batch in hand) and leaves the group. */
  stop(): Promise<void>;
}

export interface KafkaClient {
  readonly brokers: string[];
  /** As given when created, so that another thread can open an equal client. */
  readonly clientId: string;
  readonly connectionTimeout: number;
  readonly security: KafkaSecurity;
  /** Creates the topic if it does not exist; true when it was created. Never changes an existing topic. */
  ensureTopic(name: string, options?: TopicOptions): Promise<boolean>;
  topicExists(name: string): Promise<boolean>;
  /** Topic names, without Kafka's internal topics (those starting with `__`), sorted. */
  listTopics(): Promise<string[]>;
  /** The number of partitions of an existing topic. */
  partitionCount(name: string): Promise<number>;
  /** Deletes the topic and waits until it is gone; false when it did not exist. */
  deleteTopic(name: string): Promise<boolean>;
  /** Per partition: the first offset still stored (`low`) and the next offset to be written (`high`). */
  topicOffsets(name: string): Promise<PartitionOffsets[]>;
  /** topicOffsets of many topics, by name, a slice at a time after one metadata request per slice; a topic gone meanwhile is left out. */
  manyTopicOffsets(names: string[]): Promise<Map<string, PartitionOffsets[]>>;
  /** Sends messages and waits for all in-sync replicas to have them. */
  produce(topic: string, messages: ProduceMessage[]): Promise<void>;
  /** The group's committed offsets for a topic (`-1` where nothing is committed). */
  committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]>;
  /** How many members the consumer group has now (0 when it is empty or unknown). */
  groupMembers(groupId: string): Promise<number>;
  /** The largest record batch the topic accepts: its `max.message.bytes` (the broker's default unless set). */
  maxMessageBytes(topic: string): Promise<number>;
  /** Follows a topic from given offsets, committed records only, until stopped. */
  followTopic(topic: string, options: FollowOptions): Promise<TopicFollower>;
  createConsumer(options: GroupConsumerOptions): GroupConsumer;
  /** A producer whose sends and offset commits are atomic per transaction. */
  createTransactionalProducer(transactionalId: string, commitTimeoutMs?: number): TransactionalProducer;
  /**
   * Reads a topic from its beginning to its current end, committed records only (read
   * committed), and returns the number of records delivered.
   */
  readTopic(topic: string, options: ReadTopicOptions): Promise<number>;
  /** Disconnects everything this client opened. */
  close(): Promise<void>;
}

export { parseBrokers };

const TRANSIENT = [
  'another concurrent operation on the same transaction',
  'coordinator is loading',
  'group coordinator is not available',
  'not the correct coordinator',
];

/** kafkajs repeats itself while a broker is down; the same message is logged at most once a minute. */
const REPEAT_WINDOW_MS = 60_000;
/** Topics per short-lived admin in manyTopicOffsets. */
const OFFSETS_SLICE = 100;

function byPartition(offsets: Array<{ partition: number; low: string; high: string }>): PartitionOffsets[] {
  return offsets.map((p) => ({ partition: p.partition, low: p.low, high: p.high })).sort((a, b) => a.partition - b.partition);
}

function kafkaLogCreator(sink: KafkaLogSink) {
  const recent = new Map<string, { at: number; suppressed: number }>();
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = log as { message: string } & Record<string, unknown>;
      const now = Date.now();
      // We retry whole transactions ourselves (abort, then re-run from the committed offsets).
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      // Transient broker answers that kafkajs retries by itself (a coordinator still loading, a
      // transaction still completing): not worth an error line; a lasting failure surfaces above.
      if (TRANSIENT.some((t) => String(extra.error ?? message).includes(t))) return;
      const key = `${namespace}|${message}`;
      const seen = recent.get(key);
      if (seen && now - seen.at < REPEAT_WINDOW_MS) {
        seen.suppressed += 1;
        return;
      }
      if (recent.size > 1000) recent.clear();
      recent.set(key, { at: now, suppressed: 0 });
      const details = Object.entries(extra)
        .filter(([k, v]) => v !== undefined && k !== 'stack' && k !== 'retryCount' && k !== 'retryTime')
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      const repeated = seen && seen.suppressed > 0 ? ` [repeated ${seen.suppressed} times]` : '';
      const line = `kafka ${namespace}: ${message}${details ? ` (${details})` : ''}${repeated}`;
      if (level === KafkaLogLevel.ERROR || level === KafkaLogLevel.NOTHING) sink.error(line);
      else sink.warn(line);
    };
}

const stderrSink: KafkaLogSink = {
  warn: (m) => void process.stderr.write(`warn: ${m}\n`),
  error: (m) => void process.stderr.write(`error: ${m}\n`),
};

function toHeaders(headers?: Record<string, string | Buffer>): IHeaders | undefined {
  return headers ? { ...headers } : undefined;
}

class KafkajsClient implements KafkaClient {
  readonly brokers: string[];
  readonly clientId: string;
  readonly connectionTimeout: number;
  readonly security: KafkaSecurity;
  private readonly kafka: Kafka;
  private admin: Promise<Admin> | null = null;
  private producer: Promise<Producer> | null = null;
  private readonly consumers = new Set<Consumer>();
  private readonly transactional = new Set<Producer>();
  /** Topics seen to exist, so that producing checks each topic once. */
  private readonly knownTopics = new Set<string>();

  constructor(options: KafkaClientOptions) {
    this.brokers = options.brokers.flatMap((b) => parseBrokers(b));
    this.clientId = options.clientId;
    this.connectionTimeout = options.connectionTimeout ?? 3000;
    this.security = options.security ?? {};
    this.kafka = new KafkaCtor({
      clientId: options.clientId,
      brokers: this.brokers,
      connectionTimeout: this.connectionTimeout,
      // A copy: kafkajs adds its mechanism's functions to the object, and ours goes to the restore
      // thread too. (kafkajs types each mechanism apart; ours is one of them, checked when read.)
      ...(this.security.sasl ? { sasl: { ...this.security.sasl } as SASLOptions } : {}),
      ...(this.security.ssl ? { ssl: true } : {}),
      logLevel: KafkaLogLevel.WARN,
      logCreator: kafkaLogCreator(options.logger ?? stderrSink),
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5000 },
    });
  }

  private getAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin.connect().then(
        () => admin,
        (err: unknown) => {
          this.admin = null;
          throw err;
        },
      );
    }
    return this.admin;
  }

  private getProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
      this.producer = producer.connect().then(
        () => producer,
        (err: unknown) => {
          this.producer = null;
          throw err;
        },
      );
    }
    return this.producer;
  }

  async ensureTopic(name: string, options: TopicOptions = {}): Promise<boolean> {
    const admin = await this.getAdmin();
    if (await this.topicExists(name)) return false;
    const configEntries = Object.entries(options.config ?? {}).map(([n, value]) => ({ name: n, value }));
    const created = await admin.createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic: name,
          numPartitions: options.partitions ?? -1,
          replicationFactor: options.replicationFactor ?? -1,
          configEntries,
        },
      ],
    });
    await this.waitForLeaders(name);
    return created;
  }

  /**
   * Until every partition of a new topic has a leader. kafkajs' own wait (waitForLeaders) gives up
   * when the broker it asks has not yet heard of the topic (UNKNOWN_TOPIC_OR_PARTITION), which a
   * busy broker with many topics answers for a moment after the controller created it.
   */
  private async waitForLeaders(name: string, timeoutMs = 30_000): Promise<void> {
    const admin = await this.getAdmin();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const meta = await admin.fetchTopicMetadata({ topics: [name] });
        const partitions = meta.topics[0]?.partitions ?? [];
        if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
      } catch (err) {
        const e = err as { type?: string; originalError?: { type?: string } };
        const type = e.type ?? e.originalError?.type;
        if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw err;
      }
      if (Date.now() > deadline) throw new Error(`topic '${name}' was created but has no leader after ${timeoutMs / 1000} s: is the broker overloaded?`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async topicExists(name: string): Promise<boolean> {
    const admin = await this.getAdmin();
    return (await admin.listTopics()).includes(name);
  }

  async listTopics(): Promise<string[]> {
    const admin = await this.getAdmin();
    return (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort();
  }

  async partitionCount(name: string): Promise<number> {
    const admin = await this.getAdmin();
    const meta = await admin.fetchTopicMetadata({ topics: [name] });
    return meta.topics[0]?.partitions.length ?? 0;
  }

  async deleteTopic(name: string): Promise<boolean> {
    this.knownTopics.delete(name);
    const admin = await this.getAdmin();
    if (!(await this.topicExists(name))) return false;
    try {
      await admin.deleteTopics({ topics: [name] });
    } catch (err) {
      if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
    }
    const deadline = Date.now() + 10_000;
    while ((await this.topicExists(name)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return true;
  }

  async topicOffsets(name: string): Promise<PartitionOffsets[]> {
    const admin = await this.getAdmin();
    return byPartition(await admin.fetchTopicOffsets(name));
  }

  async manyTopicOffsets(names: string[]): Promise<Map<string, PartitionOffsets[]>> {
    // An admin checks every topic it has ever been asked about against its metadata on each call,
    // and refreshes them all for each new one: quadratic in a broker of 1,000s of topics. A
    // short-lived admin per slice, told its slice's topics in one request first, keeps it linear.
    const out = new Map<string, PartitionOffsets[]>();
    for (let i = 0; i < names.length; i += OFFSETS_SLICE) {
      const slice = names.slice(i, i + OFFSETS_SLICE);
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        // A topic deleted meanwhile fails this request: then it is only slower.
        await admin.fetchTopicMetadata({ topics: slice }).catch(() => undefined);
        for (let j = 0; j < slice.length; j += 16) {
          const batch = slice.slice(j, j + 16);
          // A topic deleted since it was listed is left out, not an error.
          const offsets = await Promise.all(batch.map((name) => admin.fetchTopicOffsets(name).catch(() => undefined)));
          batch.forEach((name, k) => {
            if (offsets[k]) out.set(name, byPartition(offsets[k]!));
          });
        }
      } finally {
        await admin.disconnect();
      }
    }
    return out;
  }

  async produce(topic: string, messages: ProduceMessage[]): Promise<void> {
    if (!this.knownTopics.has(topic)) {
      if (!(await this.topicExists(topic))) {
        throw new Error(`cannot produce to topic '${topic}': it does not exist (create it first, e.g. with ensureTopic)`);
      }
      this.knownTopics.add(topic);
    }
    const producer = await this.getProducer();
    await producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({
        key: m.key,
        value: m.value,
        headers: toHeaders(m.headers),
        ...(m.partition === undefined ? {} : { partition: m.partition }),
      })),
    });
  }

  async committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]> {
    const admin = await this.getAdmin();
    const result = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (result[0]?.partitions ?? []).map((p) => ({ topic, partition: p.partition, offset: p.offset }));
  }

  async groupMembers(groupId: string): Promise<number> {
    const admin = await this.getAdmin();
    const { groups } = await admin.describeGroups([groupId]);
    return groups[0]?.members.length ?? 0;
  }

  /** One setting of a topic as the broker has it (e.g. `retention.ms`); undefined when not reported. */
  async topicConfig(topic: string, name: string): Promise<string | undefined> {
    const admin = await this.getAdmin();
    const result = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [name] }],
    });
    return result.resources[0]?.configEntries.find((e) => e.configName === name)?.configValue ?? undefined;
  }

  async maxMessageBytes(topic: string): Promise<number> {
    const value = Number(await this.topicConfig(topic, 'max.message.bytes'));
    if (!Number.isInteger(value) || value <= 0) throw new Error(`cannot read max.message.bytes of topic '${topic}'`);
    return value;
  }

  createConsumer(options: GroupConsumerOptions): GroupConsumer {
    // Short timeouts: after a crash (no clean leave), the standby (or a restarted sidecar) waits
    // for the old member's session to expire before it gets the partitions.
    const sessionTimeout = options.sessionTimeout ?? 10_000;
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout,
      rebalanceTimeout: Math.max(10_000, sessionTimeout),
      heartbeatInterval: Math.max(100, Math.floor(sessionTimeout / 6)),
      maxWaitTimeInMs: Math.min(1000, Math.max(100, Math.floor(sessionTimeout / 6))),
      ...(options.claim ? { partitionAssigners: [singleWriterAssigner(options.claim)] } : {}),
      // A consumer that was stopped must never come back by itself: kafkajs may have a restart
      // pending (or in progress) after a crash, and a revenant member would hold partitions that
      // nobody processes.
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5000, restartOnFailure: async () => !stopped },
    });
    const { events } = consumer;
    let started = false;
    let stopped = false;
    consumer.on(events.GROUP_JOIN, (e) => {
      if (stopped) {
        void consumer.disconnect().catch(() => {});
        return;
      }
      options.onJoin?.(e.payload.memberAssignment);
    });
    consumer.on(events.CRASH, (e) => options.onCrash?.(e.payload.error, e.payload.restart));
    this.consumers.add(consumer);
    return {
      start: async () => {
        if (started) return;
        started = true;
        await consumer.connect();
        await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: Math.max(1, options.concurrency ?? 1),
          eachBatch: async (payload: EachBatchPayload) => {
            const { batch } = payload;
            await options.onBatch({
              topic: batch.topic,
              partition: batch.partition,
              messages: batch.messages.map((m) => ({
                offset: m.offset,
                timestamp: Number(m.timestamp),
                key: m.key ?? null,
                value: m.value ?? null,
                headers: (m.headers ?? {}) as Record<string, Buffer | string | undefined>,
              })),
              resolveOffset: (offset) => payload.resolveOffset(offset),
              heartbeat: () => payload.heartbeat(),
              isRunning: () => payload.isRunning(),
              isStale: () => payload.isStale(),
              highWatermark: batch.highWatermark,
            });
          },
        });
      },
      commit: async (offsets) => {
        if (offsets.length > 0) await consumer.commitOffsets(offsets);
      },
      stop: async () => {
        stopped = true;
        this.consumers.delete(consumer);
        try {
          await consumer.stop();
        } finally {
          await consumer.disconnect();
        }
      },
    };
  }

  createTransactionalProducer(transactionalId: string, commitTimeoutMs = 45_000): TransactionalProducer {
    const producer = this.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
      // Right after a fence or a broker restart the coordinator answers "concurrent transactions"
      // for a while: retry longer than for plain requests.
      retry: { retries: 12, initialRetryTime: 20, maxRetryTime: 5000 },
    });
    this.transactional.add(producer);
    const withTimeout = <T>(what: string, ms: number, p: Promise<T>): Promise<T> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
      });
      return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
    };
    return {
      connect: () => producer.connect(),
      fence: async () => {
        // InitProducerId with the transactional id: Kafka bumps the epoch and aborts (or completes)
        // the last one's transaction. Aborting an empty transaction sends nothing more.
        await (await producer.transaction()).abort();
      },
      commit: (content) => withTimeout('the transaction', commitTimeoutMs, this.runTransaction(producer, content, withTimeout)),
      disconnect: async () => {
        this.transactional.delete(producer);
        await producer.disconnect();
      },
    };
  }

  private async runTransaction(
    producer: Producer,
    { messages, consumerGroupId, offsets }: TransactionContent,
    withTimeout: <T>(what: string, ms: number, p: Promise<T>) => Promise<T>,
  ): Promise<WrittenOffsets> {
    const tx = await producer.transaction();
    const written: WrittenOffsets = new Map();
    try {
      for (const request of produceRequests(messages)) {
        for (const m of await tx.sendBatch({ topicMessages: request, acks: -1 })) {
          const k = partitionKey(m.topicName, m.partition);
          if (!written.has(k) && m.baseOffset !== undefined) written.set(k, Number(m.baseOffset));
        }
      }
      if (offsets.length > 0) {
        const byTopic = new Map<string, { partition: number; offset: string }[]>();
        for (const o of offsets) {
          let list = byTopic.get(o.topic);
          if (!list) byTopic.set(o.topic, (list = []));
          list.push({ partition: o.partition, offset: o.offset });
        }
        await tx.sendOffsets({ consumerGroupId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
      }
      await tx.commit();
      return written;
    } catch (err) {
      if (tx.isActive()) await withTimeout('aborting the transaction', 10_000, tx.abort()).catch(() => {});
      throw err;
    }
  }

  /**
   * A consumer of a throwaway group that reads `topic`'s committed records from its beginning
   * (read committed), for readTopic and followTopic. `onBatchEnd` sees every batch's last offset,
   * also of batches made only of transaction markers or aborted records (not delivered, but they
   * move the position: the instrumentation event says so). `dispose` disconnects and deletes the group.
   */
  private async committedReader(
    topic: string,
    o: {
      groupPrefix: string;
      maxBytesPerPartition?: number;
      eachBatch(partition: number, messages: ReadMessage[]): Promise<void>;
      onBatchEnd(partition: number, lastOffset: string): void;
      onCrash(error: Error): void;
    },
  ): Promise<{ consumer: Consumer; dispose(): Promise<void> }> {
    const groupId = `${o.groupPrefix}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const consumer = this.kafka.consumer({
      groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      ...(o.maxBytesPerPartition ? { maxBytesPerPartition: o.maxBytesPerPartition, maxBytes: Math.max(64 * 1024 * 1024, o.maxBytesPerPartition) } : {}),
      maxWaitTimeInMs: 100,
      sessionTimeout: 10000,
      rebalanceTimeout: 10000,
      heartbeatInterval: 1000,
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => o.onBatchEnd(e.payload.partition, e.payload.lastOffset));
    consumer.on(consumer.events.CRASH, (e) => o.onCrash(e.payload.error));
    this.consumers.add(consumer);
    const dispose = async () => {
      this.consumers.delete(consumer);
      await consumer.disconnect().catch(() => {});
      await this.getAdmin()
        .then((a) => a.deleteGroups([groupId]))
        .catch(() => {});
    };
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatch: ({ batch }) => o.eachBatch(batch.partition, batch.messages as ReadMessage[]) });
    } catch (err) {
      await dispose();
      throw err;
    }
    return { consumer, dispose };
  }

  async followTopic(topic: string, options: FollowOptions): Promise<TopicFollower> {
    const positions = new Map<number, bigint>(options.from.map((f) => [f.partition, BigInt(f.offset)]));
    const moved = (partition: number, lastOffset: string) => {
      const next = BigInt(lastOffset) + 1n;
      if (next > (positions.get(partition) ?? -1n)) {
        positions.set(partition, next);
        options.onPosition?.(partition, next);
      }
    };
    const { consumer, dispose } = await this.committedReader(topic, {
      groupPrefix: options.groupPrefix ?? 'aerogrid.follow',
      eachBatch: async (partition, batch) => {
        // Until the seek below takes, a fetch may start before `from`: those records were read.
        const from = positions.get(partition) ?? 0n;
        const messages = batch.filter((m) => BigInt(m.offset) >= from);
        if (messages.length === 0) return;
        await options.onMessages(partition, messages);
        moved(partition, messages[messages.length - 1]!.offset);
      },
      onBatchEnd: moved,
      onCrash: (err) => options.onCrash?.(err),
    });
    // Seeking a new group (not setting its offsets first: kafkajs' setOffsets on a group that
    // does not exist yet waits seconds for its coordinator).
    for (const f of options.from) consumer.seek({ topic, partition: f.partition, offset: f.offset });
    return { position: (partition) => positions.get(partition) ?? null, stop: dispose };
  }

  async readTopic(topic: string, options: ReadTopicOptions): Promise<number> {
    const ends = new Map<number, bigint>();
    let total = 0n;
    const range = await this.topicOffsets(topic);
    options.onRange?.(range);
    for (const p of range) {
      const high = BigInt(p.high);
      if (high > BigInt(p.low)) {
        ends.set(p.partition, high);
        total += high - BigInt(p.low);
      }
    }
    if (ends.size === 0) {
      options.onEnd?.(0);
      return 0;
    }
    options.onProgress?.(0, Number(total));
    let read = 0;
    let finish!: () => void;
    let fail!: (err: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    let lastActivity = Date.now();
    const stallMs = options.stallMs ?? 30_000;
    const stall = setInterval(() => {
      if (Date.now() - lastActivity > stallMs) fail(new Error(`reading '${topic}' made no progress for ${stallMs / 1000} s`));
    }, 500);
    let reader: { dispose(): Promise<void> } | null = null;
    try {
      reader = await this.committedReader(topic, {
        groupPrefix: options.groupPrefix ?? 'aerogrid.read',
        maxBytesPerPartition: options.maxBytesPerPartition ?? 32 * 1024 * 1024,
        eachBatch: async (partition, messages) => {
          read += messages.length;
          lastActivity = Date.now();
          await options.onMessages(partition, messages);
          options.onProgress?.(read, Number(total));
        },
        onBatchEnd: (partition, lastOffset) => {
          lastActivity = Date.now();
          const end = ends.get(partition);
          if (end !== undefined && BigInt(lastOffset) + 1n >= end) ends.delete(partition);
          if (ends.size === 0) finish();
        },
        onCrash: (err) => fail(err),
      });
      await done;
      options.onEnd?.(read);
      return read;
    } finally {
      clearInterval(stall);
      await reader?.dispose();
    }
  }

  async close(): Promise<void> {
    const closing: Promise<unknown>[] = [];
    for (const p of this.transactional) closing.push(p.disconnect());
    this.transactional.clear();
    for (const c of this.consumers) closing.push(c.disconnect());
    this.consumers.clear();
    if (this.producer) closing.push(this.producer.then((p) => p.disconnect()));
    if (this.admin) closing.push(this.admin.then((a) => a.disconnect()));
    this.producer = null;
    this.admin = null;
    await Promise.allSettled(closing);
  }
}

/** Bytes of a record batch besides its records (the v2 batch header), and a margin for varints. */
const BATCH_OVERHEAD = 61 + 512;

/** An upper bound of one record's size inside a batch (v2 format, no compression). */
export function recordBytes(m: ProduceMessage): number {
  const len = (v: string | Buffer | null | undefined) => (v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);
  let n = 32 + len(m.key) + len(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {})) n += 10 + Buffer.byteLength(k) + len(v);
  return n;
}

/**
 * Cuts a transaction's messages into produce requests whose record batch per topic stays under
 * the topic's limit (one request per cut, each with all topics that still have messages).
 */
export function produceRequests(messages: TransactionContent['messages']) {
  const cuts = messages
    .filter((t) => t.messages.length > 0)
    .map((t) => {
      const budget = (t.maxBatchBytes ?? Number.POSITIVE_INFINITY) - BATCH_OVERHEAD;
      const parts: ProduceMessage[][] = [];
      let part: ProduceMessage[] = [];
      let size = 0;
      for (const m of t.messages) {
        const b = recordBytes(m);
        if (part.length > 0 && size + b > budget) {
          parts.push(part);
          part = [];
          size = 0;
        }
        part.push(m);
        size += b;
      }
      if (part.length > 0) parts.push(part);
      return { topic: t.topic, parts };
    });
  const requests: { topic: string; messages: { key: string | Buffer | null; value: string | Buffer | null; headers?: IHeaders; partition?: number }[] }[][] = [];
  for (let i = 0; cuts.some((c) => i < c.parts.length); i++) {
    requests.push(
      cuts
        .filter((c) => i < c.parts.length)
        .map((c) => ({
          topic: c.topic,
          messages: c.parts[i]!.map((m) => ({
            key: m.key,
            value: m.value,
            headers: toHeaders(m.headers),
            ...(m.partition === undefined ? {} : { partition: m.partition }),
          })),
        })),
    );
  }
  return requests;
}

/** Creates a client; nothing connects until the first call. */
export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  return new KafkajsClient(options);
}
