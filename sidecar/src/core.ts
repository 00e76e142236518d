/**
 * The sidecar's core: runtime sessions in, grid store and status out. It owns the pipeline
 *
 *   KafkaSource ─segments─► Dispatcher ─batches─► runtime session ─acks─► grid store
 *                                                                    └──► commit step (in order):
 *                                     one Kafka transaction = changelog rows + dead letters + offsets
 *
 * and decides the app's status from the runtime session and the Kafka source.
 *
 * Exactly-once: before the first runtime gets its welcome, the sidecar fences any older instance
 * (the transactional id is stable per app), reads the changelog to its end (read committed) into
 * the grid store, and only then starts consuming from the committed offsets. When a transaction
 * fails, nothing after it is committed: the pipeline is dropped, the runtime session is ended,
 * the grids are read again from the changelog and consumption resumes from the committed offsets.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DeltaError, GridStore } from './grids.js';
import { errorMessage, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { StatusTracker } from './status.js';
import { topicAllowed } from './names.js';
import type { KafkaClient, ProduceMessage, TopicPartitionOffset, TransactionalProducer } from './kafka/client.js';
import { Dispatcher, type Batch, type BatchSink } from './pipeline/dispatcher.js';
import {
  changelogKey,
  mergeAcked,
  OffsetCommitter,
  PlainCommitter,
  TransactionalCommitter,
  type AckedBatch,
  type BatchCommitter,
} from './pipeline/committer.js';

/** At most this many acked batches go into one transaction. */
const MAX_BATCHES_PER_COMMIT = 64;
import { KafkaSource, type SourceState } from './pipeline/source.js';
import { connectFencing, ensureChangelogTopics } from './restore/fence.js';
import { ChangelogFollower } from './restore/follow.js';
import { restoreGrids } from './restore/restore.js';
import { recordBytes } from './kafka/client.js';
import { ProtocolError, REJECT_KINDS, RUNTIME_PROTOCOL, type Ack, type Hello, type LogMessageLevel, type Rejected, type RejectKind } from './runtime/protocol.js';

/**
 * How acked batches are committed: `transaction` (exactly-once, the default), `plain` (the same
 * changelog and dead-letter writes without a transaction: at-least-once), `offsets` (consumer
 * offsets only: no changelog, no dead letters, no restore).
 */
export type CommitMode = 'transaction' | 'plain' | 'offsets';
export const COMMIT_MODES: readonly CommitMode[] = ['transaction', 'plain', 'offsets'];

/** What to do with a record that cannot be processed: dead-letter it and go on, or stop consuming. */
export type DeadLetterPolicy = 'dlq' | 'stop';
export const DEAD_LETTER_POLICIES: readonly DeadLetterPolicy[] = ['dlq', 'stop'];

export interface RestoreInfo {
  state: 'pending' | 'restoring' | 'done';
  records_read: number;
  records_total: number;
  rows: number;
  started_at: string | null;
  finished_at: string | null;
  seconds: number | null;
}

interface PartitionInfo {
  topic: string;
  partition: number;
  committed: bigint | null;
  high: bigint | null;
}
import type { RuntimeHandler, RuntimeSession } from './runtime/server.js';

export interface CoreOptions {
  tenant: string;
  /** The app this sidecar serves; when absent, the first runtime's hello decides. */
  app?: string;
  kafka: KafkaClient;
  logger: Logger;
  maxInFlight: number;
  batchSize: number;
  topicPollMs: number;
  maxConcurrency: number;
  /** The runtime "keeps crashing" after this many disconnects within `crashWindowMs`. */
  crashLoopCount?: number;
  crashWindowMs?: number;
  /** A session must stay up this long before `failing` turns back into `running`. */
  crashSettleMs?: number;
  /** Replaces the commit step (default: from `commitMode`). */
  committer?: (commitOffsets: (offsets: TopicPartitionOffset[]) => Promise<void>) => BatchCommitter;
  /** Default `transaction`. */
  commitMode?: CommitMode;
  /** Default `dlq`. */
  deadLetterPolicy?: DeadLetterPolicy;
  /** Default `aerogrid.<tenant>.<app>.dlq`. */
  deadLetterTopic?: string;
  /** A batch not acked this long after it was sent ends the runtime session (default 30 s). */
  batchDeadlineMs?: number;
  /** Records waiting with no commit for this long make the grids stale (default 5 s). */
  staleAfterMs?: number;
  /** The tenant's topics (names, 'prefix*'); a runtime streaming another is refused. Default: any. */
  allowedTopics?: readonly string[];
  /**
   * Runs a separate copy of the app with its own consumer group, changelog and transactional id
   * (`aerogrid.<tenant>.<app>.<instance>`), e.g. `dev`: it never touches the deployed app's state.
   */
  instance?: string;
  /** The consumer group session timeout (ms): how soon a standby takes over from a dead writer. */
  sessionTimeoutMs?: number;
}

/**
 * One writer per app: `standby` (grids follow the changelog, nothing is consumed or written),
 * `taking-over` (the assignment came: fencing the last writer, catching up), `active`.
 */
export type Role = 'standby' | 'taking-over' | 'active';

