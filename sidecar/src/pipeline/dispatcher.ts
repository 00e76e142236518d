/**
 * The dispatcher: turns consumed records into runtime batches and keeps them until acked.
 *
 * - Segments (up to `batchSize` records of one partition, in offset order) are queued by the
 *   consumer; whole segments are packed into batches of at most `batchSize` records.
 * - At most `maxInFlight` batches are unacked at a time. Acks come back in batch order.
 * - When the runtime goes away, unacked batches stay here and are re-sent, in their original
 *   order and composition, to the next session right after its welcome.
 * - A batch that cannot be committed as acked (a row too large) or that hangs is cut into
 *   one-record batches (`isolate`), re-sent in its place, so that only the record that fails is
 *   dead-lettered and the others are processed as usual.
 * - Per partition it remembers the highest offset ever queued, so records that Kafka delivers
 *   again (after a rebalance or a consumer restart) are not queued twice; and the highest offset
 *   acked, so the consumer can wait until a delivery is fully acked before resolving it.
 */
import type { ConsumedMessage } from '../kafka/client.js';
import type { Rejected, WireRecord } from '../runtime/protocol.js';
import { partitionKey } from '../kafka/partitions.js';

export interface Segment {
  topic: string;
  partition: number;
  /** Offset of the segment's last Kafka message (records may be fewer if some were rejected locally). */
  lastOffset: string;
  /** Records for the runtime. */
  records: WireRecord[];
  /** Records rejected by the sidecar itself (e.g. not UTF-8); reported with the batch's ack. */
  rejected: Rejected[];
  /** The Kafka messages as received (original bytes and headers), for dead letters. */
  messages?: ConsumedMessage[];
  /** About how many bytes its records take in a batch message (absent: not counted). */
  bytes?: number;
}

/**
 * Batches are packed up to this many bytes of records (a segment that is larger goes alone): a
 * batch message, and the ack it brings back, stay far under the runtime's 64 MiB line limit.
 */
export const BATCH_BYTES = 16 * 1024 * 1024;

export interface Batch {
  /** Monotonic number of the batch in this dispatcher (not the wire id, which restarts per session). */
  seq: number;
  segments: Segment[];
  records: WireRecord[];
  /** The wire id in the session it was last sent to (0 = not sent in the current session). */
  wireId: number;
  /** When it was last sent (ms, performance.now()). */
  sentAt: number;
  /**
   * Since when the runtime has surely been working on it (ms): when it was sent, or when the batch
   * before it was acked if that was later. The batch deadline counts from here.
   */
  dueFrom: number;
  /**
   * Set on the one-record batches a batch was cut into (`isolate`): a failure of such a batch is
   * its record's, and is dead-lettered instead of re-run.
   */
  isolated?: boolean;
  /** How many times it was sent (more than once = re-sent after a runtime disconnect). */
  sends: number;
  /** The dispatcher generation it belongs to (bumped by abort). */
  generation: number;
}

/** Where batches go: the live runtime session. */
export interface BatchSink {
  sendBatch(id: number, records: WireRecord[]): void;
}

export class AbortedError extends Error {
  override name = 'AbortedError';
  constructor() {
    super('the pipeline was stopped');
  }
}

interface Waiter {
  offset: bigint;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface PartitionProgress {
  /** Highest offset queued (-1n: none). */
  queued: bigint;
  /** Highest offset acked (-1n: none). */
  acked: bigint;
  waiters: Waiter[];
}

export interface DispatcherOptions {
  maxInFlight: number;
  batchSize: number;
}

export class Dispatcher {
  private pending: Segment[] = [];
  private inflight: Batch[] = [];
  private sink: BatchSink | null = null;
  private nextWireId = 1;
  private nextSeq = 1;
  private sending = true;
  private generation = 0;
  private readonly progress = new Map<string, PartitionProgress>();

  constructor(private readonly options: DispatcherOptions) {}

  get maxInFlight(): number {
    return this.options.maxInFlight;
  }

  get batchSize(): number {
    return this.options.batchSize;
  }

  /** Batches sent and not acked (including those waiting to be re-sent). */
  get inflightCount(): number {
    return this.inflight.length;
  }

  get pendingRecords(): number {
    return this.pending.reduce((n, s) => n + s.records.length, 0);
  }

  /** Records queued or in flight (not yet acked). */
  get waitingRecords(): number {
    return this.pendingRecords + this.inflight.reduce((n, b) => n + b.records.length, 0);
  }

