// The runtime socket (`aerogrid.runtime.v1`, docs/protocol.md §1): the messages between the
// sidecar and an app's runtime. The sidecar validates what a runtime sends
// (sidecar/src/runtime/protocol.ts); the Python runtime implements the same document.
import type { Row } from './client-messages.js';

export const RUNTIME_PROTOCOL = 'aerogrid.runtime.v1';

export const REJECT_KINDS = ['decode', 'validation', 'handler'] as const;
export type RejectKind = (typeof REJECT_KINDS)[number];

export interface HelloTopic {
  name: string;
  keyType?: string;
  valueType?: string;
  streamed: boolean;
}

export interface HelloGrid {
  name: string;
  columns: string[];
}

export interface Hello {
  app: string;
  pid?: number;
  sdk?: string;
  topics: HelloTopic[];
  grids: HelloGrid[];
}

/** A record as sent to the runtime in a `batch`. */
export interface WireRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: string | null;
  value: string | null;
}

export interface Rejected {
  topic: string;
  partition: number;
  offset: string;
  kind: RejectKind;
  reason: string;
  traceback?: string;
}

export interface Ack {
  id: number;
  processed: number;
  /** Validated against the grid store when applied. */
  deltas: unknown;
  rejected: Rejected[];
}

export type LogMessageLevel = 'debug' | 'info' | 'warn' | 'error';

export type Snapshot = Record<string, Record<string, Row>>;
