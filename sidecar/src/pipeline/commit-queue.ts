/**
 * The commit queue: acked batches, committed in ack order, one commit at a time. While a commit is
 * in flight, the batches acked meanwhile wait and then go together in the next one (`mergeAcked`):
 * each batch is still whole in one transaction (its rows, its dead letters and the offsets past
 * it), and Kafka's per-transaction round trips are paid once per group instead of once per batch.
 *
 * `drop()` (a recovery) forgets what is queued; a commit still in flight then reports only its
 * success (its records are done: the re-run starts after them), never its failure.
 */
import { errorMessage, type Logger } from '../log.js';
import { mergeAcked, type AckedBatch, type BatchCommitter } from './committer.js';

export interface CommitQueueOptions {
  committer: BatchCommitter;
  /** At most this many acked batches go into one commit. */
  maxBatches: number;
  /** Exactly-once: a failed commit must re-run everything after it (`onFailed`); else a later one covers it. */
  exact: boolean;
  logger: Logger;
  /** `firstOffset`: the changelog offset of the first row record, when the committer knows it. */
  onCommitted(merged: AckedBatch, firstOffset: number | null): void;
  onFailed(reason: string): void;
}

export class CommitQueue {
  private queue: { gen: number; acked: AckedBatch }[] = [];
  private committing: Promise<void> | null = null;
  private gen = 0;

  constructor(private readonly options: CommitQueueOptions) {}

  push(acked: AckedBatch): void {
    this.queue.push({ gen: this.gen, acked });
    this.committing ??= this.drain();
  }

  /** Forgets what is queued; a commit in flight finishes without reporting. */
  drop(): void {
    this.gen += 1;
    this.queue = [];
  }

  /** Resolves once no commit is in flight or queued. */
  async idle(): Promise<void> {
    while (this.committing) await this.committing;
  }

  private async drain(): Promise<void> {
    const { committer, maxBatches, exact, logger } = this.options;
    try {
      while (this.queue.length > 0) {
        const gen = this.gen;
        const items = this.queue.splice(0, maxBatches).filter((i) => i.gen === gen);
        if (items.length === 0) continue;
        const merged = mergeAcked(items.map((i) => i.acked));
        const what = items.length === 1 ? `batch ${merged.seq}` : `batches ${items[0]!.acked.seq}-${merged.seq}`;
        try {
          const firstOffset = await committer.commit(merged);
          // Committed is committed: count it and show it even if a recovery began meanwhile.
          this.options.onCommitted(merged, firstOffset ?? null);
          if (gen !== this.gen) return;
        } catch (err) {
          if (gen !== this.gen) return;
          if (exact) return this.options.onFailed(`committing ${what} failed: ${errorMessage(err)}`);
          logger.warn(`committing ${what} failed (a later commit covers it): ${errorMessage(err)}`);
        }
      }
    } finally {
      this.committing = null;
    }
  }
}
