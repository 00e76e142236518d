/**
 * The app's changelog as this instance knows it: the topics made sure of, their size limits, the
 * restore into the grid store (with its progress for the status), and, for a standby, the
 * follower that keeps the grids current until a takeover.
 */
import type { Delta, GridStore } from '../grids.js';
import type { RestoreInfo } from '../health.js';
import type { KafkaClient } from '../kafka/client.js';
import type { Logger } from '../log.js';
import { ensureChangelogTopics } from './fence.js';
import { ChangelogFollower } from './follow.js';
import { restoreGrids } from './restore.js';

export interface AppChangelogOptions {
  kafka: KafkaClient;
  logger: Logger;
  store: GridStore;
  /** Ends a restore still reading when the sidecar stops. */
  signal: AbortSignal;
  /** The restore made progress (at most every 250 ms). */
  onProgress(): void;
  /** Rows the follower applied (the writer committed them). */
  onRows(deltas: Delta[]): void;
  onFollowerFailed(err: Error): void;
}

/** Room left in a changelog record batch for the batch's headers (bytes). */
const HEADER_ROOM = 3072;
/** What the sidecar allows at the ack beyond what it told the runtime (bytes). */
const ACK_SLACK = 1024;

const NOT_YET: RestoreInfo = { state: 'pending', records_read: 0, records_total: 0, rows: 0, started_at: null, finished_at: null, seconds: null };

export class AppChangelog {
  info: RestoreInfo = { ...NOT_YET };
  private follower: ChangelogFollower | null = null;
  /** Where the last restore ended: the follower goes on from there. */
  private end = 0n;
  /** `max.message.bytes` of the changelog and dead-letter topics. */
  readonly limits: { changelog?: number; deadLetters?: number } = {};

  constructor(private readonly options: AppChangelogOptions) {}

  /** Makes sure of the topics and their limits, restores the grids, and follows the changelog. */
  async prepare(topics: { changelog: string; deadLetters: string; group: string; deadLetterRetentionMs?: number }): Promise<void> {
    const { kafka, logger } = this.options;
    await ensureChangelogTopics(kafka, logger, topics);
    this.limits.changelog = await kafka.maxMessageBytes(topics.changelog);
    this.limits.deadLetters = await kafka.maxMessageBytes(topics.deadLetters);
    await this.restore(topics.changelog, topics.group);
    await this.follow(topics.changelog, topics.group);
  }

  /** No changelog (commit mode `offsets`): nothing to restore. */
  skip(): void {
    this.info = { ...this.info, state: 'done' };
  }

  failed(): void {
    this.info = { ...this.info, state: 'pending' };
  }

  /**
   * The largest row the runtime may write, as the bytes of its changelog record (key, value and
   * headers): under the changelog topic's `max.message.bytes`, with room for the batch's headers.
   */
  get maxRowBytes(): number | null {
    return this.limits.changelog === undefined ? null : Math.max(1024, this.limits.changelog - HEADER_ROOM);
  }

  /** What the sidecar refuses at the ack: a little more than it told the runtime. */
  get ackRowLimit(): number | null {
    const max = this.maxRowBytes;
    return max === null ? null : max + ACK_SLACK;
  }

  /** Reads the changelog to its end (committed records only) and makes the grid store equal to it. */
  async restore(topic: string, group: string): Promise<void> {
    const started = Date.now();
    this.info = { state: 'restoring', records_read: 0, records_total: 0, rows: 0, started_at: new Date(started).toISOString(), finished_at: null, seconds: null };
    this.options.onProgress();
    let shown = 0;
    const result = await restoreGrids(this.options.store, {
      kafka: this.options.kafka,
      logger: this.options.logger,
      topic,
      groupPrefix: `${group}.restore`,
      signal: this.options.signal,
      onProgress: (n, total) => {
        this.info.records_read = n;
        this.info.records_total = total;
        const now = Date.now();
        if (now - shown >= 250) {
          shown = now;
          this.options.onProgress();
        }
      },
    });
    const finished = Date.now();
    this.end = BigInt(result.ends.find((e) => e.partition === 0)?.high ?? '0');
    this.info = {
      ...this.info,
      state: 'done',
      records_read: result.records,
      records_total: Math.max(result.records, this.info.records_total),
      rows: result.rows,
      finished_at: new Date(finished).toISOString(),
      seconds: (finished - started) / 1000,
    };
  }

  /** Hot standby: applies what the writer commits from where the restore ended. */
  private async follow(topic: string, group: string): Promise<void> {
    await this.follower?.stop();
    this.follower = await ChangelogFollower.start({
      kafka: this.options.kafka,
      topic,
      from: this.end,
      store: this.options.store,
      groupPrefix: `${group}.follow`,
      onRows: (deltas) => this.options.onRows(deltas),
      onFailure: (err) => this.options.onFollowerFailed(err),
    });
  }

  /** Records of the changelog the follower has not applied yet (null: not following, or Kafka away). */
  async behind(topic: string): Promise<number | null> {
    const f = this.follower;
    if (!f) return null;
    try {
      const [p] = await this.options.kafka.topicOffsets(topic);
      const behind = BigInt(p?.high ?? '0') - f.position;
      return behind > 1n ? Number(behind) : 0;
    } catch {
      return null;
    }
  }

  /**
   * Taking over, after the fence: the follower reads to the changelog's end, now final, and stops
   * (the writer keeps the store itself). True when it got there within `timeoutMs`; false when it
   * did not and the changelog was restored whole instead.
   */
  async catchUp(topic: string, group: string, timeoutMs: number): Promise<boolean> {
    const f = this.follower;
    if (!f) return true;
    const [end] = await this.options.kafka.topicOffsets(topic);
    const caughtUp = await f.caughtUp(BigInt(end?.high ?? '0'), timeoutMs);
    await this.stopFollowing();
    if (caughtUp) return true;
    this.options.logger.warn(`the changelog follower did not reach the end of '${topic}' in ${timeoutMs / 1000} s: restoring it whole`);
    await this.restore(topic, group);
    return false;
  }

  async stopFollowing(): Promise<void> {
    const f = this.follower;
    this.follower = null;
    await f?.stop();
  }
}