  /** Whether one-record batches of an isolated batch are still unacked. */
  get isolating(): boolean {
    return this.inflight.some((b) => b.isolated);
  }

  /** The oldest unacked batch that was sent in the current session, if any. */
  get oldestSent(): Batch | undefined {
    const head = this.inflight[0];
    return head && head.wireId !== 0 ? head : undefined;
  }

  /** Whether sending is on (off after stopSending). */
  get isSending(): boolean {
    return this.sending;
  }

  /** Turns sending back on (after a recovery). */
  resumeSending(): void {
    this.sending = true;
    this.pump();
  }

  private tp(topic: string, partition: number): PartitionProgress {
    const k = partitionKey(topic, partition);
    let p = this.progress.get(k);
    if (!p) this.progress.set(k, (p = { queued: -1n, acked: -1n, waiters: [] }));
    return p;
  }

  /**
   * Queues a segment. Records at or below the highest offset already queued for the partition
   * are dropped (Kafka delivered them again); returns the number of records queued.
   */
  submit(segment: Segment): number {
    const p = this.tp(segment.topic, segment.partition);
    const last = BigInt(segment.lastOffset);
    if (last <= p.queued) return 0;
    const floor = p.queued;
    const fresh: Segment = {
      ...segment,
      records: segment.records.filter((r) => BigInt(r.offset) > floor),
      rejected: segment.rejected.filter((r) => BigInt(r.offset) > floor),
    };
    p.queued = last;
    this.pending.push(fresh);
    this.pump();
    return fresh.records.length;
  }

  /**
   * Records of the partition before `next` are done already (committed by this app): Kafka may
   * still deliver them (its start offset was read before the takeover fenced the last writer),
   * and they are dropped as if queued and acked.
   */
  startAt(topic: string, partition: number, next: bigint): void {
    const p = this.tp(topic, partition);
    if (next - 1n > p.queued) p.queued = next - 1n;
    if (next - 1n > p.acked) p.acked = next - 1n;
  }

  /** Resolves once every offset up to `offset` of the partition is acked (rejects on abort). */
  waitAcked(topic: string, partition: number, offset: string): Promise<void> {
    const p = this.tp(topic, partition);
    const target = BigInt(offset);
    if (p.acked >= target) return Promise.resolve();
    return new Promise((resolve, reject) => p.waiters.push({ offset: target, resolve, reject }));
  }

  /** Marks the offsets of an acked batch as done (the runtime acked it), waking waiting consumers. */
  markAcked(batch: Batch): void {
    if (batch.generation !== this.generation) return;
    for (const s of batch.segments) {
      const p = this.tp(s.topic, s.partition);
      const last = BigInt(s.lastOffset);
      if (last > p.acked) p.acked = last;
      const still: Waiter[] = [];
      for (const w of p.waiters) {
        if (w.offset <= p.acked) w.resolve();
        else still.push(w);
      }
      p.waiters = still;
    }
  }

  /** A runtime session is ready (welcome sent): re-send unacked batches, then continue. */
  attach(sink: BatchSink): void {
    this.sink = sink;
    this.nextWireId = 1;
    for (const b of this.inflight) b.wireId = 0;
    this.pump();
  }

  /** The runtime session ended: unacked batches wait for the next one. */
  detach(sink: BatchSink): void {
    if (this.sink !== sink) return;
    this.sink = null;
    for (const b of this.inflight) b.wireId = 0;
  }

  get attached(): boolean {
    return this.sink !== null;
  }

  /** Stops sending batches (shutdown); acks are still taken. */
  stopSending(): void {
    this.sending = false;
  }

  /**
   * The batch an ack with this wire id must be for (the oldest unacked), or an error message.
   * Does not remove it: call `acked` once the ack was applied.
   */
  expect(wireId: number): Batch | string {
    const head = this.inflight[0];
    if (!head || head.wireId === 0) return `ack ${wireId}: no batch is waiting for an ack`;
    if (head.wireId !== wireId) return `ack ${wireId} out of order: expected the ack of batch ${head.wireId}`;
    return head;
  }

  /** Removes the oldest batch (its ack was applied) and sends more. */
  acked(batch: Batch): void {
    if (this.inflight[0] !== batch) throw new Error('acked batch is not the oldest in flight');
    this.inflight.shift();
    const head = this.inflight[0];
    if (head && head.wireId !== 0) head.dueFrom = performance.now();
    this.pump();
  }

