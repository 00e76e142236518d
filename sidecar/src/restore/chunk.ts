/**
 * The changelog as it travels from the reader thread to the main thread: chunks of records packed
 * into a few flat buffers, so that handing one over is a transfer (no copy, no per-record objects)
 * and the main thread folds a chunk with one `JSON.parse` for all of its rows.
 *
 * A chunk of n records:
 * - `meta` (Int32Array, 3 per record): the record's kind plus its grid's index in `grids` (kind in the
 *   low 2 bits, `kind | index << 2`), the end of its key in `keys`, and for an upsert the end of its
 *   value in `values` (bytes).
 * - `keys`: the row keys of the records with a valid changelog key, one after the other.
 * - `values`: the upserts' rows as the UTF-8 text of one JSON array, `[row,row,...]`.
 * - `ends`: per grid of `grids`, the offset after its last record in the chunk (the grid's seq).
 *
 * The reader lets a value into the array only when it holds one JSON object and nothing else, judged
 * by its brackets and strings (`isSingleObject`). Then, if the whole array parses, its elements are
 * exactly the rows, each as `JSON.parse` of its own value would give it. If the array does not parse
 * (a value that only looked right), the chunk's rows are parsed one by one: a bad value stays a bad
 * record and never shifts or swallows its neighbours.
 */
import { parseChangelogKey } from '../pipeline/committer.js';
import type { Row } from '../grids.js';

/** A record whose key is not a changelog key (`["grid","key"]`). */
export const BAD_KEY = 0;
/** A tombstone: the row was deleted. */
export const TOMBSTONE = 1;
/** A row, in `values`. */
export const UPSERT = 2;
/** A valid key whose value is not one JSON object. */
export const BAD_VALUE = 3;

export interface Chunk {
  /** Records in the chunk. */
  count: number;
  /** Grid names referenced by the chunk, in order of first appearance. */
  grids: string[];
  meta: Int32Array<ArrayBuffer>;
  keys: string;
  values: Uint8Array<ArrayBuffer>;
  ends: number[];
}

/**
 * A record to pack: key and value as Buffers (kafkajs' messages), or in place in `bytes`
 * (`LeanRecord`, start -1 for null), which spares a Buffer object per key and value.
 */
export type RawRecord = ({ key: Buffer | null; value: Buffer | null } | { bytes: Buffer; keyStart: number; keyEnd: number; valueStart: number; valueEnd: number }) & { offset?: string };

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * False when `b[start, end)` certainly is not one JSON object (optionally surrounded by JSON
 * whitespace): it does not start with `{`, its brackets do not close exactly at its end, or a
 * string is left open.
 */
export function isSingleObject(b: Uint8Array, start = 0, end = b.length): boolean {
  let i = start;
  while (i < end && isJsonSpace(b[i]!)) i++;
  if (i === end || b[i] !== OPEN_BRACE) return false;
  let depth = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === QUOTE) {
      for (i++; i < end; i++) {
        const d = b[i]!;
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
      if (i >= end) return false;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) {
      i++;
      break;
    }
  }
  if (depth !== 0) return false;
  while (i < end && isJsonSpace(b[i]!)) i++;
  return i === end;
}

/** Where a record's key and value are: [bytes, start, end] each, start -1 for null. */
let keyBytes: Buffer | null = null;
let keyStart = 0;
let keyEnd = 0;
let valueBytes: Buffer | null = null;
let valueStart = 0;
let valueEnd = 0;

function locate(r: RawRecord): void {
  if ('bytes' in r) {
    keyBytes = valueBytes = r.bytes;
    keyStart = r.keyStart;
    keyEnd = r.keyEnd;
    valueStart = r.valueStart;
    valueEnd = r.valueEnd;
  } else {
    keyBytes = r.key;
    keyStart = r.key ? 0 : -1;
    keyEnd = r.key ? r.key.length : 0;
    valueBytes = r.value;
    valueStart = r.value ? 0 : -1;
    valueEnd = r.value ? r.value.length : 0;
  }
}

/**
 * `parseChangelogKey` of the UTF-8 text in `b[start, end)`, with its fast path taken on the bytes
 * (UTF-8 never encodes other characters with ASCII bytes, so the same checks hold), which spares
 * decoding the whole key first.
 */
function parseKeyBytes(b: Buffer, start: number, end: number): { grid: string; key: string } | null {
  if (end - start >= 4 && b[start] === OPEN_BRACKET && b[start + 1] === QUOTE && b[end - 2] === QUOTE && b[end - 1] === CLOSE_BRACKET) {
    const i = separator(b, start + 2, end);
    if (i > start + 2 && i + 3 <= end - 2 && plain(b, start + 2, i) && plain(b, i + 3, end - 2)) {
      return { grid: gridName(b, start + 2, i), key: b.toString('utf8', i + 3, end - 2) };
    }
  }
  return parseChangelogKey(b.toString('utf8', start, end));
}

/** The first `","` in `b[from, end)`, or -1. */
function separator(b: Buffer, from: number, end: number): number {
  for (let i = from; i + 2 < end; i++) if (b[i] === QUOTE && b[i + 1] === COMMA && b[i + 2] === QUOTE) return i;
  return -1;
}

