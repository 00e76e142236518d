/** Dead-letter records (docs/protocol.md §4): a rejected record's key, value and headers, plus why and where. */
import { recordBytes, type ProduceMessage } from '../kafka/client.js';
import type { Rejected } from '../runtime/protocol.js';
import type { Batch } from './dispatcher.js';

/** Tracebacks are cut to their last 16 KiB: the end names the failing line. */
const TRACEBACK_MAX = 16_384;

/** Header saying what of a dead letter was cut so that its topic takes it (`value: 2000000 bytes cut to 1045000`). */
export const DROPPED_HEADER = 'aerogrid-dropped';

/** Room left in the topic's limit for the record batch's own bytes and the `aerogrid-dropped` header. */
const FIT_ROOM = 1024;

/**
 * The dead letter of a rejected record. With `maxBytes` (the dead-letter topic's max.message.bytes)
 * it is cut to fit (`fitDeadLetter`): a dead letter too large for its topic must never fail the
 * commit, or the batch would be re-run forever.
 */
export function deadLetterRecord(batch: Batch, r: Rejected, app: string, maxBytes?: number): ProduceMessage {
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
  headers['aerogrid-app'] = app;
  if (r.traceback) headers['aerogrid-traceback'] = r.traceback.slice(-TRACEBACK_MAX);
  const record = { key: original?.key ?? null, value: original?.value ?? null, headers };
  return maxBytes === undefined ? record : fitDeadLetter(record, maxBytes - FIT_ROOM);
}

/**
 * Cuts a dead letter to `budget` bytes: first the traceback (its end is kept), then the original
 * record's own headers, then the value (its start is kept), then the key, each only as far as
 * needed; `aerogrid-dropped` says what was cut. The reason and source headers always stay.
 */
export function fitDeadLetter(m: ProduceMessage, budget: number): ProduceMessage {
  let over = recordBytes(m) - budget;
  if (over <= 0) return m;
  const dropped: string[] = [];
  const cut = (what: string, v: string | Buffer | null | undefined, keepEnd: boolean): Buffer | null => {
    if (v == null) return null;
    const bytes = typeof v === 'string' ? Buffer.from(v) : v;
    if (over <= 0) return bytes;
    const keep = Math.max(0, bytes.length - over);
    over -= bytes.length - keep;
    dropped.push(`${what}: ${bytes.length} bytes cut to ${keep}`);
    return keepEnd ? bytes.subarray(bytes.length - keep) : bytes.subarray(0, keep);
  };
  const headers = { ...m.headers } as Record<string, string | Buffer>;
  if (headers['aerogrid-traceback'] !== undefined) headers['aerogrid-traceback'] = cut('header aerogrid-traceback', headers['aerogrid-traceback'], true)!;
  for (const k of Object.keys(headers)) {
    if (over <= 0) break;
    if (k.startsWith('aerogrid-')) continue;
    over -= 10 + Buffer.byteLength(k) + (typeof headers[k] === 'string' ? Buffer.byteLength(headers[k] as string) : (headers[k] as Buffer).length);
    delete headers[k];
    dropped.push(`header ${k}`);
  }
  const value = cut('value', m.value, false);
  const key = cut('key', m.key, false);
  headers[DROPPED_HEADER] = `${dropped.join('; ')} (the dead-letter topic's max.message.bytes)`;
  return { ...m, key, value, headers };
}