  /** Whether a batch is a single record's: its failure is that record's (nothing left to cut). */
  static single(batch: Batch): boolean {
    return batch.isolated === true || batch.records.length <= 1;
  }

  /**
   * Cuts the oldest unacked batch into one batch per runtime record, in offset order, in its
   * place (to be sent to the next session). Records the sidecar rejected itself ride with the
   * piece they precede (the last piece takes those after the last record); each piece's offsets
   * end at its record, the last one's where the segment ended, so commits stay in order.
   */
  isolate(batch: Batch): number {
    if (this.inflight[0] !== batch) throw new Error('isolated batch is not the oldest in flight');
    const pieces: Batch[] = [];
    for (const s of batch.segments) {
      s.records.forEach((record, i) => {
        const last = i === s.records.length - 1;
        const floor = i === 0 ? -1n : BigInt(s.records[i - 1]!.offset);
        const upTo = last ? BigInt(s.lastOffset) : BigInt(record.offset);
        const rejected = s.rejected.filter((r) => BigInt(r.offset) > floor && BigInt(r.offset) <= upTo);
        const segment: Segment = { topic: s.topic, partition: s.partition, lastOffset: last ? s.lastOffset : record.offset, records: [record], rejected, messages: s.messages };
        pieces.push({ seq: batch.seq, segments: [segment], records: [record], wireId: 0, sentAt: 0, dueFrom: 0, sends: 0, generation: batch.generation, isolated: true });
      });
      // A segment the sidecar rejected whole rides with the last piece (or the first, if none yet).
      if (s.records.length === 0) {
        const host = pieces[pieces.length - 1];
        if (host) host.segments.push(s);
      }
    }
    if (pieces.length === 0) return 0;
    // Segments without records before the first record's segment ride with the first piece.
    const firstHost = batch.segments.findIndex((s) => s.records.length > 0);
    for (const s of batch.segments.slice(0, firstHost)) pieces[0]!.segments.unshift(s);
    this.inflight.splice(0, 1, ...pieces);
    for (const b of this.inflight) b.wireId = 0;
    return pieces.length;
  }

  /** Drops everything queued and in flight and fails all waiters (pipeline restart or shutdown). */
  abort(): void {
    this.pending = [];
    this.inflight = [];
    for (const p of this.progress.values()) for (const w of p.waiters) w.reject(new AbortedError());
    this.progress.clear();
    this.generation += 1;
  }

  private pump(): void {
    const sink = this.sink;
    if (!sink || !this.sending) return;
    // Re-send batches not yet sent in this session, in order.
    for (const b of this.inflight) {
      if (b.wireId === 0) this.send(sink, b);
    }
    for (;;) {
      // A segment without records for the runtime (all rejected by the sidecar) rides along with
      // the last unacked batch: its offsets are committed with that batch's, in order.
      const last = this.inflight[this.inflight.length - 1];
      if (!last || this.pending[0]?.records.length !== 0) break;
      last.segments.push(this.pending.shift()!);
    }
    while (this.inflight.length < this.options.maxInFlight && this.pending.length > 0) {
      const segments: Segment[] = [this.pending.shift()!];
      let size = segments[0]!.records.length;
      let bytes = segments[0]!.bytes ?? 0;
      while (this.pending.length > 0 && size + this.pending[0]!.records.length <= this.options.batchSize && bytes + (this.pending[0]!.bytes ?? 0) <= BATCH_BYTES) {
        const next = this.pending.shift()!;
        size += next.records.length;
        bytes += next.bytes ?? 0;
        segments.push(next);
      }
      const batch: Batch = {
        seq: this.nextSeq++,
        segments,
        records: segments.flatMap((s) => s.records),
        wireId: 0,
        sentAt: 0,
        dueFrom: 0,
        sends: 0,
        generation: this.generation,
      };
      this.inflight.push(batch);
      this.send(sink, batch);
    }
  }

  private send(sink: BatchSink, batch: Batch): void {
    batch.wireId = this.nextWireId++;
    batch.sentAt = performance.now();
    // Behind another batch, it starts when that one is acked (`acked` sets it then).
    batch.dueFrom = this.inflight[0] === batch ? batch.sentAt : Number.POSITIVE_INFINITY;
    batch.sends += 1;
    sink.sendBatch(batch.wireId, batch.records);
  }
}