/** The grid name in `b[start, end)`: consecutive records mostly share it, so the last one is kept. */
let lastGrid = '';
let lastGridBytes = Buffer.alloc(0);

function gridName(b: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n === lastGridBytes.length) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (b[start + i] !== lastGridBytes[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastGrid;
  }
  lastGridBytes = Buffer.from(b.subarray(start, end));
  lastGrid = b.toString('utf8', start, end);
  return lastGrid;
}

/** No quote and no backslash in `b[start, end)`. */
function plain(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] === QUOTE || b[i] === BACKSLASH) return false;
  return true;
}

/** Packs records into a chunk (on the reader thread); `meta` and `values` own their buffers, for a transfer. */
export function packChunk(records: readonly RawRecord[], from = 0, to = records.length): Chunk {
  const n = to - from;
  const meta = new Int32Array(n * 3);
  const grids: string[] = [];
  const gridIndex = new Map<string, number>();
  /** Per grid, its last record's index in `records`. */
  const lastOf: number[] = [];
  const keys: string[] = [];
  let keysLength = 0;
  let size = 2;
  for (let i = from; i < to; i++) {
    locate(records[i]!);
    if (valueStart >= 0) size += valueEnd - valueStart + 1;
  }
  const values = Buffer.allocUnsafeSlow(size);
  values[0] = OPEN_BRACKET;
  let pos = 1;
  let upserts = 0;
  for (let i = 0; i < n; i++) {
    locate(records[from + i]!);
    const k = keyStart >= 0 ? parseKeyBytes(keyBytes!, keyStart, keyEnd) : null;
    let kind = BAD_KEY;
    let grid = 0;
    if (k) {
      let g = gridIndex.get(k.grid);
      if (g === undefined) {
        g = grids.push(k.grid) - 1;
        gridIndex.set(k.grid, g);
      }
      grid = g;
      lastOf[g] = from + i;
      keys.push(k.key);
      keysLength += k.key.length;
      if (valueStart < 0) kind = TOMBSTONE;
      else if (isSingleObject(valueBytes!, valueStart, valueEnd)) {
        kind = UPSERT;
        if (upserts++ > 0) values[pos++] = COMMA;
        // Rows are small: a loop beats Buffer.copy's per-call cost.
        for (let j = valueStart; j < valueEnd; j++) values[pos++] = valueBytes![j]!;
      } else kind = BAD_VALUE;
    }
    meta[i * 3] = kind | (grid << 2);
    meta[i * 3 + 1] = keysLength;
    meta[i * 3 + 2] = pos;
  }
  values[pos++] = CLOSE_BRACKET;
  const ends = lastOf.map((r) => Number(records[r]!.offset ?? -1) + 1);
  return { count: n, grids, meta, keys: keys.join(''), values: new Uint8Array(values.buffer as ArrayBuffer, 0, pos), ends };
}

/**
 * Folds a chunk into `state` (grid → key → row): the last record per key wins, a tombstone removes
 * the row. Returns the number of records that are not grid rows.
 */
export function foldChunk(chunk: Chunk, state: Map<string, Map<string, Row>>, seqs?: Map<string, number>): number {
  const { count, meta, keys } = chunk;
  if (seqs) chunk.grids.forEach((name, g) => seqs.set(name, Math.max(seqs.get(name) ?? 0, chunk.ends[g] ?? 0)));
  const maps = chunk.grids.map((name) => {
    let grid = state.get(name);
    if (!grid) state.set(name, (grid = new Map()));
    return grid;
  });
  const rows = parseRows(chunk);
  let bad = 0;
  let keyStart = 0;
  let row = 0;
  for (let i = 0; i < count; i++) {
    const op = meta[i * 3]!;
    const kind = op & 3;
    if (kind === BAD_KEY) {
      bad += 1;
      continue;
    }
    const keyEnd = meta[i * 3 + 1]!;
    const key = keys.slice(keyStart, keyEnd);
    keyStart = keyEnd;
    const grid = maps[op >> 2]!;
    if (kind === UPSERT) {
      const value = rows[row++];
      if (value === undefined) bad += 1;
      else grid.set(key, value);
    } else if (kind === TOMBSTONE) grid.delete(key);
    else bad += 1;
  }
  return bad;
}

/** The chunk's upserted rows in order; `undefined` where a value is not valid JSON. */
function parseRows(chunk: Chunk): (Row | undefined)[] {
  const text = Buffer.from(chunk.values.buffer, chunk.values.byteOffset, chunk.values.byteLength);
  try {
    return JSON.parse(text.toString('utf8')) as Row[];
  } catch {
    // Some value only looked like an object: parse the values one by one.
  }
  const rows: (Row | undefined)[] = [];
  let start = 1;
  for (let i = 0; i < chunk.count; i++) {
    if ((chunk.meta[i * 3]! & 3) !== UPSERT) continue;
    const end = chunk.meta[i * 3 + 2]!;
    try {
      rows.push(JSON.parse(text.toString('utf8', start, end)) as Row);
    } catch {
      rows.push(undefined);
    }
    start = end + 1;
  }
  return rows;
}
