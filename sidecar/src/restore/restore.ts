/**
 * Restore: reads an app's changelog from its beginning to its end (committed records only) and
 * makes the grid store equal to it. The fetching and decoding run on a reader thread
 * (`reader-worker.ts`) while the main thread folds the chunks it hands over, so a large changelog
 * takes about as long as the slower of the two instead of their sum.
 *
 * All or nothing: the grid store changes only once the whole changelog was read. When the reader
 * fails (Kafka away, the thread died), the restore rejects with an error saying so and the caller
 * retries; no partial grid is ever served.
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { GridStore, Row } from '../grids.js';
import type { KafkaClient, PartitionOffsets } from '../kafka/client.js';
import type { Logger } from '../log.js';
import { foldChunk, type Chunk } from './chunk.js';
import type { ReaderData } from './reader-worker.js';

export interface ReadChangelogOptions {
  kafka: KafkaClient;
  topic: string;
  /** Prefix of the reader's throwaway consumer group. */
  groupPrefix: string;
  /** Receives the reader's Kafka warnings and errors. */
  logger: Pick<Logger, 'warn' | 'error'>;
  /** Records folded so far and the changelog's size (upper bound); at least once per chunk. */
  onProgress?(read: number, total: number): void;
  /** Fails when the reader made no progress for this long (default 30 s). */
  stallMs?: number;
  /** Records per chunk handed over by the reader (default 16384). */
  chunkRecords?: number;
  /** Sees the reader thread once started (tests stop it to check the failure path). */
  onReader?(reader: Worker): void;
  /** Aborting it (the sidecar is stopping) ends the reader thread and rejects. */
  signal?: AbortSignal;
}

export interface ChangelogContent {
  /** grid → key → row, the changelog folded. */
  grids: Map<string, Map<string, Row>>;
  /** grid → the offset after its last record: its seq (docs/protocol.md §2). */
  seqs: Map<string, number>;
  /** Records read. */
  records: number;
  /** Records that are not grid rows (ignored). */
  bad: number;
  /** Per partition, the offset the read went to (exclusive): where following the changelog goes on. */
  ends: PartitionOffsets[];
}

/**
 * The reader's file, from the build: when this module runs from TypeScript sources (tests), the
 * sibling `.js` does not exist, so the one tsc built into `dist` is used. From the build, the path
 * goes through `../restore/` so that it holds both here (dist/restore/) and in the bundle
 * (dist/bundle/main.js), which leaves the reader unbundled.
 */
function readerFile(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(fromSource ? '../../dist/restore/reader-worker.js' : '../restore/reader-worker.js', import.meta.url);
  const file = fileURLToPath(url);
  if (!existsSync(file)) throw new Error(`the changelog reader '${file}' is missing: build the sidecar (npx tsc -b)`);
  // From sources, the reader packs chunks with the built code and this thread folds them with the
  // source: a stale build would disagree on the chunk layout.
  if (fromSource) {
    const sources = ['reader-worker.ts', 'chunk.ts', 'lean-records.ts'].map((f) => statSync(new URL(f, import.meta.url)).mtimeMs);
    if (statSync(file).mtimeMs < Math.max(...sources)) throw new Error(`the changelog reader '${file}' is older than its sources: build the sidecar (npx tsc -b)`);
  }
  return file;
}

