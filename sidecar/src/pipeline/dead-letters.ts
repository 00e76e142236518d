/** Dead-letter records (docs/protocol.md §4): a rejected record's key, value and headers, plus why and where. */
import type { ProduceMessage } from '../kafka/client.js';
import type { Rejected } from '../runtime/protocol.js';
import type { Batch } from './dispatcher.js';

/** Tracebacks are cut to their last 16 KiB: the end names the failing line. */
const TRACEBACK_MAX = 16_384;

export function deadLetterRecord(batch: Batch, r: Rejected, app: string): ProduceMessage {
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
  return { key: original?.key ?? null, value: original?.value ?? null, headers };
}
