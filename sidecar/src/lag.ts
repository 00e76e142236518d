/**
 * How far the app is behind its source topics, per partition: the next offset to read (committed
 * by the app, or the first one delivered) against the partition's high watermark. Fed by
 * deliveries, commits and a refresh from Kafka every few seconds; read by the status and metrics.
 */
import type { KafkaClient, TopicPartitionOffset } from './kafka/client.js';
import { partitionKey } from './kafka/partitions.js';

interface PartitionLag {
  topic: string;
  partition: number;
  committed: bigint | null;
  high: bigint | null;
}

export interface LagEntry {
  topic: string;
  partition: number;
  committed: string | null;
  high: string | null;
  lag: number | null;
}

/** How often the lag is read again from Kafka while consuming (ms). */
const REFRESH_MS = 5000;

export class LagTracker {
  private readonly partitions = new Map<string, PartitionLag>();
  private refreshing = false;
  private lastRefresh = 0;

  private of(topic: string, partition: number): PartitionLag {
    const k = partitionKey(topic, partition);
    let p = this.partitions.get(k);
    if (!p) this.partitions.set(k, (p = { topic, partition, committed: null, high: null }));
    return p;
  }

  /** A delivery arrived: its first offset and the partition's high watermark. */
  delivered(topic: string, partition: number, first: string, high: string | undefined): void {
    const p = this.of(topic, partition);
    if (p.committed === null) p.committed = BigInt(first);
    if (high !== undefined && (p.high === null || BigInt(high) > p.high)) p.high = BigInt(high);
  }

  committed(offsets: TopicPartitionOffset[]): void {
    for (const o of offsets) {
      const p = this.of(o.topic, o.partition);
      p.committed = BigInt(o.offset);
      if (p.high === null || p.high < p.committed) p.high = p.committed;
    }
  }

  get due(): boolean {
    return Date.now() - this.lastRefresh > REFRESH_MS;
  }

  /**
   * Reads the group's committed offsets and the partitions' high watermarks from Kafka, so that the
   * lag shows every partition (also those with nothing new to deliver) and records not fetched yet.
   */
  async refresh(kafka: KafkaClient, group: string, topics: readonly string[]): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    this.lastRefresh = Date.now();
    try {
      for (const topic of topics) {
        const [committed, offsets] = await Promise.all([kafka.committedOffsets(group, topic), kafka.topicOffsets(topic)]);
        for (const o of offsets) {
          const p = this.of(topic, o.partition);
          const c = committed.find((x) => x.partition === o.partition);
          const from = c && BigInt(c.offset) >= 0n ? BigInt(c.offset) : BigInt(o.low);
          if (p.committed === null || from > p.committed) p.committed = from;
          if (p.high === null || BigInt(o.high) > p.high) p.high = BigInt(o.high);
        }
      }
    } catch {
      // Kafka away: the lag stays as last seen.
    } finally {
      this.refreshing = false;
    }
  }

  /**
   * Records known to wait in Kafka, for staleness. A partition one offset behind is not counted:
   * on a topic written with transactions, the last offset is a transaction marker, not a record.
   */
  total(): bigint {
    let n = 0n;
    for (const p of this.partitions.values()) {
      if (p.high !== null && p.committed !== null && p.high - p.committed > 1n) n += p.high - p.committed;
    }
    return n;
  }

  report(): LagEntry[] {
    return [...this.partitions.values()]
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
      .map((p) => ({
        topic: p.topic,
        partition: p.partition,
        committed: p.committed === null ? null : p.committed.toString(),
        high: p.high === null ? null : p.high.toString(),
        lag: p.committed === null || p.high === null ? null : Number(p.high > p.committed ? p.high - p.committed : 0n),
      }));
  }
}
