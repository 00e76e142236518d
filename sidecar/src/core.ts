/**
 * The sidecar's core: runtime sessions in, grid store and status out. It owns the pipeline
 *
 *   KafkaSource ─segments─► Dispatcher ─batches─► runtime session ─acks─► grid store
 *                                                                    └──► commit step (in order)
 *
 * and decides the app's status from the runtime session and the Kafka source.
 */
import { DeltaError, GridStore } from './grids.js';
import { errorMessage, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { StatusTracker } from './status.js';
import type { KafkaClient, TopicPartitionOffset } from './kafka/client.js';
import { Dispatcher, type Batch, type BatchSink } from './pipeline/dispatcher.js';
import { OffsetCommitter, type BatchCommitter } from './pipeline/committer.js';
import { KafkaSource, type SourceState } from './pipeline/source.js';
import { ProtocolError, RUNTIME_PROTOCOL, type Ack, type Hello, type LogMessageLevel, type Rejected } from './runtime/protocol.js';
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
  /** Replaces the commit step (default: commit consumer offsets). */
  committer?: (commitOffsets: (offsets: TopicPartitionOffset[]) => Promise<void>) => BatchCommitter;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export class SidecarCore implements RuntimeHandler {
  readonly store: GridStore = new GridStore();
  readonly status = new StatusTracker();
  readonly metrics = new Metrics();
  readonly dispatcher: Dispatcher;
  private readonly committer: BatchCommitter;
  private app: string | null;
  private session: RuntimeSession | null = null;
  private sink: BatchSink | null = null;
  private sessionStartedAt = 0;
  private sessionsStarted = 0;
  private source: KafkaSource | null = null;
  private sourceState: SourceState | null = null;
  private commitChain: Promise<void> = Promise.resolve();
  private crashes: number[] = [];
  private lastCrashReason = '';
  /** Why the last runtime could not start (an `error` before hello); cleared by the next hello. */
  private startupError: string | null = null;
  private settleTimer: NodeJS.Timeout | null = null;
  private shuttingDown = false;
  private readonly crashLoopCount: number;
  private readonly crashWindowMs: number;
  private readonly crashSettleMs: number;

  constructor(private readonly options: CoreOptions) {
    this.app = options.app ?? null;
    this.metrics.app = this.app ?? '';
    this.dispatcher = new Dispatcher({ maxInFlight: options.maxInFlight, batchSize: options.batchSize });
    const commitOffsets = (offsets: TopicPartitionOffset[]) => this.source?.commit(offsets) ?? Promise.resolve();
    this.committer = options.committer ? options.committer(commitOffsets) : new OffsetCommitter(commitOffsets);
    this.crashLoopCount = options.crashLoopCount ?? 3;
    this.crashWindowMs = options.crashWindowMs ?? 60_000;
    this.crashSettleMs = options.crashSettleMs ?? 30_000;
    this.updateStatus();
  }

  get appName(): string {
    return this.app ?? '';
  }

  get groupId(): string | null {
    return this.app ? `aerogrid.${this.options.tenant}.${this.app}` : null;
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
    if (this.app === null) {
      this.app = hello.app;
      logger.name = hello.app;
      this.metrics.app = hello.app;
    }
    for (const g of hello.grids) {
      const change = this.store.declare(g.name, g.columns);
      if (change === 'columns-changed') {
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
      await this.commitChain;
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
    if (!this.source && streamed.length > 0) {
      const source: KafkaSource = new KafkaSource({
        kafka: this.options.kafka,
        groupId: this.groupId!,
        topics: streamed,
        dispatcher: this.dispatcher,
        logger,
        batchSize: this.options.batchSize,
        pollMs: this.options.topicPollMs,
        maxConcurrency: this.options.maxConcurrency,
        onState: (state) => {
          if (this.source !== source) return;
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
    const batch = this.dispatcher.expect(ack.id);
    if (typeof batch === 'string') throw new ProtocolError(batch);
    try {
      this.store.validate(ack.deltas);
    } catch (err) {
      if (err instanceof DeltaError) throw new ProtocolError(`ack ${ack.id}: ${err.message}`);
      throw err;
    }
    this.store.apply(ack.deltas);
    const rejected = [...batch.segments.flatMap((s) => s.rejected), ...ack.rejected];
    for (const r of rejected) this.reportRejected(r);
    this.metrics.observeBatch((performance.now() - batch.sentAt) / 1000, ack.processed);
    const offsets = this.offsetsOf(batch);
    const deltas = ack.deltas;
    this.dispatcher.acked(batch);
    this.commitChain = this.commitChain
      .then(() => this.committer.commit({ seq: batch.seq, deltas, rejected, offsets }))
      .catch((err: unknown) => {
        this.options.logger.warn(`committing batch ${batch.seq} failed (a later commit covers it): ${errorMessage(err)}`);
      })
      .finally(() => this.dispatcher.markAcked(batch));
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
    this.updateStatus();
    if (this.settleTimer) clearTimeout(this.settleTimer);
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
    await this.commitChain;
    this.dispatcher.abort();
    const source = this.source;
    this.source = null;
    if (source) {
      await Promise.race([source.stop(), new Promise((r) => setTimeout(r, 2000).unref())]);
    }
  }
}
