/**
 * The sidecar's core: runtime sessions in, grid store and status out. It wires the parts, each
 * of which owns its own state:
 *
 *   KafkaSource ─segments─► Dispatcher ─batches─► runtime session ─acks─► grid store
 *                                                                    └──► CommitQueue (in order):
 *                                     one Kafka transaction = changelog rows + dead letters + offsets
 *
 * - AppChangelog (restore/changelog.ts): the restore and, while standing by, the follower;
 * - Writership (writer.ts): standby, taking over, or the app's one writer (docs/protocol.md §1);
 * - LagTracker (lag.ts), CrashWindow and StaleClock (health.ts): what the status is made of;
 *   `appStatus` (health.ts) is the status rules as a pure function.
 *
 * Exactly-once: every instance restores the changelog and follows it; the one the consumer group
 * gives the partitions fences the last writer (shared transactional id), catches up, reads the
 * committed offsets and only then consumes. When a transaction fails, nothing after it is
 * committed: the pipeline is dropped, the runtime session ended, the grids read again from the
 * changelog, and the instance joins again as a standby.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeadLetterPolicy } from '@aerogrid/protocol/environment';
import { appKafkaNames, type AppKafkaNames } from '@aerogrid/protocol/kafka-names';
import { DEFAULTS } from './defaults.js';
import { DeltaError, GridStore, type Delta } from './grids.js';
import { appStatus, CrashWindow, probeMessage, StaleClock, type RestoreInfo } from './health.js';
import { recordBytes, type KafkaClient, type TopicPartitionOffset, type TransactionalProducer } from './kafka/client.js';
import { LagTracker } from './lag.js';
import { errorMessage, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { topicAllowed } from './names.js';
import { CommitQueue } from './pipeline/commit-queue.js';
import { changelogKey, changelogRecordMayExceed, OffsetCommitter, PlainCommitter, TransactionalCommitter, type AckedBatch, type BatchCommitter } from './pipeline/committer.js';
import { deadLetterRecord } from './pipeline/dead-letters.js';
import { Dispatcher, type Batch, type BatchSink } from './pipeline/dispatcher.js';
import { partitionKey } from './kafka/partitions.js';
import { KafkaSource, type SourceState } from './pipeline/source.js';
import { AppChangelog } from './restore/changelog.js';
import { connectFencing } from './restore/fence.js';
import { ProtocolError, REJECT_KINDS, RUNTIME_PROTOCOL, type Ack, type Hello, type LogMessageLevel, type Rejected, type RejectKind } from './runtime/protocol.js';
import type { RuntimeHandler, RuntimeSession } from './runtime/server.js';
import { StatusTracker } from './status.js';
import { Writership } from './writer.js';

export type { RestoreInfo } from './health.js';

/**
 * How acked batches are committed: `transaction` (exactly-once, the default), `plain` (the same
 * changelog and dead-letter writes without a transaction: at-least-once), `offsets` (consumer
 * offsets only: no changelog, no dead letters, no restore).
 */
export type CommitMode = 'transaction' | 'plain' | 'offsets';
export const COMMIT_MODES: readonly CommitMode[] = ['transaction', 'plain', 'offsets'];

export { DEAD_LETTER_POLICIES, type DeadLetterPolicy } from '@aerogrid/protocol/environment';

