/**
 * The commit step of the pipeline: what happens in Kafka once the runtime acked a batch. The
 * pipeline calls `commit()` strictly in ack order, one call at a time, with one acked batch or
 * several merged (`mergeAcked`: those acked while the previous commit was in flight). The consumer
 * does not wait for commits (only for acks): a failed commit re-runs from the committed offsets.
 *
 * - `TransactionalCommitter` (the default): one Kafka transaction per batch holding the batch's
 *   grid changes (to the compacted changelog topic), its dead letters, and the consumer offsets.
 *   Either all of it is visible to read-committed readers, or none of it: a restarted sidecar
 *   restores the changelog and resumes from offsets that match it exactly.
 * - `PlainCommitter`: the same writes without a transaction (changelog and dead letters first,
 *   then the offsets): at-least-once. Used to measure what the transaction costs.
 * - `OffsetCommitter`: offsets only (no changelog, no dead letters).
 */
import { hostname } from 'node:os';
import type { Delta } from '../grids.js';
import type { ProduceMessage, TopicPartitionOffset, TransactionalProducer } from '../kafka/client.js';
import type { Rejected } from '../runtime/protocol.js';
import { partitionKey } from '../kafka/partitions.js';

export interface AckedBatch {
  /** The dispatcher's batch number. */
  seq: number;
  /** Net grid changes of the batch (applied to the grid store once committed). */
  deltas: Delta[];
  /** Records the runtime processed (counted in the status once committed). */
  processed: number;
  /** Records rejected by the runtime or by the sidecar. */
  rejected: Rejected[];
  /** Per partition of the batch: the next offset to read (last offset + 1). */
  offsets: TopicPartitionOffset[];
  /** The dead-letter records of the batch (built from `rejected` with the original messages). */
  deadLetters?: ProduceMessage[];
}

/**
 * Several acked batches (in ack order) as one: the net row changes (the last per key), all rejects
 * and dead letters, and per partition the highest next offset. `seq` is the last batch's.
 */
export function mergeAcked(batches: AckedBatch[]): AckedBatch {
  if (batches.length === 1) return batches[0]!;
  const deltas = new Map<string, Delta>();
  const offsets = new Map<string, TopicPartitionOffset>();
  for (const b of batches) {
    for (const d of b.deltas) {
      const k = `${d.grid}\u0000${d.key}`;
      deltas.delete(k);
      deltas.set(k, d);
    }
    for (const o of b.offsets) {
      const k = partitionKey(o.topic, o.partition);
      const cur = offsets.get(k);
      if (!cur || BigInt(o.offset) > BigInt(cur.offset)) offsets.set(k, o);
    }
  }
  return {
    seq: batches[batches.length - 1]!.seq,
    deltas: [...deltas.values()],
    processed: batches.reduce((n, b) => n + b.processed, 0),
    rejected: batches.flatMap((b) => b.rejected),
    offsets: [...offsets.values()],
    deadLetters: batches.flatMap((b) => b.deadLetters ?? []),
  };
}

export interface BatchCommitter {
  /**
   * Resolves once committed, with the changelog offset of the batch's first row record when
   * known (the others follow it in order): the grids' seq comes from it.
   */
  commit(batch: AckedBatch): Promise<number | null | void>;
}

/** Commits offsets through a function (the live consumer's commit). */
export class OffsetCommitter implements BatchCommitter {
  constructor(private readonly commitOffsets: (offsets: TopicPartitionOffset[]) => Promise<void>) {}

  async commit(batch: AckedBatch): Promise<void> {
    await this.commitOffsets(batch.offsets);
  }
}

/** Header naming the source records a changelog record came from: `topic/partition/offset`, comma-separated. */
export const SOURCE_HEADER = 'aerogrid-source';
/** Header with the dispatcher's number of the (last) batch whose transaction wrote a changelog record. */
export const BATCH_HEADER = 'aerogrid-batch';

/**
 * Header naming the instance that wrote a changelog record (`host/pid`): with one writer per app,
 * who wrote what, and proof that a fenced instance wrote nothing after it was replaced.
 */
export const WRITER_HEADER = 'aerogrid-writer';

/** This process as a writer. */
export const THIS_WRITER = `${hostname()}/${process.pid}`;

