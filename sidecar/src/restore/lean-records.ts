/**
 * A lean record decoder for the changelog reader thread. kafkajs decodes every record's offset
 * and timestamp through 64-bit `Long` objects (a string parsed and printed per record) and folds
 * its headers with object spreads: about a third of the reader's time on a large changelog. The
 * restore needs keys, values and offsets only, so on the reader thread the record decoder is
 * replaced by this one: the same record fields, plain number arithmetic for offsets and
 * timestamps (exact below 2^53, BigInt above), and headers skipped (always `{}`).
 *
 * It must be installed before kafkajs is loaded (the record batch decoder takes the record decoder
 * when it is loaded), and only in a thread whose readers do not need headers. When kafkajs is not
 * laid out as expected (another major version), nothing is replaced and kafkajs' own decoder runs.
 */
import { existsSync } from 'node:fs';
import { createRequire, Module } from 'node:module';

/** kafkajs' `Decoder`, as far as used here. */
interface KafkaDecoder {
  buffer: Buffer;
  offset: number;
}

interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  magicByte: number;
  isControlBatch?: boolean;
  timestampType: number;
}

const LOG_APPEND_TIME = 1;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A zigzag varint of up to 64 bits as a number (exact while it fits in 2^53). */
function readVarNumber(d: KafkaDecoder): number {
  const b = d.buffer;
  let result = 0;
  let scale = 1;
  let byte: number;
  do {
    byte = b[d.offset++]!;
    result += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte >= 0x80);
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
}

/** Skips a length-prefixed byte string; returns its start (-1 for null). */
function skipBytes(d: KafkaDecoder): number {
  const length = readVarNumber(d);
  if (length < 0) return -1;
  const start = d.offset;
  d.offset += length;
  return start;
}

function plus(base: string, baseNumber: number, delta: number): string {
  const n = baseNumber + delta;
  return Number.isSafeInteger(baseNumber) && Math.abs(n) <= MAX_SAFE ? String(n) : (BigInt(base) + BigInt(delta)).toString();
}

/**
 * A record as kafkajs' decoder returns it, except that key and value stay where they are in the
 * fetched bytes until asked for (`key`/`value` make Buffers; `keyStart`... read them in place).
 */
export class LeanRecord {
  readonly headers = {};
  constructor(
    readonly magicByte: number,
    readonly attributes: number,
    private readonly timestampDelta: number,
    readonly offset: string,
    /** The bytes holding key and value. */
    readonly bytes: Buffer,
    /** -1 for a null key / value. */
    readonly keyStart: number,
    readonly keyEnd: number,
    readonly valueStart: number,
    readonly valueEnd: number,
    readonly isControlRecord: boolean,
    readonly batchContext: BatchContext,
  ) {}

  /** Epoch ms as a decimal string; made only when asked for (the restore does not). */
  get timestamp(): string {
    const c = this.batchContext;
    return c.timestampType === LOG_APPEND_TIME && c.maxTimestamp ? c.maxTimestamp : plus(c.firstTimestamp, Number(c.firstTimestamp), this.timestampDelta);
  }

  get key(): Buffer | null {
    return this.keyStart < 0 ? null : this.bytes.subarray(this.keyStart, this.keyEnd);
  }

  get value(): Buffer | null {
    return this.valueStart < 0 ? null : this.bytes.subarray(this.valueStart, this.valueEnd);
  }
}

let lastContext: BatchContext | null = null;
let firstOffset = 0;

/** Decodes one record (v2 format) like kafkajs' `record/v0/decoder.js`, headers skipped. */
export function decodeRecord(d: KafkaDecoder, context: BatchContext): LeanRecord {
  if (context !== lastContext) {
    lastContext = context;
    firstOffset = Number(context.firstOffset);
  }
  const attributes = d.buffer.readInt8(d.offset++);
  const timestampDelta = readVarNumber(d);
  const offset = plus(context.firstOffset, firstOffset, readVarNumber(d));
  const keyStart = skipBytes(d);
  const keyEnd = d.offset;
  const valueStart = skipBytes(d);
  const valueEnd = d.offset;
  const headers = readVarNumber(d);
  for (let i = 0; i < headers; i++) {
    skipBytes(d);
    skipBytes(d);
  }
  return new LeanRecord(context.magicByte, attributes, timestampDelta, offset, d.buffer, keyStart, keyEnd, valueStart, valueEnd, context.isControlBatch ?? false, context);
}

/** Replaces kafkajs' record decoder in this thread; false when kafkajs is not laid out as expected. */
export function installLeanRecordDecoder(): boolean {
  const require = createRequire(import.meta.url);
  let file: string;
  try {
    file = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder.js');
  } catch {
    return false;
  }
  if (!existsSync(file) || require.cache[file]) return false;
  const mod = new Module(file);
  mod.filename = file;
  mod.loaded = true;
  mod.exports = decodeRecord;
  require.cache[file] = mod;
  return true;
}