/** Options of the core; those left out take their value from `DEFAULTS` (defaults.ts). */
export interface CoreOptions {
  tenant: string;
  /** The app this sidecar serves; when absent, the first runtime's hello decides. */
  app?: string;
  kafka: KafkaClient;
  logger: Logger;
  maxInFlight?: number;
  batchSize?: number;
  topicPollMs?: number;
  maxConcurrency: number;
  /** The runtime "keeps crashing" after this many disconnects within `crashWindowMs`. */
  crashLoopCount?: number;
  crashWindowMs?: number;
  /** A session must stay up this long before `failing` turns back into `running`. */
  crashSettleMs?: number;
  /** Replaces the commit step (default: from `commitMode`). */
  committer?: (commitOffsets: (offsets: TopicPartitionOffset[]) => Promise<void>) => BatchCommitter;
  commitMode?: CommitMode;
  deadLetterPolicy?: DeadLetterPolicy;
  /** Default `aerogrid.<tenant>.<app>.dlq`. */
  deadLetterTopic?: string;
  /** `retention.ms` of the dead-letter topic when the sidecar creates it (default: the broker's). */
  deadLetterRetentionMs?: number;
  /** A batch not acked this long after it was sent ends the runtime session. */
  batchDeadlineMs?: number;
  /** Records waiting with no commit for this long make the grids stale. */
  staleAfterMs?: number;
  /** The tenant's topics (names, 'prefix*'); a runtime streaming another is refused. Default: any. */
  allowedTopics?: readonly string[];
  /**
   * Runs a separate copy of the app with its own consumer group, changelog and transactional id
   * (`aerogrid.<tenant>.<app>.<instance>`), e.g. `dev`: it never touches the deployed app's state.
   */
  instance?: string;
  /** The consumer group session timeout: how soon a standby takes over from a dead writer. */
  sessionTimeoutMs?: number;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Per partition of a batch, the next offset to read (its last offset + 1). */
function offsetsOf(batch: Batch): TopicPartitionOffset[] {
  const last = new Map<string, { topic: string; partition: number; offset: bigint }>();
  for (const s of batch.segments) {
    const k = partitionKey(s.topic, s.partition);
    const o = BigInt(s.lastOffset);
    const cur = last.get(k);
    if (!cur || o > cur.offset) last.set(k, { topic: s.topic, partition: s.partition, offset: o });
  }
  return [...last.values()].map((v) => ({ topic: v.topic, partition: v.partition, offset: (v.offset + 1n).toString() }));
}

export class SidecarCore implements RuntimeHandler {
  readonly store: GridStore;
  readonly status = new StatusTracker();
  readonly metrics = new Metrics();
  readonly dispatcher: Dispatcher;
  readonly commitMode: CommitMode;
  readonly deadLetterPolicy: DeadLetterPolicy;
  private readonly commits: CommitQueue;
  private readonly changelog: AppChangelog;
  private readonly writer = new Writership();
  private readonly lag = new LagTracker();
  private readonly crashes: CrashWindow;
  private readonly stale: StaleClock;
  private readonly batchDeadlineMs: number;
  private readonly crashSettleMs: number;
  private readonly ticker: NodeJS.Timeout;
  /** Aborted at shutdown: ends a restore still reading the changelog. */
  private readonly stopping = new AbortController();
  private readonly helloDeclared = new Set<string>();
  private app: string | null;
  private producer: TransactionalProducer | null = null;
  private prepared: Promise<void> | null = null;
  private prepareDone = false;
  private prepareProblem: string | null = null;
  private recovering: Promise<void> | null = null;
  private recoveringReason = '';
  private recoveries = 0;
  private halted: string | null = null;
  private lastCommit: { at: number; offsets: TopicPartitionOffset[] } | null = null;
  private deadlineKills = 0;
  /**
   * A batch that hung (the batch deadline), while its records are re-run one at a time and until a
   * runtime session stays up `crashSettleMs` after the record that hangs was dealt with: `failing`.
   */
  private hang: { message: string; batch: string; resolvedAt: number | null } | null = null;
  private session: RuntimeSession | null = null;
  private sink: BatchSink | null = null;
  private sessionStartedAt = 0;
  private sessionsStarted = 0;
  private source: KafkaSource | null = null;
  private sourceState: SourceState | null = null;
  /** Why the last runtime could not start (an `error` before hello); cleared by the next hello. */
  private startupError: string | null = null;
  private standbyBehind: number | null = null;
  private behindCheckedAt = 0;
  private settleTimer: NodeJS.Timeout | null = null;
  private shuttingDown = false;

