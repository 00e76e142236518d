/**
 * Every default of the sidecar, in one place (the command line, `startSidecar` and the core all
 * take them from here), as the `ws` package keeps its options' defaults in one literal.
 */
export const DEFAULTS = {
  /** HTTP/WebSocket port. */
  port: 7070,
  tenant: 'default',
  runtimeAddr: 'tcp://127.0.0.1:0',
  /** Unacked batches at a time. */
  maxInFlight: 4,
  /** Records per batch. */
  batchSize: 500,
  /** How often to look for a missing topic, and to retry Kafka (ms). */
  topicPollMs: 2000,
  /** A batch not acked this long ends the runtime session (ms). */
  batchDeadlineMs: 30_000,
  /** Records waiting with no commit for this long make the grids stale (ms). */
  staleAfterMs: 5_000,
  /** The consumer group session: how soon a standby takes over from a writer that died (ms). */
  sessionTimeoutMs: 2_000,
  /** The runtime "keeps crashing" after this many disconnects within the window (ms)... */
  crashLoopCount: 3,
  crashWindowMs: 60_000,
  /** ...and is back to `running` once a session stayed up this long (ms). */
  crashSettleMs: 30_000,
  commitMode: 'transaction',
  deadLetterPolicy: 'dlq',
  /** At most this many acked batches go into one transaction. */
  maxBatchesPerCommit: 64,
  /** A takeover waits this long for the follower to reach the changelog's end (ms). */
  catchUpMs: 10_000,
  /** Keys of change history kept per grid, for clients that resume (docs/protocol.md §2). */
  historyKeysPerGrid: 100_000,
  /** Bytes queued for all WebSocket clients together; beyond it the furthest behind are dropped (4008). */
  outboundBudgetBytes: 256 * 1024 * 1024,
  /** Bytes queued for one client before it is dropped (4008). */
  maxBacklogBytes: 64 * 1024 * 1024,
  /** WebSocket connections per sidecar, and per client address (beyond: closed with 1013). */
  maxConnections: 10_000,
  maxConnectionsPerAddress: 2_000,
} as const;
