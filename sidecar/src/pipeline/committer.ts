/**
 * The commit step of the pipeline: what happens in Kafka once the runtime acked a batch.
 *
 * Today: commit the consumer offsets of the batch (at-least-once into the sidecar; the grid store
 * applied the deltas at the ack, so a record is reflected once while the sidecar runs).
 *
 * Next: exactly-once. A `TransactionalCommitter` implements the same interface with one Kafka
 * transaction per batch: `producer.transaction()`, send the batch's `deltas` to the compacted
 * changelog topic (and `rejected` to the dead-letter topic), `sendOffsets({consumerGroupId,
 * topics: offsets})`, `commit()`. Nothing else in the pipeline changes: it already calls
 * `commit()` once per acked batch, strictly in ack order, and waits for it before resolving the
 * batch's offsets in the consumer.
 */
import type { Delta } from '../grids.js';
import type { TopicPartitionOffset } from '../kafka/client.js';
import type { Rejected } from '../runtime/protocol.js';

export interface AckedBatch {
  /** The dispatcher's batch number. */
  seq: number;
  /** Net grid changes of the batch (already applied to the grid store). */
  deltas: Delta[];
  /** Records rejected by the runtime or by the sidecar. */
  rejected: Rejected[];
  /** Per partition of the batch: the next offset to read (last offset + 1). */
  offsets: TopicPartitionOffset[];
}

export interface BatchCommitter {
  commit(batch: AckedBatch): Promise<void>;
}

/** Commits offsets through a function (the live consumer's commit). */
export class OffsetCommitter implements BatchCommitter {
  constructor(private readonly commitOffsets: (offsets: TopicPartitionOffset[]) => Promise<void>) {}

  async commit(batch: AckedBatch): Promise<void> {
    await this.commitOffsets(batch.offsets);
  }
}