  constructor(private readonly options: CoreOptions) {
    this.app = options.app ?? null;
    this.metrics.app = this.app ?? '';
    this.dispatcher = new Dispatcher({ maxInFlight: options.maxInFlight ?? DEFAULTS.maxInFlight, batchSize: options.batchSize ?? DEFAULTS.batchSize });
    this.commitMode = options.committer ? 'offsets' : (options.commitMode ?? DEFAULTS.commitMode);
    // Seqs are changelog offsets with transactions; else counted from the clock (µs), so that a
    // client's seq from an earlier process is never taken for one of this process (docs/protocol.md §2).
    this.store = new GridStore({ historyKeys: DEFAULTS.historyKeysPerGrid, ...(this.commitMode === 'transaction' ? {} : { countFrom: Date.now() * 1000 }) });
    this.deadLetterPolicy = options.deadLetterPolicy ?? DEFAULTS.deadLetterPolicy;
    this.batchDeadlineMs = options.batchDeadlineMs ?? DEFAULTS.batchDeadlineMs;
    this.crashSettleMs = options.crashSettleMs ?? DEFAULTS.crashSettleMs;
    this.crashes = new CrashWindow(options.crashLoopCount ?? DEFAULTS.crashLoopCount, options.crashWindowMs ?? DEFAULTS.crashWindowMs);
    this.stale = new StaleClock(options.staleAfterMs ?? DEFAULTS.staleAfterMs, options.logger);
    this.changelog = new AppChangelog({
      kafka: options.kafka,
      logger: options.logger,
      store: this.store,
      signal: this.stopping.signal,
      onProgress: () => this.updateStatus(),
      // The runtime's grids follow too, so that it can take over without a new snapshot.
      onRows: (deltas: Delta[]) => this.session?.send({ type: 'rows', deltas }),
      onFollowerFailed: (err) => {
        if (this.writer.role === 'standby' && !this.shuttingDown) this.recover(`following the changelog failed: ${errorMessage(err)}`);
      },
    });
    this.commits = new CommitQueue({
      committer: this.makeCommitter(),
      maxBatches: DEFAULTS.maxBatchesPerCommit,
      exact: this.commitMode !== 'offsets',
      logger: options.logger,
      onCommitted: (merged, firstOffset) => this.onCommitted(merged, firstOffset),
      onFailed: (reason) => this.recover(reason),
    });
    this.metrics.extra = () => ({
      lag: this.lag.report().map((l) => ({ topic: l.topic, partition: l.partition, lag: l.lag ?? 0 })),
      stale: this.stale.since !== null,
      restoreRecords: this.changelog.info.records_read,
      recoveries: this.recoveries,
    });
    this.ticker = setInterval(() => this.tick(), 500);
    this.ticker.unref();
    this.updateStatus();
  }

  private makeCommitter(): BatchCommitter {
    const { kafka, committer } = this.options;
    const commitOffsets = (offsets: TopicPartitionOffset[]) => this.source?.commit(offsets) ?? Promise.resolve();
    if (committer) return committer(commitOffsets);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const core = this;
    const topics = {
      get changelogTopic() { return core.names.changelog; },
      get deadLetterTopic() { return core.deadLetterTopic; },
      get consumerGroupId() { return core.names.group; },
      get changelogMaxBytes() { return core.changelog.limits.changelog; },
      get deadLetterMaxBytes() { return core.changelog.limits.deadLetters; },
    };
    if (this.commitMode === 'transaction') {
      return new TransactionalCommitter(() => {
        if (!this.producer) throw new Error('the transactional producer is not connected');
        return this.producer;
      }, topics);
    }
    if (this.commitMode === 'plain') return new PlainCommitter((topic, messages) => kafka.produce(topic, messages), commitOffsets, topics);
    return new OffsetCommitter(commitOffsets);
  }

  get appName(): string {
    return this.app ?? '';
  }

  /** The app's consumer group, changelog, dead letters and transactional id (docs/protocol.md §4). */
  private get names(): AppKafkaNames {
    return appKafkaNames(this.options.tenant, this.appName, this.options.instance);
  }

  private get deadLetterTopic(): string {
    return this.options.deadLetterTopic ?? this.names.deadLetters;
  }

  /** Starts restoring right away when the app is known (else at the first hello). */
  start(): void {
    if (this.app !== null) void this.prepare();
  }

  // ── changelog: restore, follow, take over ───────────────────────────────────────────────

  private prepare(): Promise<void> {
    return (this.prepared ??= this.runPrepare());
  }

  /**
   * Restores the grids and follows the changelog, retrying while Kafka is away. No fencing here:
   * only the instance that gets the partitions connects the transactional producer (takeOver).
   */
  private async runPrepare(): Promise<void> {
    const { kafka, logger } = this.options;
    this.prepareDone = false;
    this.updateStatus();
    let lastProblem = '';
    while (!this.shuttingDown) {
      try {
        if (this.commitMode !== 'offsets') await this.changelog.prepare({ ...this.names, deadLetters: this.deadLetterTopic, deadLetterRetentionMs: this.options.deadLetterRetentionMs });
        else this.changelog.skip();
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
        this.changelog.failed();
        this.updateStatus();
        await sleep(this.options.topicPollMs ?? DEFAULTS.topicPollMs);
      }
    }
  }

