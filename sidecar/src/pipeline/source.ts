/**
 * The Kafka side of the pipeline: one consumer group over all partitions of the app's streamed
 * topics. Waits (never crashes) while a topic is missing or Kafka is unreachable; cuts each
 * partition delivery into segments for the dispatcher; resolves a delivery's offsets only once
 * the runtime acked it and the commit step ran.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, type Logger } from '../log.js';
import type { ConsumedMessage, GroupConsumer, KafkaClient, PartitionBatch, TopicPartitionOffset } from '../kafka/client.js';
import type { WriterClaim } from '../kafka/single-writer.js';
import type { Rejected, WireRecord } from '../runtime/protocol.js';
import { MAX_LINE_BYTES } from '../runtime/lines.js';
import { AbortedError, type Dispatcher, type Segment } from './dispatcher.js';

export type SourceState =
  | { phase: 'checking' }
  | { phase: 'unreachable'; message: string }
  | { phase: 'waiting-topic'; topic: string }
  | { phase: 'joining' }
  | { phase: 'running' }
  | { phase: 'restarting'; message: string }
  | { phase: 'stopped' };

export interface KafkaSourceOptions {
  kafka: KafkaClient;
  groupId: string;
  topics: string[];
  dispatcher: Dispatcher;
  logger: Logger;
  /** Records per segment (= the largest runtime batch). */
  batchSize: number;
  /** How often to look for a missing topic, and to retry an unreachable Kafka (ms). */
  pollMs: number;
  /** Upper bound of partitions processed concurrently. */
  maxConcurrency: number;
  onState(state: SourceState): void;
  /**
   * One writer per app: the group uses the single-writer assignor with this claim, each join's
   * assignment goes to `onAssignment`, and no record is handed on before `whenWritable` resolves
   * true (false: drop the delivery, it is not ours to process).
   */
  writer?: {
    claim(): WriterClaim;
    onAssignment(assignment: Record<string, number[]>): void;
    whenWritable(): Promise<boolean>;
    /** True while this instance is the writer: deliveries go straight on (no wait, no timer). */
    writable(): boolean;
  };
  /** The group session timeout (ms); how soon a standby notices that the writer died. */
  sessionTimeoutMs?: number;
  /** A delivery arrived for a partition: its first offset and the partition's high watermark. */
  onDelivery?(topic: string, partition: number, firstOffset: string, highWatermark: string | undefined): void;
}

/** Kafka's error type of an error kafkajs threw (or wrapped). */
function errorType(err: unknown): string | undefined {
  const e = err as { type?: string; originalError?: unknown; cause?: unknown } | null;
  return e?.type ?? (e?.originalError || e?.cause ? errorType(e.originalError ?? e.cause) : undefined);
}

