/**
 * The hot standby's changelog follower: after the restore, a standby keeps reading the app's
 * changelog (committed records only) from where the restore ended and applies each row to its
 * grid store, so that taking over costs the records written since, not a whole restore.
 */
import type { Delta, GridStore, Row } from '../grids.js';
import type { KafkaClient, ReadMessage, TopicFollower } from '../kafka/client.js';
import { parseChangelogKey } from '../pipeline/committer.js';

export interface FollowChangelogOptions {
  kafka: KafkaClient;
  topic: string;
  /** The offset to go on from (the restore's end); the changelog has one partition. */
  from: bigint;
  store: GridStore;
  groupPrefix: string;
  /** The rows just applied to the store (to pass on to the runtime). */
  onRows?(deltas: Delta[]): void;
  /** The follower failed; the caller restores again. */
  onFailure?(error: Error): void;
}

/** A changelog record as a grid change, or null when it is not one. */
export function changelogDelta(m: ReadMessage): Delta | null {
  const id = m.key ? parseChangelogKey(m.key.toString('utf8')) : null;
  if (!id) return null;
  if (m.value === null) return { grid: id.grid, key: id.key, deleted: true };
  try {
    const row: unknown = JSON.parse(m.value.toString('utf8'));
    return typeof row === 'object' && row !== null && !Array.isArray(row) ? { grid: id.grid, key: id.key, row: row as Row } : null;
  } catch {
    return null;
  }
}

export class ChangelogFollower {
  private follower: TopicFollower | null = null;
  private next: bigint;
  private waiters: { target: bigint; done: (ok: boolean) => void }[] = [];

  private constructor(from: bigint) {
    this.next = from;
  }

  static async start(options: FollowChangelogOptions): Promise<ChangelogFollower> {
    const f = new ChangelogFollower(options.from);
    f.follower = await options.kafka.followTopic(options.topic, {
      from: [{ partition: 0, offset: options.from.toString() }],
      groupPrefix: options.groupPrefix,
      onMessages: (_partition, messages) => {
        const deltas: Delta[] = [];
        const offsets: number[] = [];
        for (const m of messages) {
          const d = changelogDelta(m);
          if (!d) continue;
          deltas.push(d);
          offsets.push(Number(m.offset));
        }
        if (deltas.length === 0) return;
        options.store.applyCommitted(deltas, (i) => offsets[i]!);
        options.onRows?.(deltas);
      },
      onPosition: (_partition, next) => f.moved(next),
      onCrash: (err) => options.onFailure?.(err),
    });
    return f;
  }

  /** The next changelog offset to read. */
  get position(): bigint {
    return this.next;
  }

  private moved(next: bigint): void {
    if (next > this.next) this.next = next;
    this.waiters = this.waiters.filter((w) => {
      if (this.next < w.target) return true;
      w.done(true);
      return false;
    });
  }

  /** Resolves true once everything before `target` was applied, false after `timeoutMs`. */
  caughtUp(target: bigint, timeoutMs: number): Promise<boolean> {
    if (this.next >= target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const waiter = { target, done: (ok: boolean) => { clearTimeout(timer); resolve(ok); } };
      this.waiters.push(waiter);
    });
  }

  async stop(): Promise<void> {
    const f = this.follower;
    this.follower = null;
    for (const w of this.waiters) w.done(false);
    this.waiters = [];
    await f?.stop();
  }
}