  /** The group gave this instance its assignment (every partition, or none). */
  private onAssignment(assignment: Record<string, number[]>): void {
    const partitions = Object.values(assignment).reduce((n, ps) => n + ps.length, 0);
    const decision = this.writer.decide(partitions);
    if (decision === 'take-over') {
      this.writer.takingOver(() =>
        this.takeOver().catch((err: unknown) => {
          this.recover(`taking over failed: ${errorMessage(err)}`);
          return false;
        }),
      );
      this.updateStatus();
    } else if (decision === 'step-down') {
      this.recover('another instance of the app holds its partitions now');
    }
  }

  /**
   * Becomes the app's only writer. In this order, so that no record is lost or counted twice:
   * 1. connect the transactional producer and take its epoch (connectFencing): it fences the last
   *    writer (whose open transaction is aborted, or completed if it was committing) — from here
   *    nobody else can commit;
   * 2. read the changelog to its end, now final (the follower catches up; else a whole restore);
   * 3. read the committed offsets (also final now) and drop whatever Kafka delivers before them.
   */
  private async takeOver(): Promise<boolean> {
    const { kafka, logger } = this.options;
    const started = performance.now();
    await this.whenPrepared();
    if (this.writer.role !== 'taking-over') return false;
    const names = this.names;
    if (this.commitMode === 'transaction') this.producer = await connectFencing(kafka, names.transactionalId);
    if (!(await this.changelog.catchUp(names.changelog, names.group, DEFAULTS.catchUpMs))) {
      // The runtime's grids followed the changelog: it needs the whole snapshot again.
      this.session?.requestShutdown();
      this.session?.end();
    }
    for (const topic of this.source?.topics ?? []) {
      for (const c of await kafka.committedOffsets(names.group, topic)) {
        if (BigInt(c.offset) >= 0n) this.dispatcher.startAt(topic, c.partition, BigInt(c.offset));
      }
    }
    if (!this.writer.tookOver()) return false;
    this.checkStale();
    logger.info(`this instance is now the writer of '${this.appName}' (took over in ${((performance.now() - started) / 1000).toFixed(2)} s)`);
    this.updateStatus();
    return true;
  }