/** The changelog key of a grid row: the JSON text of `[grid, key]`. */
export function changelogKey(grid: string, key: string): string {
  return JSON.stringify([grid, key]);
}

/**
 * False when a row's changelog record is surely under `bytes` without encoding it: a bound from
 * its text lengths (at most 6 bytes of JSON a character), so that the ack's size check encodes only
 * the rare rows near the limit, not every row of every batch.
 */
export function changelogRecordMayExceed(d: Delta, bytes: number): boolean {
  let bound = 64 + 6 * (d.grid.length + d.key.length);
  for (const [column, v] of Object.entries(d.row ?? {})) {
    if (typeof v === 'string') bound += 6 * v.length;
    else if (v !== null && typeof v === 'object') return true;
    else bound += 32;
    bound += 6 * column.length + 4;
    if (bound > bytes) return true;
  }
  return bound > bytes;
}

/** Parses a changelog key; null when it is not one. (restore/chunk.ts takes the same fast path on raw bytes: keep the two in step.) */
export function parseChangelogKey(text: string): { grid: string; key: string } | null {
  // Fast path for the common shape: grid names never need escaping, and most keys do not either.
  if (text.startsWith('["') && text.endsWith('"]')) {
    const i = text.indexOf('","', 2);
    if (i > 2) {
      const grid = text.slice(2, i);
      const key = text.slice(i + 3, -2);
      if (!grid.includes('\\') && !grid.includes('"') && !key.includes('\\') && !key.includes('"')) return { grid, key };
    }
  }
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return { grid: v[0], key: v[1] };
  } catch {
    // not a changelog key
  }
  return null;
}

/** `topic/partition/offset` of each partition's last record in the batch. */
export function sourceTag(offsets: TopicPartitionOffset[]): string {
  return offsets.map((o) => `${o.topic}/${o.partition}/${(BigInt(o.offset) - 1n).toString()}`).join(',');
}

/** The changelog records of a batch: one per changed row (an upsert or a tombstone), all to partition 0. */
export function changelogRecords(batch: AckedBatch): ProduceMessage[] {
  const headers = { [SOURCE_HEADER]: sourceTag(batch.offsets), [BATCH_HEADER]: String(batch.seq), [WRITER_HEADER]: THIS_WRITER };
  return batch.deltas.map((d) => ({
    key: changelogKey(d.grid, d.key),
    value: d.deleted ? null : JSON.stringify(d.row),
    headers,
    partition: 0,
  }));
}

export interface ChangelogTopics {
  changelogTopic: string;
  deadLetterTopic: string;
  consumerGroupId: string;
  /** The largest record batch each topic accepts (`max.message.bytes`), when known. */
  changelogMaxBytes?: number;
  deadLetterMaxBytes?: number;
}

export class TransactionalCommitter implements BatchCommitter {
  constructor(
    private readonly producer: () => TransactionalProducer,
    private readonly topics: ChangelogTopics,
  ) {}

  async commit(batch: AckedBatch): Promise<number | null> {
    const written = await this.producer().commit({
      messages: [
        { topic: this.topics.changelogTopic, messages: changelogRecords(batch), maxBatchBytes: this.topics.changelogMaxBytes },
        { topic: this.topics.deadLetterTopic, messages: batch.deadLetters ?? [], maxBatchBytes: this.topics.deadLetterMaxBytes },
      ],
      consumerGroupId: this.topics.consumerGroupId,
      offsets: batch.offsets,
    });
    return written.get(partitionKey(this.topics.changelogTopic, 0)) ?? null;
  }
}

export class PlainCommitter implements BatchCommitter {
  constructor(
    private readonly produce: (topic: string, messages: ProduceMessage[]) => Promise<void>,
    private readonly commitOffsets: (offsets: TopicPartitionOffset[]) => Promise<void>,
    private readonly topics: ChangelogTopics,
  ) {}

  async commit(batch: AckedBatch): Promise<void> {
    const changelog = changelogRecords(batch);
    const dead = batch.deadLetters ?? [];
    await Promise.all([
      changelog.length > 0 ? this.produce(this.topics.changelogTopic, changelog) : null,
      dead.length > 0 ? this.produce(this.topics.deadLetterTopic, dead) : null,
    ]);
    await this.commitOffsets(batch.offsets);
  }
}