/** A takeover waits this long for the follower to reach the changelog's end before restoring it whole. */
const CATCH_UP_MS = 10_000;

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export class SidecarCore implements RuntimeHandler {
  readonly store: GridStore = new GridStore();
  readonly status = new StatusTracker();
  readonly metrics = new Metrics();
  readonly dispatcher: Dispatcher;
  private readonly committer: BatchCommitter;
  readonly commitMode: CommitMode;
  readonly deadLetterPolicy: DeadLetterPolicy;
  private app: string | null;
  private producer: TransactionalProducer | null = null;
  private prepared: Promise<void> | null = null;
  private prepareDone = false;
  private prepareProblem: string | null = null;
  private recovering: Promise<void> | null = null;
  private recoveringReason = '';
  private recoveries = 0;
  /** Bumped by a recovery: commits queued before it are dropped. */
  private commitGen = 0;
  private restoreInfo: RestoreInfo = { state: 'pending', records_read: 0, records_total: 0, rows: 0, started_at: null, finished_at: null, seconds: null };
  private halted: string | null = null;
  private readonly partitions = new Map<string, PartitionInfo>();
  private lastCommit: { at: number; offsets: TopicPartitionOffset[] } | null = null;
  private lastProgressAt = Date.now();
  private staleSince: number | null = null;
  private deadlineKills = 0;
  private readonly helloDeclared = new Set<string>();
  private readonly ticker: NodeJS.Timeout;
  private readonly batchDeadlineMs: number;
  private readonly staleAfterMs: number;
  private session: RuntimeSession | null = null;
  private sink: BatchSink | null = null;
  private sessionStartedAt = 0;
  private sessionsStarted = 0;
  private source: KafkaSource | null = null;
  private sourceState: SourceState | null = null;
  private commitQueue: { batch: Batch; gen: number; acked: AckedBatch }[] = [];
  private committing: Promise<void> | null = null;
  private crashes: number[] = [];
  private lastCrashReason = '';
  /** Why the last runtime could not start (an `error` before hello); cleared by the next hello. */
  private startupError: string | null = null;
  /** Aborted at shutdown: ends a restore still reading the changelog. */
  private readonly stopping = new AbortController();
  private settleTimer: NodeJS.Timeout | null = null;
  private shuttingDown = false;
  private readonly crashLoopCount: number;
  private readonly crashWindowMs: number;
  private readonly crashSettleMs: number;
  private role: Role = 'standby';
  /** Since when this instance holds the partitions (the claim it joins the group with). */
  private heldSince: number | null = null;
  private standbySince = Date.now();
  private follower: ChangelogFollower | null = null;
  /** Where the last restore ended: the follower goes on from there. */
  private restoreEnd = 0n;
  private takeover: Promise<boolean> | null = null;
  /** `max.message.bytes` of the changelog and dead-letter topics, read before the first commit. */
  private readonly limits: { changelog?: number; deadLetters?: number } = {};

  constructor(private readonly options: CoreOptions) {
    this.app = options.app ?? null;
    this.metrics.app = this.app ?? '';
    this.dispatcher = new Dispatcher({ maxInFlight: options.maxInFlight, batchSize: options.batchSize });
    const commitOffsets = (offsets: TopicPartitionOffset[]) => this.source?.commit(offsets) ?? Promise.resolve();
    this.commitMode = options.committer ? 'offsets' : (options.commitMode ?? 'transaction');
    this.deadLetterPolicy = options.deadLetterPolicy ?? 'dlq';
    this.batchDeadlineMs = options.batchDeadlineMs ?? 30_000;
    this.staleAfterMs = options.staleAfterMs ?? 5_000;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const core = this;
    const topics = {
      get changelogTopic() { return core.changelogTopic; },
      get deadLetterTopic() { return core.deadLetterTopic; },
      get consumerGroupId() { return core.groupId ?? ''; },
      get changelogMaxBytes() { return core.limits.changelog; },
      get deadLetterMaxBytes() { return core.limits.deadLetters; },
    };
    if (options.committer) this.committer = options.committer(commitOffsets);
    else if (this.commitMode === 'transaction') {
      this.committer = new TransactionalCommitter(() => {
        if (!this.producer) throw new Error('the transactional producer is not connected');
        return this.producer;
      }, topics);
    } else if (this.commitMode === 'plain') {
      this.committer = new PlainCommitter((topic, messages) => options.kafka.produce(topic, messages), commitOffsets, topics);
    } else this.committer = new OffsetCommitter(commitOffsets);
    this.metrics.extra = () => ({
      lag: this.lagReport().map((l) => ({ topic: l.topic, partition: l.partition, lag: l.lag ?? 0 })),
      stale: this.staleSince !== null,
      restoreRecords: this.restoreInfo.records_read,
      recoveries: this.recoveries,
    });
    this.ticker = setInterval(() => this.tick(), 500);
    this.ticker.unref();
    this.crashLoopCount = options.crashLoopCount ?? 3;
    this.crashWindowMs = options.crashWindowMs ?? 60_000;
    this.crashSettleMs = options.crashSettleMs ?? 30_000;
    this.updateStatus();
  }

  get appName(): string {
    return this.app ?? '';
  }

  get groupId(): string | null {
    if (!this.app) return null;
    return `aerogrid.${this.options.tenant}.${this.app}${this.options.instance ? `.${this.options.instance}` : ''}`;
  }

  /** The compacted topic holding every grid row: `aerogrid.<tenant>.<app>.changelog`. */
  get changelogTopic(): string {
    return `${this.groupId}.changelog`;
  }

  get deadLetterTopic(): string {
    return this.options.deadLetterTopic ?? `${this.groupId}.dlq`;
  }

  /** Stable per app, so that a restarted sidecar fences the one it replaces. */
  get transactionalId(): string {
    return `${this.groupId}.tx`;
  }

  /**
   * The largest row the runtime may write, as the bytes of its changelog record (key, value and
   * headers): under the changelog topic's `max.message.bytes`, with room for the batch's headers.
   * The sidecar refuses a larger one at the ack with 1 KiB more of slack.
   */
  get maxRowBytes(): number | null {
    return this.limits.changelog === undefined ? null : Math.max(1024, this.limits.changelog - 3072);
  }

  private get ackRowLimit(): number | null {
    return this.limits.changelog === undefined ? null : Math.max(2048, this.limits.changelog - 2048);
  }

  /** Starts fencing and restoring right away when the app is known (else at the first hello). */
  start(): void {
    if (this.app !== null) void this.prepare();
  }

  // ── changelog: fence, restore ───────────────────────────────────────────────────────────

  private prepare(): Promise<void> {
    return (this.prepared ??= this.runPrepare());
  }

  private async runPrepare(): Promise<void> {
    const { kafka, logger } = this.options;
    this.prepareDone = false;
    this.updateStatus();
    let lastProblem = '';
    while (!this.shuttingDown) {
      try {
        if (this.commitMode !== 'offsets') {
          await ensureChangelogTopics(kafka, logger, { changelog: this.changelogTopic, deadLetters: this.deadLetterTopic });
          this.limits.changelog = await kafka.maxMessageBytes(this.changelogTopic);
          this.limits.deadLetters = await kafka.maxMessageBytes(this.deadLetterTopic);
          // No fencing here: only the instance that gets the partitions connects the
          // transactional producer (takeOver). A standby restores and follows the changelog.
          await this.restore();
          await this.follow();
        } else this.restoreInfo = { ...this.restoreInfo, state: 'done' };
        this.prepareProblem = null;
        this.prepareDone = true;
        this.updateStatus();
        return;
      } catch (err) {
        if (this.shuttingDown) return;
        const message = `cannot prepare the changelog on Kafka at ${kafka.brokers.join(',')}: ${errorMessage(err)}; retrying`;
        if (message !== lastProblem) logger.warn(message);
        lastProblem = message;
        this.prepareProblem = message;
        this.restoreInfo = { ...this.restoreInfo, state: 'pending' };
        this.updateStatus();
        await sleep(this.options.topicPollMs);
      }
    }
  }

  /** Reads the changelog to its end (committed records only) and makes the grid store equal to it. */
  private async restore(): Promise<void> {
    const started = Date.now();
    this.restoreInfo = { state: 'restoring', records_read: 0, records_total: 0, rows: 0, started_at: new Date(started).toISOString(), finished_at: null, seconds: null };
    this.updateStatus();
    let shown = 0;
    const result = await restoreGrids(this.store, {
      kafka: this.options.kafka,
      logger: this.options.logger,
      topic: this.changelogTopic,
      groupPrefix: `${this.groupId}.restore`,
      signal: this.stopping.signal,
      onProgress: (n, total) => {
        this.restoreInfo.records_read = n;
        this.restoreInfo.records_total = total;
        const now = Date.now();
        if (now - shown >= 250) {
          shown = now;
          this.updateStatus();
        }
      },
    });
    const finished = Date.now();
    this.restoreEnd = BigInt(result.ends.find((e) => e.partition === 0)?.high ?? '0');
    this.restoreInfo = {
      ...this.restoreInfo,
      state: 'done',
      records_read: result.records,
      records_total: Math.max(result.records, this.restoreInfo.records_total),
      rows: result.rows,
      finished_at: new Date(finished).toISOString(),
      seconds: (finished - started) / 1000,
    };
  }

  /** Hot standby: applies what the writer commits to the changelog from where the restore ended. */
  private async follow(): Promise<void> {
    await this.follower?.stop();
    this.follower = await ChangelogFollower.start({
      kafka: this.options.kafka,
      topic: this.changelogTopic,
      from: this.restoreEnd,
      store: this.store,
      logger: this.options.logger,
      groupPrefix: `${this.groupId}.follow`,
      // The runtime's grids follow too, so that it can take over without a new snapshot.
      onRows: (deltas) => this.session?.send({ type: 'rows', deltas }),
      onFailure: (err) => {
        if (this.role === 'standby' && !this.shuttingDown) this.recover(`following the changelog failed: ${errorMessage(err)}`);
      },
    });
  }

  /** Records of the changelog the follower has not applied yet (a standby's distance to the writer). */
  private async changelogBehind(): Promise<number | null> {
    const f = this.follower;
    if (!f) return null;
    try {
      const [p] = await this.options.kafka.topicOffsets(this.changelogTopic);
      const behind = BigInt(p?.high ?? '0') - f.position;
      return behind > 1n ? Number(behind) : 0;
    } catch {
      return null;
    }
  }

  private standbyBehind: number | null = null;

  /** The group gave this instance its assignment (every partition, or none). */
  private onAssignment(assignment: Record<string, number[]>): void {
    const partitions = Object.values(assignment).reduce((n, ps) => n + ps.length, 0);
    if (partitions > 0 && this.role === 'standby') {
      this.heldSince = Date.now();
      this.role = 'taking-over';
      this.takeover = this.takeOver().catch((err: unknown) => {
        this.recover(`taking over failed: ${errorMessage(err)}`);
        return false;
      });
      this.updateStatus();
    } else if (partitions === 0 && this.role !== 'standby') {
      this.recover('another instance of the app holds its partitions now');
    }
  }

  /** Resolves true once this instance is the app's writer, false when it is not (any more). */
  private whenWritable(): Promise<boolean> {
    if (this.role === 'active') return Promise.resolve(true);
    if (this.role === 'taking-over' && this.takeover) return this.takeover;
    return Promise.resolve(false);
  }

  /**
   * Becomes the app's only writer. In this order, so that no record is lost or counted twice:
   * 1. connect the transactional producer: it fences the last writer (whose open transaction is
   *    aborted, or completed if it was committing) — from here nobody else can commit;
   * 2. read the changelog to its end, now final (the follower catches up; else a whole restore);
   * 3. read the committed offsets (also final now) and drop whatever Kafka delivers before them.
   */
  private async takeOver(): Promise<boolean> {
    const { kafka, logger } = this.options;
    const started = performance.now();
    await this.whenPrepared();
    if (this.role !== 'taking-over') return false;
    if (this.commitMode === 'transaction') this.producer = await connectFencing(kafka, this.transactionalId);
    if (this.follower) {
      const [end] = await kafka.topicOffsets(this.changelogTopic);
      const caughtUp = await this.follower.caughtUp(BigInt(end?.high ?? '0'), CATCH_UP_MS);
      await this.follower.stop();
      this.follower = null;
      if (!caughtUp) {
        logger.warn(`the changelog follower did not reach the end of '${this.changelogTopic}' in ${CATCH_UP_MS / 1000} s: restoring it whole`);
        await this.restore();
        // The runtime's grids followed the changelog: it needs the whole snapshot again.
        this.session?.requestShutdown();
        this.session?.end();
      }
    }
    const source = this.source;
    if (source && this.groupId) {
      for (const topic of source.topics) {
        for (const c of await kafka.committedOffsets(this.groupId, topic)) {
          if (BigInt(c.offset) >= 0n) this.dispatcher.startAt(topic, c.partition, BigInt(c.offset));
        }
      }
    }
    if (this.role !== 'taking-over') return false;
    this.role = 'active';
    logger.info(`this instance is now the writer of '${this.appName}' (took over in ${((performance.now() - started) / 1000).toFixed(2)} s)`);
    this.updateStatus();
    return true;
  }

  /** Waits until fencing and restore are done, including after a recovery. */
  private async whenPrepared(): Promise<void> {
    for (;;) {
      if (this.recovering) {
        await this.recovering;
        continue;
      }
      await this.prepare();
      if (!this.recovering) return;
    }
  }

  /**
   * A commit failed: nothing after it may be committed. Drop the pipeline, end the runtime
   * session, fence again, re-read the changelog and resume from the committed offsets.
   */
  private recover(reason: string): void {
    if (this.recovering || this.shuttingDown) return;
    const { logger } = this.options;
    this.commitGen += 1;
    this.commitQueue = [];
    this.recoveries += 1;
    this.recoveringReason = reason;
    this.role = 'standby';
    this.heldSince = null;
    this.standbySince = Date.now();
    this.takeover = null;
    logger.error(`${reason}; re-running from the last committed batch`);
    const session = this.session;
    if (this.sink) this.dispatcher.detach(this.sink);
    this.session = null;
    this.sink = null;
    this.dispatcher.abort();
    if (session) {
      // The runtime's grids hold uncommitted batches: it must start again from the changelog.
      session.requestShutdown();
      session.end();
    }
    const source = this.source;
    this.source = null;
    this.sourceState = null;
    this.recovering = (async () => {
      if (source) await Promise.race([source.stop(), sleep(5000, undefined, { ref: false })]);
      await this.commitsIdle();
      const producer = this.producer;
      this.producer = null;
      if (producer) await Promise.race([producer.disconnect().catch(() => {}), sleep(3000, undefined, { ref: false })]);
      const follower = this.follower;
      this.follower = null;
      await follower?.stop();
      this.prepared = null;
      await this.prepare();
    })().finally(() => {
      this.recovering = null;
      this.updateStatus();
    });
    this.updateStatus();
  }

  /** Grids are served and the runtime is connected. */
  get ready(): boolean {
    return this.status.get().state === 'running';
  }

  get runtimeConnected(): boolean {
    return this.session !== null;
  }

  // ── runtime sessions ────────────────────────────────────────────────────────────────────

  async onHello(session: RuntimeSession, hello: Hello): Promise<void> {
    const { logger } = this.options;
    if (this.shuttingDown) throw new ProtocolError('the sidecar is shutting down', 'shutting_down');
    if (this.app !== null && hello.app !== this.app) {
      throw new ProtocolError(
        `this sidecar serves app '${this.app}', but the runtime said hello as app '${hello.app}'`,
        'wrong_app',
      );
    }
    const allowed = this.options.allowedTopics;
    const denied = allowed ? hello.topics.map((t) => t.name).filter((t) => !topicAllowed(t, allowed)) : [];
    if (denied.length > 0) {
      // Shown in the status too: the runtime exits on it, and its restarts would only say "crashed".
      // The allowance itself goes to the runtime and the log only: /readyz is open to probes.
      this.startupError = `tenant '${this.options.tenant}' may not read ${denied.map((t) => `'${t}'`).join(', ')}; ` +
        'change the app, or ask an admin to allow the topic (aerogrid tenant add --topics)';
      this.updateStatus();
      const message = `${this.startupError} (allowed: ${allowed!.join(', ')})`;
      this.options.logger.error(message);
      throw new ProtocolError(message, 'topic_not_allowed');
    }
    if (this.app === null) {
      this.app = hello.app;
      logger.name = hello.app;
      this.metrics.app = hello.app;
    }
    await this.whenPrepared();
    if (this.shuttingDown) throw new ProtocolError('the sidecar is shutting down', 'shutting_down');
    if (session.closed) return;
    for (const g of hello.grids) {
      const change = this.store.declare(g.name, g.columns);
      const known = this.helloDeclared.has(g.name);
      this.helloDeclared.add(g.name);
      if (change === 'columns-changed' && known) {
        logger.warn(`grid '${g.name}' now has columns ${g.columns.join(', ')}; existing rows are kept as they are`);
      }
    }
    this.store.markListKnown();
    const streamed = [...new Set(hello.topics.filter((t) => t.streamed).map((t) => t.name))].sort();
    if (this.source && !sameSet(this.source.topics, streamed)) {
      logger.info(
        `the app now streams ${streamed.map((t) => `'${t}'`).join(', ') || 'no topics'} (was ${this.source.topics.map((t) => `'${t}'`).join(', ')}): restarting the consumer`,
      );
      const old = this.source;
      this.source = null;
      await this.commitsIdle();
      this.dispatcher.abort();
      await old.stop();
    }
    if (this.shuttingDown) throw new ProtocolError('the sidecar is shutting down', 'shutting_down');
    if (session.closed) return;

    this.sessionsStarted += 1;
    this.startupError = null;
    if (this.sessionsStarted > 1) this.metrics.runtimeRestartsTotal += 1;
    session.send({
      type: 'welcome',
      protocol: RUNTIME_PROTOCOL,
      max_in_flight: this.dispatcher.maxInFlight,
      batch_deadline_ms: this.batchDeadlineMs,
      ...(this.maxRowBytes !== null ? { max_row_bytes: this.maxRowBytes } : {}),
      snapshot: this.store.snapshot(),
    });
    const resend = this.dispatcher.inflightCount;
    this.session = session;
    this.sessionStartedAt = Date.now();
    this.sink = { sendBatch: (id, records) => session.send({ type: 'batch', id, records }) };
    this.dispatcher.attach(this.sink);
    logger.info(
      `runtime connected (${[hello.pid !== undefined ? `pid ${hello.pid}` : '', hello.sdk ? `sdk ${hello.sdk}` : ''].filter(Boolean).join(', ') || 'no pid'}): ` +
        `${hello.grids.length} grid${hello.grids.length === 1 ? '' : 's'}, streams ${streamed.map((t) => `'${t}'`).join(', ') || 'no topics'}` +
        (resend > 0 ? `; re-sending ${resend} unacked batch${resend === 1 ? '' : 'es'}` : ''),
    );
    if (!this.source && streamed.length > 0 && !this.halted) {
      const source: KafkaSource = new KafkaSource({
        kafka: this.options.kafka,
        groupId: this.groupId!,
        topics: streamed,
        dispatcher: this.dispatcher,
        logger,
        batchSize: this.options.batchSize,
        pollMs: this.options.topicPollMs,
        maxConcurrency: this.options.maxConcurrency,
        onDelivery: (topic, partition, first, high) => this.onDelivery(topic, partition, first, high),
        writer: {
          claim: () => ({ heldSince: this.heldSince }),
          onAssignment: (assignment) => this.onAssignment(assignment),
          whenWritable: () => this.whenWritable(),
        },
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        onState: (state) => {
          if (this.source !== source) return;
          if (state.phase === 'running') void this.refreshLag();
          this.sourceState = state;
          this.updateStatus();
        },
      });
      this.source = source;
      this.sourceState = null;
      source.start();
    }
    this.scheduleSettle();
    this.updateStatus();
  }

  onAck(session: RuntimeSession, ack: Ack): void {
    if (session !== this.session) throw new ProtocolError(`ack ${ack.id} from a session that is not active`);
    // Stopped at a bad record: later batches are neither applied nor committed.
    if (this.halted) return;
    const batch = this.dispatcher.expect(ack.id);
    if (typeof batch === 'string') throw new ProtocolError(batch);
    try {
      this.store.validate(ack.deltas);
    } catch (err) {
      if (err instanceof DeltaError) throw new ProtocolError(`ack ${ack.id}: ${err.message}`);
      throw err;
    }
    const cap = this.ackRowLimit;
    if (cap !== null) {
      const big = ack.deltas.find((d) => !d.deleted && recordBytes({ key: changelogKey(d.grid, d.key), value: JSON.stringify(d.row) }) > cap);
      if (big) throw new ProtocolError(`ack ${ack.id}: the row for key '${big.key}' of grid '${big.grid}' is larger than the ${cap} bytes a changelog record may have; the runtime must refuse such a write (welcome.max_row_bytes is ${this.maxRowBytes})`);
    }
    const rejected = [...batch.segments.flatMap((s) => s.rejected), ...ack.rejected];
    for (const r of rejected) this.reportRejected(r);
    if (this.deadLetterPolicy === 'stop' && rejected.length > 0) return this.halt(rejected[0]!);
    this.store.apply(ack.deltas);
    this.metrics.observeBatch((performance.now() - batch.sentAt) / 1000, ack.processed);
    const offsets = this.offsetsOf(batch);
    const deltas = ack.deltas;
    const deadLetters = this.commitMode === 'offsets' ? [] : rejected.map((r) => this.deadLetter(batch, r));
    this.dispatcher.acked(batch);
    this.commitQueue.push({ batch, gen: this.commitGen, acked: { seq: batch.seq, deltas, rejected, offsets, deadLetters } });
    // The consumer may fetch past the batch now: what counts is the commit, and a failed commit
    // re-runs everything from the committed offsets. Waiting for the commit here would stall each
    // partition's fetching for a transaction's round trips.
    this.dispatcher.markAcked(batch);
    this.committing ??= this.drainCommits();
  }

  /**
   * Commits acked batches in ack order. While a transaction is in flight, the batches acked
   * meanwhile wait and then go together in the next transaction: each batch is still all in one
   * transaction (its rows, its dead letters and the offsets past it), and Kafka's per-transaction
   * round trips are paid once per group instead of once per batch.
   */
  private async drainCommits(): Promise<void> {
    const exact = this.commitMode !== 'offsets';
    try {
      while (this.commitQueue.length > 0) {
        const gen = this.commitGen;
        const items = this.commitQueue.splice(0, MAX_BATCHES_PER_COMMIT).filter((i) => i.gen === gen);
        if (items.length === 0) continue;
        const merged = mergeAcked(items.map((i) => i.acked));
        const what = items.length === 1 ? `batch ${merged.seq}` : `batches ${items[0]!.acked.seq}-${merged.seq}`;
        try {
          await this.committer.commit(merged);
          if (gen !== this.commitGen) return;
          this.onCommitted(merged.offsets, exact ? merged.rejected : []);
        } catch (err) {
          if (gen !== this.commitGen) return;
          if (exact) return this.recover(`committing ${what} failed: ${errorMessage(err)}`);
          this.options.logger.warn(`committing ${what} failed (a later commit covers it): ${errorMessage(err)}`);
        }
      }
    } finally {
      this.committing = null;
    }
  }

  /** Resolves once no commit is in flight or queued (queued ones of an older generation are dropped). */
  private async commitsIdle(): Promise<void> {
    while (this.committing) await this.committing;
  }

  /** The dead-letter record of a rejected record: the original key, value and headers plus why and where. */
  private deadLetter(batch: Batch, r: Rejected): ProduceMessage {
    let original: { key: Buffer | string | null; value: Buffer | string | null; headers: Record<string, unknown> } | undefined;
    for (const s of batch.segments) {
      if (s.topic !== r.topic || s.partition !== r.partition) continue;
      const m = s.messages?.find((x) => x.offset === r.offset);
      if (m) original = { key: m.key, value: m.value, headers: m.headers };
      else {
        const w = s.records.find((x) => x.offset === r.offset);
        if (w) original = { key: w.key, value: w.value, headers: {} };
      }
      if (original) break;
    }
    const headers: Record<string, string | Buffer> = {};
    for (const [k, v] of Object.entries(original?.headers ?? {})) {
      if (typeof v === 'string' || Buffer.isBuffer(v)) headers[k] = v;
      else if (Array.isArray(v) && (typeof v[0] === 'string' || Buffer.isBuffer(v[0]))) headers[k] = v[0] as string | Buffer;
    }
    headers['aerogrid-reason'] = r.reason;
    headers['aerogrid-kind'] = r.kind;
    headers['aerogrid-source-topic'] = r.topic;
    headers['aerogrid-source-partition'] = String(r.partition);
    headers['aerogrid-source-offset'] = r.offset;
    headers['aerogrid-app'] = this.appName;
    if (r.traceback) headers['aerogrid-traceback'] = r.traceback.slice(-16_384);
    return { key: original?.key ?? null, value: original?.value ?? null, headers };
  }

  private onCommitted(offsets: TopicPartitionOffset[], deadLettered: Rejected[]): void {
    const now = Date.now();
    this.lastCommit = { at: now, offsets };
    this.lastProgressAt = now;
    for (const o of offsets) {
      const p = this.partitionInfo(o.topic, o.partition);
      p.committed = BigInt(o.offset);
      if (p.high === null || p.high < p.committed) p.high = p.committed;
    }
    for (const r of deadLettered) this.metrics.deadLetteredTotal[r.kind] += 1;
    if (this.staleSince !== null) this.checkStale();
  }

  private partitionInfo(topic: string, partition: number): PartitionInfo {
    const k = `${topic}\u0000${partition}`;
    let p = this.partitions.get(k);
    if (!p) this.partitions.set(k, (p = { topic, partition, committed: null, high: null }));
    return p;
  }

  private onDelivery(topic: string, partition: number, first: string, high: string | undefined): void {
    const p = this.partitionInfo(topic, partition);
    if (p.committed === null) p.committed = BigInt(first);
    if (high !== undefined && (p.high === null || BigInt(high) > p.high)) p.high = BigInt(high);
  }

  private refreshingLag = false;
  private lastLagRefresh = 0;

  /**
   * Reads the group's committed offsets and the partitions' high watermarks from Kafka, so that the
   * lag shows every partition (also those with nothing new to deliver) and records not fetched yet.
   */
  private async refreshLag(): Promise<void> {
    const source = this.source;
    const group = this.groupId;
    if (!source || !group || this.refreshingLag) return;
    this.refreshingLag = true;
    this.lastLagRefresh = Date.now();
    try {
      for (const topic of source.topics) {
        const [committed, offsets] = await Promise.all([this.options.kafka.committedOffsets(group, topic), this.options.kafka.topicOffsets(topic)]);
        for (const o of offsets) {
          const p = this.partitionInfo(topic, o.partition);
          const c = committed.find((x) => x.partition === o.partition);
          const from = c && BigInt(c.offset) >= 0n ? BigInt(c.offset) : BigInt(o.low);
          if (p.committed === null || from > p.committed) p.committed = from;
          if (p.high === null || BigInt(o.high) > p.high) p.high = BigInt(o.high);
        }
      }
    } catch {
      // Kafka away: the lag stays as last seen.
    } finally {
      this.refreshingLag = false;
    }
  }

  /**
   * Records known to wait in Kafka, for staleness. A partition one offset behind is not counted:
   * on a topic written with transactions, the last offset is a transaction marker, not a record.
   */
  private lagTotal(): bigint {
    let n = 0n;
    for (const p of this.partitions.values()) {
      if (p.high !== null && p.committed !== null && p.high - p.committed > 1n) n += p.high - p.committed;
    }
    return n;
  }

  /** Policy `stop`: the first bad record stops consumption; its batch is not committed. */
  private halt(r: Rejected): void {
    const { logger } = this.options;
    this.halted = `stopped at a bad record (dead-letter policy 'stop'): ${r.topic}[${r.partition}]@${r.offset} (${r.kind}): ${r.reason}`;
    logger.error(`${this.halted}; the grids stay served as of the last committed batch`);
    this.dispatcher.stopSending();
    const source = this.source;
    this.source = null;
    this.sourceState = null;
    if (source) void source.stop();
    this.updateStatus();
  }

  // ── deadline and staleness ──────────────────────────────────────────────────────────────

  private tick(): void {
    const session = this.session;
    const head = this.dispatcher.oldestSent;
    if (session && head && !this.halted && performance.now() - head.sentAt > this.batchDeadlineMs) {
      this.deadlineKills += 1;
      session.fail('deadline', `batch ${head.wireId} was not acked within ${this.batchDeadlineMs / 1000} s; the runtime is restarted and the batch re-run`);
    }
    if (this.source && this.sourceState?.phase === 'running' && Date.now() - this.lastLagRefresh > 5000) void this.refreshLag();
    if (this.role === 'standby' && this.follower) {
      void this.changelogBehind().then((n) => {
        if (n === this.standbyBehind) return;
        this.standbyBehind = n;
        this.updateStatus();
      });
    }
    this.checkStale();
  }

  private checkStale(): void {
    const now = Date.now();
    if (this.role !== 'active' && this.source && this.sourceState?.phase === 'running' && !this.halted && !this.recovering) {
      // A standby's grids follow another instance's changelog: never shown as current.
      this.staleSince = this.standbySince;
      this.status.setStale(this.staleSince);
      return;
    }
    const waiting = this.dispatcher.waitingRecords > 0 || (this.lagTotal() > 0n && (this.source !== null || this.halted !== null || this.recovering !== null));
    if (!waiting) {
      this.lastProgressAt = now;
      this.staleSince = null;
    } else if (this.staleSince === null && now - this.lastProgressAt > this.staleAfterMs) {
      this.staleSince = this.lastProgressAt;
      this.options.logger.warn(`the grids are stale: records are waiting and nothing was committed since ${new Date(this.lastProgressAt).toISOString()}`);
    } else if (this.staleSince !== null && this.lastProgressAt > this.staleSince && now - this.lastProgressAt <= this.staleAfterMs) {
      this.staleSince = null;
      this.options.logger.info('the grids are making progress again');
    }
    this.status.setStale(this.staleSince);
  }

  /** `GET /v1/status` (docs/protocol.md §3). */
  report(): Record<string, unknown> {
    const s = this.status.get();
    const rejected = Object.fromEntries(REJECT_KINDS.map((k) => [k, this.metrics.rejectedTotal[k]])) as Record<RejectKind, number>;
    const deadLettered = Object.fromEntries(REJECT_KINDS.map((k) => [k, this.metrics.deadLetteredTotal[k]])) as Record<RejectKind, number>;
    return {
      app: this.appName,
      tenant: this.options.tenant,
      state: s.state,
      message: s.message,
      stale_since: s.stale_since,
      role: this.role,
      ...(this.role === 'standby' ? { standby: { changelog_behind: this.standbyBehind, since: new Date(this.standbySince).toISOString() } } : {}),
      records: { processed: this.metrics.recordsTotal, rejected, dead_lettered: deadLettered },
      lag: this.lagReport(),
      last_commit: this.lastCommit ? { at: new Date(this.lastCommit.at).toISOString(), offsets: this.lastCommit.offsets } : null,
      restore: { ...this.restoreInfo },
      runtime: { connected: this.session !== null, restarts: this.metrics.runtimeRestartsTotal, deadline_exceeded: this.deadlineKills },
      commit: {
        mode: this.commitMode,
        recoveries: this.recoveries,
        changelog_topic: this.app && this.commitMode !== 'offsets' ? this.changelogTopic : null,
        transactional_id: this.app && this.commitMode === 'transaction' ? this.transactionalId : null,
      },
      dead_letter: { policy: this.deadLetterPolicy, topic: this.app && this.commitMode !== 'offsets' ? this.deadLetterTopic : null },
    };
  }

  lagReport(): { topic: string; partition: number; committed: string | null; high: string | null; lag: number | null }[] {
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

  get restoreState(): RestoreInfo {
    return { ...this.restoreInfo };
  }

  onLog(_session: RuntimeSession, level: LogMessageLevel, message: string): void {
    this.options.logger.log(level, message);
  }

  onRuntimeError(session: RuntimeSession, code: string, message: string, beforeHello: boolean): void {
    this.options.logger.error(`${session.describe} reported an error (${code}): ${message}`);
    if (beforeHello) {
      this.startupError = `the runtime could not start: ${message}`;
      this.crashes.push(Date.now());
      this.lastCrashReason = `${code}: ${message}`;
      this.updateStatus();
    }
  }

  onClose(session: RuntimeSession, reason: string): void {
    if (session !== this.session) return;
    const { logger } = this.options;
    if (this.sink) this.dispatcher.detach(this.sink);
    this.session = null;
    this.sink = null;
    const unacked = this.dispatcher.inflightCount;
    const pending = unacked > 0 ? `; ${unacked} unacked batch${unacked === 1 ? '' : 'es'} will be re-sent to the next runtime` : '';
    if (session.shutdownRequested || this.shuttingDown) {
      logger.info(`runtime disconnected: ${reason}${pending}`);
    } else {
      this.crashes.push(Date.now());
      this.lastCrashReason = reason;
      logger.warn(`runtime disconnected: ${reason}${pending}`);
    }
    this.updateStatus();
  }

  private reportRejected(r: Rejected): void {
    this.metrics.rejectedTotal[r.kind] += 1;
    const where = `${r.topic}[${r.partition}]@${r.offset}`;
    const trace = r.kind === 'handler' && r.traceback ? `\n${r.traceback.replace(/\n$/, '')}` : '';
    this.options.logger.warn(`rejected record ${where} (${r.kind}): ${r.reason}${trace}`);
  }

  private offsetsOf(batch: Batch): TopicPartitionOffset[] {
    const last = new Map<string, { topic: string; partition: number; offset: bigint }>();
    for (const s of batch.segments) {
      const k = `${s.partition}:${s.topic}`;
      const o = BigInt(s.lastOffset);
      const cur = last.get(k);
      if (!cur || o > cur.offset) last.set(k, { topic: s.topic, partition: s.partition, offset: o });
    }
    return [...last.values()].map((v) => ({ topic: v.topic, partition: v.partition, offset: (v.offset + 1n).toString() }));
  }

  // ── status ──────────────────────────────────────────────────────────────────────────────

  private recentCrashes(): number {
    const since = Date.now() - this.crashWindowMs;
    this.crashes = this.crashes.filter((t) => t >= since);
    return this.crashes.length;
  }

  private scheduleSettle(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.updateStatus(), this.crashSettleMs + 10);
    this.settleTimer.unref();
  }

  private updateStatus(): void {
    const set = (state: Parameters<StatusTracker['set']>[0], message: string | null) => this.status.set(state, message);
    if (this.shuttingDown) return set('stopping', 'shutting down');
    const r = this.restoreInfo;
    this.status.setRestore(r.state === 'restoring' ? { records_read: r.records_read, records_total: r.records_total } : undefined);
    if (this.halted) return set('failing', this.halted);
    if (this.recovering) return set('starting', `re-running from the last committed batch (${this.recoveringReason})`);
    if (this.prepared && !this.prepareDone) {
      if (this.prepareProblem) return set('waiting', this.prepareProblem);
      if (r.state === 'restoring') {
        return set('starting', `restoring the grids from '${this.changelogTopic}': ${r.records_read} of ${r.records_total} records read`);
      }
      return set('starting', 'fencing older instances and reading the changelog');
    }
    const crashes = this.recentCrashes();
    const crashLoop = crashes >= this.crashLoopCount;
    const failing = `the runtime disconnected ${crashes} times in the last ${Math.round(this.crashWindowMs / 1000)} s (last: ${this.lastCrashReason})`;
    if (!this.session) {
      if (this.startupError) return set('failing', this.startupError);
      if (crashLoop) return set('failing', failing);
      return set('waiting', this.sessionsStarted === 0 ? 'waiting for the runtime to connect' : 'waiting for the runtime to reconnect');
    }
    const s = this.sourceState;
    if (this.source && s) {
      switch (s.phase) {
        case 'waiting-topic':
          return set('waiting', `waiting for topic '${s.topic}' to exist (create it or check the name)`);
        case 'unreachable':
          return set('waiting', s.message);
        case 'restarting':
          return set('starting', s.message);
        case 'checking':
        case 'joining':
          return set('starting', `joining consumer group '${this.groupId}'`);
        case 'stopped':
          return set('starting', 'starting the consumer');
        case 'running':
          break;
      }
    } else if (this.source) {
      return set('starting', `joining consumer group '${this.groupId}'`);
    }
    if (crashLoop && Date.now() - this.sessionStartedAt < this.crashSettleMs) return set('failing', failing);
    // An app that streams no topic has nothing to write: the roles apply to consuming apps.
    if (this.source && this.role === 'taking-over') return set('starting', `taking over as the writer of '${this.appName}': fencing the last writer, catching up with the changelog`);
    if (this.source && this.role === 'standby') {
      const behind = this.standbyBehind === null ? '' : ` (${this.standbyBehind} record${this.standbyBehind === 1 ? '' : 's'} behind)`;
      return set('standby', `standing by: another instance of '${this.appName}' is the writer; the grids follow its changelog${behind}`);
    }
    return set('running', null);
  }

  // ── shutdown ────────────────────────────────────────────────────────────────────────────

  /**
   * Stops: asks the runtime to shut down (it acks the batch in hand), commits what was acked,
   * stops the consumer. Bounded by `timeoutMs` for the runtime's part.
   */
  async shutdown(timeoutMs = 3000): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.stopping.abort();
    this.updateStatus();
    if (this.settleTimer) clearTimeout(this.settleTimer);
    clearInterval(this.ticker);
    this.dispatcher.stopSending();
    const session = this.session;
    if (session) {
      session.requestShutdown();
      const deadline = Date.now() + timeoutMs;
      while (!session.closed && this.dispatcher.inflightCount > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      session.end();
      await session.whenClosed;
    }
    await this.commitsIdle();
    this.dispatcher.abort();
    const source = this.source;
    this.source = null;
    if (source) {
      await Promise.race([source.stop(), new Promise((r) => setTimeout(r, 2000).unref())]);
    }
    const producer = this.producer;
    this.producer = null;
    if (producer) await Promise.race([producer.disconnect().catch(() => {}), new Promise((r) => setTimeout(r, 1500).unref())]);
    const follower = this.follower;
    this.follower = null;
    if (follower) await Promise.race([follower.stop(), new Promise((r) => setTimeout(r, 1500).unref())]);
  }
}