  /** Waits until the restore is done, including after a recovery. */
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
   * A commit failed, or this instance is not the writer any more: nothing after the last commit
   * may be committed. Drop the pipeline, end the runtime session, leave the group, re-read the
   * changelog and join again as a standby.
   */
  private recover(reason: string): void {
    if (this.recovering || this.shuttingDown) return;
    const { logger } = this.options;
    this.commits.drop();
    this.recoveries += 1;
    this.recoveringReason = reason;
    this.writer.standBy();
    logger.error(`${reason}; re-running from the last committed batch`);
    const session = this.session;
    if (this.sink) this.dispatcher.detach(this.sink);
    this.session = null;
    this.sink = null;
    this.dispatcher.abort();
    // Batches re-run from the committed offsets, whole: one that hangs again is found again.
    this.hang = null;
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
      await this.commits.idle();
      const producer = this.producer;
      this.producer = null;
      if (producer) await Promise.race([producer.disconnect().catch(() => {}), sleep(3000, undefined, { ref: false })]);
      await this.changelog.stopFollowing();
      this.prepared = null;
      await this.prepare();
    })().finally(() => {
      this.recovering = null;
      this.updateStatus();
    });
    this.updateStatus();
  }

  /** The status message for the open probes: a bad record's content stays in `/v1/status`. */
  get probeStatusMessage(): string | null {
    return probeMessage({ shuttingDown: this.shuttingDown, halted: this.halted, recovering: this.recovering ? this.recoveringReason : null }, this.status.get().message);
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
        logger.warn(`grid '${g.name}' now has columns ${g.columns.join(', ')}; existing rows no longer carry the columns it dropped`);
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
      await this.commits.idle();
      this.dispatcher.abort();
      this.hang = null;
      await old.stop();
    }
    if (this.shuttingDown) throw new ProtocolError('the sidecar is shutting down', 'shutting_down');
    if (session.closed) return;

    // The welcome's snapshot is the committed grids: batches the last runtime acked must be in it.
    await this.commits.idle();
    // A commit that failed meanwhile re-reads the grids from the changelog: wait for that.
    if (this.recovering) await this.whenPrepared();
    if (this.shuttingDown) throw new ProtocolError('the sidecar is shutting down', 'shutting_down');
    if (session.closed) return;

    this.sessionsStarted += 1;
    this.startupError = null;
    if (this.sessionsStarted > 1) this.metrics.runtimeRestartsTotal += 1;
    const maxRowBytes = this.changelog.maxRowBytes;
    session.send({
      type: 'welcome',
      protocol: RUNTIME_PROTOCOL,
      max_in_flight: this.dispatcher.maxInFlight,
      batch_deadline_ms: this.batchDeadlineMs,
      ...(maxRowBytes !== null ? { max_row_bytes: maxRowBytes } : {}),
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
    if (!this.source && streamed.length > 0 && !this.halted) this.startSource(streamed);
    this.scheduleSettle();
    this.updateStatus();
  }

  private startSource(topics: string[]): void {
    const source: KafkaSource = new KafkaSource({
      kafka: this.options.kafka,
      groupId: this.names.group,
      topics,
      dispatcher: this.dispatcher,
      logger: this.options.logger,
      batchSize: this.dispatcher.batchSize,
      pollMs: this.options.topicPollMs ?? DEFAULTS.topicPollMs,
      maxConcurrency: this.options.maxConcurrency,
      onDelivery: (topic, partition, first, high) => this.lag.delivered(topic, partition, first, high),
      writer: {
        claim: () => this.writer.claim(),
        onAssignment: (assignment) => this.onAssignment(assignment),
        whenWritable: () => this.writer.whenWritable(),
        writable: () => this.writer.role === 'active',
      },
      sessionTimeoutMs: this.options.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs,
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

  onAck(session: RuntimeSession, ack: Ack): void {
    if (session !== this.session) throw new ProtocolError(`ack ${ack.id} from a session that is not active`);
    // Stopped at a bad record: later batches are neither applied nor committed.
    if (this.halted) return;
    const batch = this.dispatcher.expect(ack.id);
    if (typeof batch === 'string') throw new ProtocolError(batch);
    const deltas = this.checkedDeltas(ack);
    if (typeof deltas === 'string') return this.refuseAck(session, batch, ack.id, deltas);
    this.metrics.observeBatch((performance.now() - batch.sentAt) / 1000);
    this.commitAcked(batch, deltas, ack.processed, ack.rejected);
  }

  /** Applies an acked batch to the grids and queues its commit (policy `stop`: halts at a reject instead). */
  private commitAcked(batch: Batch, deltas: Delta[], processed: number, runtimeRejected: Rejected[]): void {
    const rejected = [...batch.segments.flatMap((s) => s.rejected), ...runtimeRejected];
    for (const r of rejected) this.logRejected(r);
    if (this.deadLetterPolicy === 'stop' && rejected.length > 0) return this.halt(rejected[0]!);
    const maxBytes = this.changelog.limits.deadLetters;
    const deadLetters = this.commitMode === 'offsets' ? [] : rejected.map((r) => deadLetterRecord(batch, r, this.appName, maxBytes));
    this.dispatcher.acked(batch);
    this.commits.push({ seq: batch.seq, deltas, processed, rejected, offsets: offsetsOf(batch), deadLetters });
    // The consumer may fetch past the batch now: what counts is the commit, and a failed commit
    // re-runs everything from the committed offsets. Waiting for the commit here would stall each
    // partition's fetching for a transaction's round trips.
    this.dispatcher.markAcked(batch);
    if (batch.isolated && this.hang?.resolvedAt === null && !this.dispatcher.isolating) {
      this.hang = { ...this.hang, message: `${this.hang.batch}; none of its records hung on its own when re-run one at a time`, resolvedAt: Date.now() };
      this.scheduleSettle();
      this.updateStatus();
    }
  }

  /** A one-record batch committed as its record rejected (kind `handler`): nothing of it is applied. */
  private rejectWhole(batch: Batch, reason: string): void {
    const record = batch.records[0]!;
    this.commitAcked(batch, [], 0, [{ topic: record.topic, partition: record.partition, offset: record.offset, kind: 'handler', reason }]);
  }

  /**
   * An ack that cannot be committed (a row larger than a changelog record may be): the runtime's
   * grids hold that row now, so its session ends and a new one starts from the sidecar's grids. A
   * one-record batch's record is dead-lettered (policy `stop`: stops there); a larger batch is
   * re-run one record at a time, so that only the record that wrote the row is.
   */
  private refuseAck(session: RuntimeSession, batch: Batch, ackId: number, reason: string): void {
    const { logger } = this.options;
    if (batch.records.length === 0) throw new ProtocolError(`ack ${ackId}: ${reason}, for a batch without records`);
    this.endSession(session);
    if (Dispatcher.single(batch)) return this.rejectWhole(batch, reason);
    const n = this.dispatcher.isolate(batch);
    logger.warn(`ack ${ackId}: ${reason}; re-running the batch's ${n} records one at a time to dead-letter the record that wrote it`);
  }

  /**
   * A message over the runtime line limit while a batch waits for its ack: taken to be that ack,
   * too large to take (many wide rows at once), and refused like a row too large: the batch is
   * re-run one record at a time, and a record whose ack alone is too large is dead-lettered.
   */
  onLineTooLong(session: RuntimeSession, message: string): boolean {
    const head = this.dispatcher.oldestSent;
    if (session !== this.session || !head || head.records.length === 0 || this.halted) return false;
    this.refuseAck(session, head, head.wireId, `the runtime's ack is a ${message}, more than a runtime message may have; write fewer or smaller rows per record`);
    return true;
  }

  /**
   * Ends the runtime session on the sidecar's own initiative (no crash): with a `failure`, an
   * `error` tells the runtime why; else it is asked to shut down. Unacked batches wait for the next.
   */
  private endSession(session: RuntimeSession, failure?: { code: string; message: string }): void {
    if (session !== this.session) return;
    if (this.sink) this.dispatcher.detach(this.sink);
    this.session = null;
    this.sink = null;
    if (failure) session.fail(failure.code, failure.message);
    else {
      session.requestShutdown();
      session.end();
    }
    this.updateStatus();
  }

  /**
   * The oldest batch hung: its deadline passed, or the runtime said so (`error` code `deadline`).
   * The runtime is restarted either way (its code is stuck). A one-record batch's record is
   * dead-lettered (policy `stop`: stops there); a larger batch is re-run one record at a time.
   */
  private onHung(session: RuntimeSession, batch: Batch): void {
    const { logger } = this.options;
    this.deadlineKills += 1;
    const secs = this.batchDeadlineMs / 1000;
    const late = `batch ${batch.wireId} was not acked within ${secs} s (the batch deadline)`;
    if (Dispatcher.single(batch) && batch.records.length === 1) {
      const r = batch.records[0]!;
      const where = `${r.topic}[${r.partition}]@${r.offset}`;
      this.endSession(session, { code: 'deadline', message: `${late}: its record ${where} hangs; the runtime must restart` });
      logger.error(`${late}: the handler hangs on record ${where}`);
      const what = this.deadLetterPolicy === 'stop' ? 'not processed' : 'dead-lettered';
      this.hang = { message: `a handler hung on record ${where} for more than ${secs} s (the batch deadline): the record was ${what} and the runtime restarted`, batch: late, resolvedAt: Date.now() };
      this.rejectWhole(batch, `the handler did not finish within the batch deadline (${secs} s)`);
      this.scheduleSettle();
    } else {
      this.endSession(session, { code: 'deadline', message: `${late}; the runtime must restart` });
      const n = this.dispatcher.isolate(batch);
      logger.error(`${late} (a handler seems stuck): re-running its ${n} records one at a time to find the one that hangs`);
      this.hang = { message: `${late}: re-running its ${n} records one at a time to find the one that hangs`, batch: late, resolvedAt: null };
    }
    this.updateStatus();
  }

  /**
   * The ack's deltas, checked once: declared grids and columns (else a protocol error), and rows the
   * changelog can hold (else why not, as text: the ack is refused, not the session's protocol).
   */
  private checkedDeltas(ack: Ack): Delta[] | string {
    try {
      this.store.validate(ack.deltas);
    } catch (err) {
      if (err instanceof DeltaError) throw new ProtocolError(`ack ${ack.id}: ${err.message}`);
      throw err;
    }
    const cap = this.changelog.ackRowLimit;
    if (cap !== null) {
      const big = ack.deltas.find((d) => !d.deleted && changelogRecordMayExceed(d, cap) && recordBytes({ key: changelogKey(d.grid, d.key), value: JSON.stringify(d.row) }) > cap);
      if (big) return `the row for key '${big.key.slice(0, 80)}' of grid '${big.grid}' is larger than the ${cap} bytes a changelog record may have (the changelog topic's max.message.bytes); the runtime should have refused the write (welcome.max_row_bytes is ${this.changelog.maxRowBytes})`;
    }
    return ack.deltas;
  }

  /**
   * Counters follow committed work only: a batch re-run after a failed commit (or a runtime
   * restart) is counted once, when it commits, so `rejected` never runs ahead of `dead_lettered`.
   * Clients see a batch's rows only now too: a failed commit never reaches them (docs/protocol.md §2).
   */
  private onCommitted(merged: AckedBatch, firstOffset: number | null): void {
    this.metrics.recordsTotal += merged.processed;
    for (const r of merged.rejected) this.metrics.rejectedTotal[r.kind] += 1;
    this.store.applyValidated(merged.deltas, firstOffset === null ? null : (i) => firstOffset + i);
    this.lastCommit = { at: Date.now(), offsets: merged.offsets };
    this.stale.progressed();
    this.lag.committed(merged.offsets);
    if (this.commitMode !== 'offsets') for (const r of merged.rejected) this.metrics.deadLetteredTotal[r.kind] += 1;
    if (this.stale.since !== null) this.checkStale();
  }

  /** Policy `stop`: the first bad record stops consumption; its batch is not committed. */
  private halt(r: Rejected): void {
    const { logger } = this.options;
    // Never committed, but counted: it is why the app stopped (once per sidecar: consumption ends here).
    this.metrics.rejectedTotal[r.kind] += 1;
    this.halted = `stopped at a bad record (dead-letter policy 'stop'): ${r.topic}[${r.partition}]@${r.offset} (${r.kind}): ${r.reason}`;
    logger.error(`${this.halted}; the grids stay served as of the last committed batch`);
    this.dispatcher.stopSending();
    const source = this.source;
    this.source = null;
    this.sourceState = null;
    if (source) void source.stop();
    this.updateStatus();
  }

  private refreshLag(): Promise<void> {
    const source = this.source;
    return source && this.app ? this.lag.refresh(this.options.kafka, this.names.group, source.topics) : Promise.resolve();
  }

  // ── deadline and staleness ──────────────────────────────────────────────────────────────

  private tick(): void {
    const session = this.session;
    const head = this.dispatcher.oldestSent;
    if (session && head && !this.halted && performance.now() - head.dueFrom > this.batchDeadlineMs) this.onHung(session, head);
    if (this.source && this.sourceState?.phase === 'running' && this.lag.due) void this.refreshLag();
    // A standby's distance to the writer: one offsets request every 2 s, not every tick.
    if (this.writer.role === 'standby' && this.app && Date.now() - this.behindCheckedAt >= 2000) {
      this.behindCheckedAt = Date.now();
      void this.changelog.behind(this.names.changelog).then((n) => {
        if (n === this.standbyBehind) return;
        this.standbyBehind = n;
        this.updateStatus();
      });
    }
    this.checkStale();
  }

  private checkStale(): void {
    // A standby's grids follow another instance's changelog: never shown as current.
    const standby = this.writer.role !== 'active' && this.source && this.sourceState?.phase === 'running' && !this.halted && !this.recovering;
    const waiting = this.dispatcher.waitingRecords > 0 || (this.lag.total() > 0n && (this.source !== null || this.halted !== null || this.recovering !== null));
    this.status.setStale(this.stale.update(waiting, standby ? this.writer.standbySince : null));
  }

  /** `GET /v1/status` (docs/protocol.md §3). */
  report(): Record<string, unknown> {
    const s = this.status.get();
    const rejected = Object.fromEntries(REJECT_KINDS.map((k) => [k, this.metrics.rejectedTotal[k]])) as Record<RejectKind, number>;
    const deadLettered = Object.fromEntries(REJECT_KINDS.map((k) => [k, this.metrics.deadLetteredTotal[k]])) as Record<RejectKind, number>;
    const names = this.app ? this.names : null;
    const role = this.writer.role;
    return {
      app: this.appName,
      tenant: this.options.tenant,
      state: s.state,
      message: s.message,
      stale_since: s.stale_since,
      role,
      ...(role === 'standby' ? { standby: { changelog_behind: this.standbyBehind, since: new Date(this.writer.standbySince).toISOString() } } : {}),
      records: { processed: this.metrics.recordsTotal, rejected, dead_lettered: deadLettered },
      lag: this.lag.report(),
      last_commit: this.lastCommit ? { at: new Date(this.lastCommit.at).toISOString(), offsets: this.lastCommit.offsets } : null,
      restore: { ...this.changelog.info },
      runtime: { connected: this.session !== null, restarts: this.metrics.runtimeRestartsTotal, deadline_exceeded: this.deadlineKills },
      commit: {
        mode: this.commitMode,
        recoveries: this.recoveries,
        changelog_topic: names && this.commitMode !== 'offsets' ? names.changelog : null,
        transactional_id: names && this.commitMode === 'transaction' ? names.transactionalId : null,
      },
      dead_letter: { policy: this.deadLetterPolicy, topic: names && this.commitMode !== 'offsets' ? this.deadLetterTopic : null },
    };
  }

  get restoreState(): RestoreInfo {
    return { ...this.changelog.info };
  }

  onLog(_session: RuntimeSession, level: LogMessageLevel, message: string): void {
    this.options.logger.log(level, message);
  }

  onRuntimeError(session: RuntimeSession, code: string, message: string, beforeHello: boolean): void {
    this.options.logger.error(`${session.describe} reported an error (${code}): ${message}`);
    const head = this.dispatcher.oldestSent;
    if (code === 'deadline' && !beforeHello && session === this.session && head && !this.halted) return this.onHung(session, head);
    if (beforeHello) {
      this.startupError = `the runtime could not start: ${message}`;
      this.crashes.record(`${code}: ${message}`);
      this.updateStatus();
    }
  }

  onClose(session: RuntimeSession, reason: string): void {
    if (session !== this.session) return;
    const { logger } = this.options;
    // A runtime that ended itself on a hung batch without saying so: the same as the deadline.
    const head = this.dispatcher.oldestSent;
    if (head && !session.shutdownRequested && !this.shuttingDown && !this.halted && performance.now() - head.dueFrom >= this.batchDeadlineMs) return this.onHung(session, head);
    if (this.sink) this.dispatcher.detach(this.sink);
    this.session = null;
    this.sink = null;
    const unacked = this.dispatcher.inflightCount;
    const pending = unacked > 0 ? `; ${unacked} unacked batch${unacked === 1 ? '' : 'es'} will be re-sent to the next runtime` : '';
    if (session.shutdownRequested || this.shuttingDown) {
      logger.info(`runtime disconnected: ${reason}${pending}`);
    } else {
      this.crashes.record(reason);
      logger.warn(`runtime disconnected: ${reason}${pending}`);
    }
    this.updateStatus();
  }

  private logRejected(r: Rejected): void {
    const where = `${r.topic}[${r.partition}]@${r.offset}`;
    const trace = r.kind === 'handler' && r.traceback ? `\n${r.traceback.replace(/\n$/, '')}` : '';
    this.options.logger.warn(`rejected record ${where} (${r.kind}): ${r.reason}${trace}`);
  }

  // ── status ──────────────────────────────────────────────────────────────────────────────

  private scheduleSettle(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.updateStatus(), this.crashSettleMs + 10);
    this.settleTimer.unref();
  }

  /** The hang to show as `failing`, until a session stayed up `crashSettleMs` after it was dealt with. */
  private hungMessage(): string | null {
    const h = this.hang;
    if (h && h.resolvedAt !== null && Date.now() - h.resolvedAt >= this.crashSettleMs && Date.now() - this.sessionStartedAt >= this.crashSettleMs) this.hang = null;
    return this.hang?.message ?? null;
  }

  private updateStatus(): void {
    const r = this.changelog.info;
    if (!this.shuttingDown) this.status.setRestore(r.state === 'restoring' ? { records_read: r.records_read, records_total: r.records_total } : undefined);
    const count = this.crashes.count();
    const { state, message } = appStatus({
      app: this.appName,
      group: this.app ? this.names.group : null,
      changelogTopic: this.app ? this.names.changelog : '',
      shuttingDown: this.shuttingDown,
      halted: this.halted,
      hung: this.hungMessage(),
      recovering: this.recovering ? this.recoveringReason : null,
      preparing: this.prepared && !this.prepareDone ? { problem: this.prepareProblem, restore: r } : null,
      runtime: { connected: this.session !== null, startupError: this.startupError, sessionsStarted: this.sessionsStarted, upForMs: Date.now() - this.sessionStartedAt },
      crashes: { count, loop: count >= this.crashes.loopCount, windowMs: this.crashes.windowMs, lastReason: this.crashes.lastReason, settleMs: this.crashSettleMs },
      source: this.source ? { state: this.sourceState } : null,
      role: this.writer.role,
      standbyBehind: this.standbyBehind,
    });
    this.status.set(state, message);
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
    await this.commits.idle();
    this.dispatcher.abort();
    const source = this.source;
    this.source = null;
    const bounded = (p: Promise<unknown>, ms: number) => Promise.race([p, sleep(ms, undefined, { ref: false })]);
    if (source) await bounded(source.stop(), 2000);
    const producer = this.producer;
    this.producer = null;
    if (producer) await bounded(producer.disconnect().catch(() => {}), 1500);
    await bounded(this.changelog.stopFollowing(), 1500);
  }
}