/** Reads and folds the whole changelog on a reader thread; rejects (never resolves half) on any failure. */
export async function readChangelog(options: ReadChangelogOptions): Promise<ChangelogContent> {
  const { kafka, topic, logger } = options;
  // An empty changelog (a new app's) needs no reader thread: one that loads kafkajs leaves about
  // 1.4 MiB more RSS behind when it ends (glibc keeps what it freed). The range is what the reader
  // would have read to.
  const range = await kafka.topicOffsets(topic);
  if (!options.signal?.aborted && range.every((p) => BigInt(p.high) <= BigInt(p.low))) {
    return { grids: new Map(), seqs: new Map(), records: 0, bad: 0, ends: range };
  }
  const data: ReaderData = {
    brokers: kafka.brokers,
    clientId: kafka.clientId,
    connectionTimeout: kafka.connectionTimeout,
    security: kafka.security,
    topic,
    groupPrefix: options.groupPrefix,
    stallMs: options.stallMs,
    chunkRecords: options.chunkRecords,
  };
  return new Promise((resolve, reject) => {
    const grids = new Map<string, Map<string, Row>>();
    const seqs = new Map<string, number>();
    let records = 0;
    let bad = 0;
    let total = 0;
    let ends: PartitionOffsets[] = [];
    let settled = false;
    const cancel = () => settle(new Error(`the restore from '${topic}' was cancelled: the sidecar is stopping`));
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', cancel);
      if (err) {
        void reader.terminate();
        reject(err);
      } else resolve({ grids, seqs, records, bad, ends });
    };
    const reader = new Worker(readerFile(), { workerData: data });
    options.onReader?.(reader);
    if (options.signal?.aborted) cancel();
    else options.signal?.addEventListener('abort', cancel, { once: true });
    reader.on('message', (m: { type: string; chunk?: Chunk; total?: number; read?: number; message?: string; level?: string }) => {
      if (settled) return;
      switch (m.type) {
        case 'range':
          ends = (m as unknown as { ends: PartitionOffsets[] }).ends;
          break;
        case 'progress':
          total = m.total!;
          options.onProgress?.(records, total);
          break;
        case 'chunk':
          bad += foldChunk(m.chunk!, grids, seqs);
          records += m.chunk!.count;
          total = Math.max(total, m.total!);
          options.onProgress?.(records, total);
          reader.postMessage('ack');
          break;
        case 'log':
          if (m.level === 'error') logger.error(m.message!);
          else logger.warn(m.message!);
          break;
        case 'done':
          // The reader closes its connections by itself; nothing waits for it.
          reader.unref();
          settle(null);
          break;
        case 'error':
          settle(new Error(m.message));
          break;
      }
    });
    reader.on('error', (err) => settle(new Error(`the changelog reader failed: ${err.message}`)));
    reader.on('exit', (code) => settle(new Error(`the changelog reader stopped before the end of '${topic}' (exit code ${code})`)));
  });
}

export interface RestoreResult {
  records: number;
  rows: number;
  grids: number;
  bad: number;
  /** Seconds spent reading (and folding) the changelog, and applying it to the store. */
  readSeconds: number;
  applySeconds: number;
  /** Where the restore ended, per changelog partition (exclusive). */
  ends: PartitionOffsets[];
}

/**
 * Reads the changelog and makes `store` equal to it (see `GridStore.replaceAll`), then logs what
 * was restored and warns about records that are not grid rows.
 */
export async function restoreGrids(store: GridStore, options: ReadChangelogOptions & { logger: Logger }): Promise<RestoreResult> {
  const { logger, topic } = options;
  const started = performance.now();
  const content = await readChangelog(options);
  const readDone = performance.now();
  const rows = store.replaceAll(content.grids, content.seqs);
  const finished = performance.now();
  const { records, bad } = content;
  const grids = content.grids.size;
  if (bad > 0) logger.warn(`the changelog '${topic}' holds ${bad} record${bad === 1 ? '' : 's'} that are not grid rows; ignored`);
  logger.info(
    `restored ${rows} row${rows === 1 ? '' : 's'} in ${grids} grid${grids === 1 ? '' : 's'} from '${topic}' ` +
      `(${records} record${records === 1 ? '' : 's'} in ${((finished - started) / 1000).toFixed(2)} s: reading ${((readDone - started) / 1000).toFixed(2)} s, applying ${((finished - readDone) / 1000).toFixed(2)} s)`,
  );
  return { records, rows, grids, bad, readSeconds: (readDone - started) / 1000, applySeconds: (finished - readDone) / 1000, ends: content.ends };
}
