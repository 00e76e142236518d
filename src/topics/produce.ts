// `aerogrid produce`: JSON lines into a topic. Every line is read and checked before the first
// record is sent, so bad input sends nothing; a record's value is its line as written (so numbers
// keep every digit), its key the --key-field of the line's object.
import { readFile } from 'node:fs/promises';
import { recordBytes, type KafkaClient, type ProduceMessage } from '@aerogrid/sidecar/kafka';
import { CliError, ExitCode } from '../errors.js';
import { checkTopicName, type Connection } from './client.js';
import { plural, requireTopic } from './topics.js';

export interface ProduceInput {
  /** The file, or '-' / undefined for standard input. */
  file?: string;
  keyField?: string;
}

export interface ProduceSummary {
  topic: string;
  broker: string;
  /** Records sent. */
  records: number;
  /** Blank lines skipped. */
  blankLines: number;
  keyField: string | null;
  /** Where the records came from: a file path, or '-' for standard input. */
  source: string;
}

export interface ParsedRecords {
  messages: ProduceMessage[];
  /** Per message, the number of its line (from 1). */
  lineNumbers: number[];
  blankLines: number;
  source: string;
  keyField?: string;
}

/** A line that cannot become a record: its number (from 1) and why. */
interface LineProblem { line: number; reason: string }

/** At most this many bad lines are named in the error (the count says how many there were). */
const SHOWN_PROBLEMS = 5;

/** Reads the whole input: the file, or standard input. */
export async function readInput(file: string | undefined): Promise<{ text: string; source: string }> {
  if (file === undefined || file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return { text: Buffer.concat(chunks).toString('utf8'), source: '-' };
  }
  try {
    return { text: await readFile(file, 'utf8'), source: file };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`The file ${file} does not exist; nothing was sent.`, { exitCode: ExitCode.notFound, hint: 'Give a JSON-lines file (one JSON value per line), or `-` to read standard input.' });
    if (code === 'EISDIR') throw new CliError(`${file} is a folder, not a file; nothing was sent.`, { exitCode: ExitCode.usage, hint: 'Give a JSON-lines file (one JSON value per line), or `-` to read standard input.' });
    throw new CliError(`Cannot read ${file} (${(error as Error).message}); nothing was sent.`, { exitCode: ExitCode.environment, hint: 'Check that the file exists and that you may read it.' });
  }
}

/**
 * The records of JSON-lines text, or a CliError listing every line that cannot be one (not JSON;
 * with a key field: not an object, no such field, a key that is not a string or number).
 */
export function parseRecords(text: string, options: { keyField?: string; source: string }): ParsedRecords {
  const messages: ProduceMessage[] = [];
  const lineNumbers: number[] = [];
  const problems: LineProblem[] = [];
  let blankLines = 0;
  const lines = text.split('\n');
  // A final newline ends the last line; it does not start a blank one.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').trim();
    const number = i + 1;
    if (line === '') {
      blankLines += 1;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      problems.push({ line: number, reason: `is not JSON (${(error as Error).message})` });
      return;
    }
    let key: string | null = null;
    if (options.keyField !== undefined) {
      const field = options.keyField;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        problems.push({ line: number, reason: `is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not a JSON object, so it has no key field '${field}'` });
        return;
      }
      if (!Object.prototype.hasOwnProperty.call(value, field)) {
        problems.push({ line: number, reason: `has no key field '${field}'` });
        return;
      }
      const k = (value as Record<string, unknown>)[field];
      if (typeof k === 'string') key = k;
      else if (typeof k === 'number' || typeof k === 'boolean') key = String(k);
      else {
        problems.push({ line: number, reason: `has a key field '${field}' that is ${k === null ? 'null' : Array.isArray(k) ? 'an array' : 'an object'}; a key must be a string or a number` });
        return;
      }
    }
    messages.push({ key, value: line });
    lineNumbers.push(number);
  });
  if (problems.length > 0) throw inputError(problems, options);
  return { messages, lineNumbers, blankLines, source: options.source, ...(options.keyField === undefined ? {} : { keyField: options.keyField }) };
}

function inputError(problems: LineProblem[], options: { keyField?: string; source: string }): CliError {
  const where = options.source === '-' ? 'standard input' : options.source;
  const shown = problems.slice(0, SHOWN_PROBLEMS).map((p) => `line ${p.line} ${p.reason}`);
  const more = problems.length > SHOWN_PROBLEMS ? `; and ${problems.length - SHOWN_PROBLEMS} more` : '';
  const message = problems.length === 1
    ? `In ${where}, ${shown[0]}; nothing was sent.`
    : `In ${where}, ${problems.length} lines cannot be sent: ${shown.join('; ')}${more}. Nothing was sent.`;
  const lines = problems.map((p) => p.line);
  const fixLines = lines.length === 1 ? `line ${lines[0]}` : `lines ${lines.slice(0, SHOWN_PROBLEMS).join(', ')}${more ? ', ...' : ''}`;
  const keyProblem = problems.some((p) => !p.reason.startsWith('is not JSON'));
  const hint = keyProblem && options.keyField !== undefined
    ? `Make every line an object whose field '${options.keyField}' holds a string or a number, e.g. {"${options.keyField}": "o-1", "quantity": 3}, or leave out --key-field to send records without keys; then fix ${fixLines} and run again.`
    : `Each line must hold one JSON value, e.g. {"order_id": "o-1", "product": "tea", "quantity": 3} (blank lines are skipped); fix or remove ${fixLines} and run again.`;
  return new CliError(message, { exitCode: ExitCode.invalid, hint });
}