/** Accepted by any broker with Kafka's default group.min.session.timeout.ms (6 s). */
const FALLBACK_SESSION_MS = 10_000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(bytes: Buffer | null): string | null | undefined {
  if (bytes === null) return null;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The most a record may take in a runtime batch: one batch message must stay under the runtime's
 * line limit (64 MiB), with room for the batch's other fields.
 */
export const MAX_RECORD_WIRE_BYTES = MAX_LINE_BYTES - 64 * 1024;

/** Bytes below which a record surely fits in a batch without measuring its JSON (6 bytes a byte at most). */
const SURELY_FITS = Math.floor(MAX_RECORD_WIRE_BYTES / 6) - 1024;

const size = (b: Buffer | null) => (b === null ? 0 : b.length);

/** The record's bytes in a batch message, as JSON text. */
function wireBytes(key: string | null, value: string | null): number {
  return Buffer.byteLength(JSON.stringify(key)) + Buffer.byteLength(JSON.stringify(value)) + 128;
}

/**
 * Turns Kafka messages of one partition into a segment; non-UTF-8 keys/values, and records too
 * large for any runtime batch, are rejected here (`decode`).
 */
export function toSegment(topic: string, partition: number, messages: ConsumedMessage[]): Segment {
  const records: WireRecord[] = [];
  const rejected: Rejected[] = [];
  let bytes = 0;
  for (const m of messages) {
    const raw = size(m.key) + size(m.value);
    const key = decode(m.key);
    const value = decode(m.value);
    if (key === undefined || value === undefined) {
      rejected.push({
        topic,
        partition,
        offset: m.offset,
        kind: 'decode',
        reason: `the record's ${key === undefined ? 'key' : 'value'} is not valid UTF-8`,
      });
      continue;
    }
    const wire = raw < SURELY_FITS ? raw + 128 : wireBytes(key, value);
    if (wire > MAX_RECORD_WIRE_BYTES) {
      rejected.push({ topic, partition, offset: m.offset, kind: 'decode', reason: `the record takes ${wire} bytes in a runtime batch, more than the ${MAX_RECORD_WIRE_BYTES} one may carry` });
      continue;
    }
    bytes += wire;
    records.push({ topic, partition, offset: m.offset, timestamp: m.timestamp, key, value });
  }
  return { topic, partition, lastOffset: messages[messages.length - 1]!.offset, records, rejected, messages, bytes };
}

export class KafkaSource {
  private consumer: GroupConsumer | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private lastProblem = '';
  private sessionTimeoutMs: number | undefined;

  constructor(private readonly options: KafkaSourceOptions) {
    this.sessionTimeoutMs = options.sessionTimeoutMs;
  }

  get topics(): string[] {
    return this.options.topics;
  }

  /** Starts in the background; progress is reported through onState. */
  start(): void {
    this.running ??= this.run();
  }

  /** Commits offsets through the live consumer (a no-op while none runs). */
  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (this.consumer) await this.consumer.commit(offsets);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // The start-up loop may sit in a Kafka retry; do not wait for it long.
    await Promise.race([this.running?.catch(() => {}), sleep(1000, undefined, { ref: false })]);
    const consumer = this.consumer;
    this.consumer = null;
    if (consumer) await consumer.stop().catch((err: unknown) => this.options.logger.warn(`stopping the Kafka consumer: ${errorMessage(err)}`));
    this.options.onState({ phase: 'stopped' });
  }

  private async run(): Promise<void> {
    const { kafka, topics, logger, pollMs } = this.options;
    let first = true;
    while (!this.stopped) {
      // Report 'checking' once: while waiting for a topic or for Kafka, the status stays put.
      if (first) this.options.onState({ phase: 'checking' });
      first = false;
      try {
        const missing = await this.firstMissingTopic();
        if (missing !== null) {
          if (this.lastProblem !== `missing:${missing}`) {
            logger.warn(`waiting for topic '${missing}' to exist (create it, e.g. \`aerogrid topic create ${missing}\`, or check the name)`);
            this.lastProblem = `missing:${missing}`;
          }
          this.options.onState({ phase: 'waiting-topic', topic: missing });
          await sleep(pollMs);
          continue;
        }
        let partitions = 0;
        for (const t of topics) partitions += await kafka.partitionCount(t);
        if (this.stopped) return;
        const concurrency = Math.max(1, Math.min(partitions, this.options.maxConcurrency));
        this.options.onState({ phase: 'joining' });
        logger.info(
          `consuming ${topics.map((t) => `'${t}'`).join(', ')} (${partitions} partition${partitions === 1 ? '' : 's'}) as group '${this.options.groupId}'`,
        );
        this.lastProblem = '';
        const consumer = kafka.createConsumer({
          groupId: this.options.groupId,
          topics,
          fromBeginning: true,
          concurrency,
          ...(this.options.writer ? { claim: this.options.writer.claim } : {}),
          ...(this.sessionTimeoutMs ? { sessionTimeout: this.sessionTimeoutMs } : {}),
          onBatch: (batch) => this.onBatch(batch),
          onJoin: (assignment) => {
            if (this.stopped || this.consumer !== consumer) return;
            this.options.writer?.onAssignment(assignment);
            this.options.onState({ phase: 'running' });
          },
          onCrash: (error, restarting) => this.onCrash(consumer, error, restarting),
        });
        this.consumer = consumer;
        await consumer.start();
        return;
      } catch (err) {
        if (this.stopped) return;
        if (errorType(err) === 'INVALID_SESSION_TIMEOUT' && this.sessionTimeoutMs !== undefined && this.sessionTimeoutMs < FALLBACK_SESSION_MS) {
          logger.warn(
            `the broker refuses a consumer session timeout of ${this.sessionTimeoutMs} ms (its group.min.session.timeout.ms is higher): ` +
              `using ${FALLBACK_SESSION_MS} ms, so a standby takes over that much later; lower the broker's setting for faster takeovers`,
          );
          this.sessionTimeoutMs = FALLBACK_SESSION_MS;
          const consumer = this.consumer;
          this.consumer = null;
          await consumer?.stop().catch(() => {});
          continue;
        }
        const message = `cannot reach Kafka at ${kafka.brokers.join(',')}: ${errorMessage(err)}; retrying`;
        if (this.lastProblem !== message) {
          logger.warn(message);
          this.lastProblem = message;
        }
        this.options.onState({ phase: 'unreachable', message });
        const consumer = this.consumer;
        this.consumer = null;
        await consumer?.stop().catch(() => {});
        await sleep(pollMs);
      }
    }
  }

  private async firstMissingTopic(): Promise<string | null> {
    for (const t of this.options.topics) {
      if (!(await this.options.kafka.topicExists(t))) return t;
    }
    return null;
  }

  private onCrash(consumer: GroupConsumer, error: Error, restarting: boolean): void {
    if (this.stopped || this.consumer !== consumer) return;
    const message = `the Kafka consumer failed: ${error.message}`;
    this.options.logger.error(`${message}${restarting ? '; it restarts' : '; starting a new one'}`);
    this.options.onState({ phase: 'restarting', message });
    if (restarting) return;
    // Replace the consumer. Records it had handed over stay in the dispatcher; Kafka delivers
    // them again to the new consumer and the dispatcher drops those duplicates.
    this.consumer = null;
    void consumer.stop().catch(() => {});
    this.running = (async () => {
      await sleep(this.options.pollMs);
      if (!this.stopped) await this.run();
    })();
  }

  private async onBatch(batch: PartitionBatch): Promise<void> {
    const { topic, partition, messages } = batch;
    const { dispatcher, batchSize } = this.options;
    const writer = this.options.writer;
    if (writer && !writer.writable() && !(await this.waitWritable(batch))) return;
    if (messages.length > 0) this.options.onDelivery?.(topic, partition, messages[0]!.offset, batch.highWatermark);
    const waits: string[] = [];
    for (let i = 0; i < messages.length; i += batchSize) {
      if (this.stopped || !batch.isRunning() || batch.isStale()) break;
      const segment = toSegment(topic, partition, messages.slice(i, i + batchSize));
      dispatcher.submit(segment);
      waits.push(segment.lastOffset);
    }
    for (const offset of waits) {
      if (!(await this.waitAcked(batch, offset))) return;
      batch.resolveOffset(offset);
    }
  }

  /** Waits (staying in the group) until this instance may write (true), or must not (false). */
  private async waitWritable(batch: PartitionBatch): Promise<boolean> {
    const writable = this.options.writer!.whenWritable();
    for (;;) {
      const result = await Promise.race([writable, sleep(250, 'tick' as const, { ref: false })]);
      if (result !== 'tick') return result && !this.stopped && batch.isRunning() && !batch.isStale();
      if (this.stopped || !batch.isRunning() || batch.isStale()) return false;
      await batch.heartbeat();
    }
  }

  /** Waits until the runtime acked everything up to `offset` (true), or the pipeline stops (false). */
  private async waitAcked(batch: PartitionBatch, offset: string): Promise<boolean> {
    const acked = this.options.dispatcher.waitAcked(batch.topic, batch.partition, offset).then(
      () => 'acked' as const,
      (err: unknown) => {
        if (err instanceof AbortedError) return 'aborted' as const;
        throw err;
      },
    );
    for (;;) {
      const result = await Promise.race([acked, sleep(250, 'tick' as const, { ref: false })]);
      if (result === 'acked') return true;
      if (result === 'aborted' || this.stopped || !batch.isRunning() || batch.isStale()) return false;
      // Waiting for the runtime (maybe not connected): stay in the group.
      await batch.heartbeat();
    }
  }
}
