/**
 * The runtime socket protocol (`aerogrid.runtime.v1`, docs/protocol.md §1): message shapes and
 * the validation of what the runtime sends.
 */
import { dnsLabelProblem, gridNameProblem, topicNameProblem } from '../names.js';

/** A protocol violation by the peer: answered with an `error` message, then the socket closes. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    message: string,
    readonly code = 'protocol',
  ) {
    super(message);
  }
}

export {
  REJECT_KINDS,
  RUNTIME_PROTOCOL,
  type Ack,
  type Hello,
  type HelloGrid,
  type HelloTopic,
  type LogMessageLevel,
  type Rejected,
  type RejectKind,
  type Snapshot,
  type WireRecord,
} from '@aerogrid/protocol/runtime-messages';
import { REJECT_KINDS, RUNTIME_PROTOCOL, type Ack, type Hello, type HelloGrid, type HelloTopic, type LogMessageLevel, type Rejected, type RejectKind } from '@aerogrid/protocol/runtime-messages';


function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function messageType(msg: unknown): string {
  if (!isObject(msg)) throw new ProtocolError('every message must be a JSON object');
  if (typeof msg.type !== 'string') throw new ProtocolError('message without a "type"');
  return msg.type;
}

export function parseHello(msg: Record<string, unknown>): Hello {
  if (msg.protocol !== RUNTIME_PROTOCOL) {
    throw new ProtocolError(
      `unsupported protocol ${JSON.stringify(msg.protocol ?? null)}; this sidecar speaks ${RUNTIME_PROTOCOL}`,
    );
  }
  const appProblem = dnsLabelProblem(msg.app);
  if (appProblem) throw new ProtocolError(`hello: invalid app name ${JSON.stringify(msg.app ?? null)}: ${appProblem}`);
  if (!Array.isArray(msg.topics)) throw new ProtocolError("hello: 'topics' must be a list");
  if (!Array.isArray(msg.grids)) throw new ProtocolError("hello: 'grids' must be a list");
  const topics: HelloTopic[] = msg.topics.map((t: unknown, i) => {
    if (!isObject(t)) throw new ProtocolError(`hello: topics[${i}] must be an object`);
    const problem = topicNameProblem(t.name);
    if (problem) throw new ProtocolError(`hello: topics[${i}]: topic name ${JSON.stringify(t.name ?? null)} ${problem}`);
    if (t.streamed !== undefined && typeof t.streamed !== 'boolean') {
      throw new ProtocolError(`hello: topics[${i}]: 'streamed' must be a boolean`);
    }
    return {
      name: t.name as string,
      keyType: typeof t.key_type === 'string' ? t.key_type : undefined,
      valueType: typeof t.value_type === 'string' ? t.value_type : undefined,
      streamed: t.streamed !== false,
    };
  });
  const seenGrids = new Set<string>();
  const grids: HelloGrid[] = msg.grids.map((g: unknown, i) => {
    if (!isObject(g)) throw new ProtocolError(`hello: grids[${i}] must be an object`);
    const problem = gridNameProblem(g.name);
    if (problem) throw new ProtocolError(`hello: grids[${i}]: grid name ${JSON.stringify(g.name ?? null)} ${problem}`);
    const name = g.name as string;
    if (seenGrids.has(name)) throw new ProtocolError(`hello: grid '${name}' is declared twice`);
    seenGrids.add(name);
    if (!Array.isArray(g.columns) || !g.columns.every((c) => typeof c === 'string' && c.length > 0)) {
      throw new ProtocolError(`hello: grid '${name}': 'columns' must be a list of non-empty strings`);
    }
    if (new Set(g.columns).size !== g.columns.length) {
      throw new ProtocolError(`hello: grid '${name}': a column is declared twice`);
    }
    return { name, columns: g.columns as string[] };
  });
  return {
    app: msg.app as string,
    pid: typeof msg.pid === 'number' ? msg.pid : undefined,
    sdk: typeof msg.sdk === 'string' ? msg.sdk : undefined,
    topics,
    grids,
  };
}

export function parseAck(msg: Record<string, unknown>): Ack {
  if (!Number.isSafeInteger(msg.id) || (msg.id as number) < 1) {
    throw new ProtocolError("ack: 'id' must be a positive integer");
  }
  const id = msg.id as number;
  const processed = msg.processed ?? 0;
  if (!Number.isSafeInteger(processed) || (processed as number) < 0) {
    throw new ProtocolError(`ack ${id}: 'processed' must be a non-negative integer`);
  }
  const deltas = msg.deltas ?? [];
  if (!Array.isArray(deltas)) throw new ProtocolError(`ack ${id}: 'deltas' must be a list`);
  const rawRejected = msg.rejected ?? [];
  if (!Array.isArray(rawRejected)) throw new ProtocolError(`ack ${id}: 'rejected' must be a list`);
  const rejected: Rejected[] = rawRejected.map((r: unknown, i) => {
    const where = `ack ${id}: rejected[${i}]`;
    if (!isObject(r)) throw new ProtocolError(`${where} must be an object`);
    if (!(REJECT_KINDS as readonly unknown[]).includes(r.kind)) {
      throw new ProtocolError(`${where}: 'kind' must be one of ${REJECT_KINDS.join(', ')}, got ${JSON.stringify(r.kind ?? null)}`);
    }
    return {
      topic: typeof r.topic === 'string' ? r.topic : '?',
      partition: typeof r.partition === 'number' ? r.partition : -1,
      offset: typeof r.offset === 'string' || typeof r.offset === 'number' ? String(r.offset) : '?',
      kind: r.kind as RejectKind,
      reason: typeof r.reason === 'string' ? r.reason : '(no reason given)',
      traceback: typeof r.traceback === 'string' ? r.traceback : undefined,
    };
  });
  return { id, processed: processed as number, deltas, rejected };
}

export function parseLog(msg: Record<string, unknown>): { level: LogMessageLevel; message: string } {
  const raw = typeof msg.level === 'string' ? msg.level.toLowerCase() : 'info';
  const level: LogMessageLevel =
    raw === 'debug' ? 'debug' : raw === 'warning' || raw === 'warn' ? 'warn' : raw === 'error' || raw === 'critical' || raw === 'fatal' ? 'error' : 'info';
  return { level, message: typeof msg.message === 'string' ? msg.message : JSON.stringify(msg.message ?? '') };
}