/** Bytes of a record batch besides its records (the v2 batch header, with room for varints). */
const BATCH_HEADER = 128;

/** Records per produce request when not paced (and the most a paced burst sends at once). */
const BATCH = 500;
/** Bytes of record values and keys per request, well under a broker's default 1 MiB batch limit. */
const BATCH_BYTES = 512 * 1024;

export interface SendOptions {
  /** Records per second; unset: as fast as the broker takes them. */
  rate?: number;
  /** The most bytes of keys and values in one request (default BATCH_BYTES). */
  batchBytes?: number;
  /** Set to stop between requests (Ctrl-C); what was sent so far stays sent. */
  signal?: AbortSignal;
  onSent?(sent: number): void;
}

/** Sends the records in order, in batches, paced when `rate` is set; resolves with how many were sent. */
export async function sendRecords(kafka: KafkaClient, topic: string, records: Pick<ParsedRecords, 'messages' | 'lineNumbers' | 'source'>, options: SendOptions = {}): Promise<number> {
  const { messages, lineNumbers, source } = records;
  let sent = 0;
  const started = Date.now();
  while (sent < messages.length && !options.signal?.aborted) {
    let count: number;
    if (options.rate) {
      // Record i is due at started + i / rate: send every one that is due, then wait for the next.
      const due = Math.min(messages.length, Math.floor(((Date.now() - started) * options.rate) / 1000) + 1);
      if (due <= sent) {
        const wait = started + (sent * 1000) / options.rate - Date.now();
        await sleep(Math.max(1, Math.min(wait, 1000)), options.signal);
        continue;
      }
      count = Math.min(due - sent, BATCH);
    } else {
      count = Math.min(messages.length - sent, BATCH);
    }
    const batch = bySize(messages, sent, count, options.batchBytes ?? BATCH_BYTES);
    try {
      await kafka.produce(topic, batch);
    } catch (error) {
      const e = error as Error;
      throw new CliError(`Sending to '${topic}' failed after ${plural(sent, 'record')} of ${messages.length} were sent: ${e.message}.`, {
        hint: sent > 0
          ? `The records up to line ${lineNumbers[sent - 1]} are in the topic; to send the rest, run again with the lines after it (e.g. \`tail -n +${lineNumbers[sent - 1]! + 1} ${source === '-' ? 'FILE' : source} | aerogrid produce ${topic} -\`).`
          : 'Check that Kafka runs (`aerogrid kafka status`) and run again.',
      });
    }
    sent += batch.length;
    options.onSent?.(sent);
  }
  return sent;
}

/** Up to `count` messages from `from`, fewer when they would pass BATCH_BYTES (always at least one). */
function bySize(messages: ProduceMessage[], from: number, count: number, budget: number): ProduceMessage[] {
  let bytes = 0;
  let end = from;
  while (end < from + count) {
    const m = messages[end]!;
    const size = recordBytes(m);
    if (end > from && bytes + size > budget) break;
    bytes += size;
    end += 1;
  }
  return messages.slice(from, end);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The whole command: read and check every line, check the topic, then send. Nothing is sent
 * unless every line can be a record and the topic exists.
 */
export async function produceLines(c: Connection, kafka: KafkaClient, topic: string, parsed: ParsedRecords, options: SendOptions = {}): Promise<ProduceSummary> {
  checkTopicName(topic);
  await requireTopic(c, kafka, topic, '; nothing was sent');
  // A record the topic would refuse is found now, not after the records before it went.
  const max = await kafka.maxMessageBytes(topic);
  const tooBig = parsed.messages.flatMap((m, i) => (recordBytes(m) + BATCH_HEADER > max ? [parsed.lineNumbers[i]!] : []));
  if (tooBig.length > 0) {
    const lines = `${tooBig.length === 1 ? 'line' : 'lines'} ${tooBig.slice(0, SHOWN_PROBLEMS).join(', ')}${tooBig.length > SHOWN_PROBLEMS ? ', ...' : ''}`;
    throw new CliError(`In ${parsed.source === '-' ? 'standard input' : parsed.source}, ${lines} ${tooBig.length === 1 ? 'is' : 'are'} larger than topic '${topic}' accepts (max.message.bytes ${max}); nothing was sent.`, {
      exitCode: ExitCode.invalid,
      hint: `Make ${tooBig.length === 1 ? 'that record' : 'those records'} smaller, or raise the topic's max.message.bytes.`,
    });
  }
  const records = await sendRecords(kafka, topic, parsed, { batchBytes: Math.min(BATCH_BYTES, max - BATCH_HEADER), ...options });
  return { topic, broker: c.broker, records, blankLines: parsed.blankLines, keyField: parsed.keyField ?? null, source: parsed.source };
}
