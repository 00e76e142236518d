// The environment the sidecar and the runtime read: what `aerogrid dev` and the local runner
// (src/runner/connector.ts) set for the processes they start, and what an app's pod gets from
// its settings ConfigMap (src/render/app.ts) and its tenant's (gitops/bases/tenant/v1). The
// Python runtime reads RUNTIME_ADDR and CONNECT_TIMEOUT (docs/protocol.md §1).

export const ENV = {
  broker: 'AEROGRID_BROKER',
  runtimeAddr: 'AEROGRID_RUNTIME_ADDR',
  connectTimeout: 'AEROGRID_CONNECT_TIMEOUT',
  port: 'AEROGRID_PORT',
  tenant: 'AEROGRID_TENANT',
  app: 'AEROGRID_APP',
  instance: 'AEROGRID_INSTANCE',
  entrypoint: 'AEROGRID_ENTRYPOINT',
  logLevel: 'AEROGRID_LOG_LEVEL',
  deadLetter: 'AEROGRID_DEAD_LETTER',
  deadLetterTopic: 'AEROGRID_DEAD_LETTER_TOPIC',
  /** `retention.ms` of the dead-letter topic when the sidecar creates it (spec.deadLetter.retention). */
  deadLetterRetentionMs: 'AEROGRID_DEAD_LETTER_RETENTION_MS',
  commit: 'AEROGRID_COMMIT',
  batchDeadlineMs: 'AEROGRID_BATCH_DEADLINE_MS',
  sessionTimeoutMs: 'AEROGRID_SESSION_TIMEOUT_MS',
  viewerGroups: 'AEROGRID_VIEWER_GROUPS',
  allowedTopics: 'AEROGRID_ALLOWED_TOPICS',
  oidcIssuer: 'AEROGRID_OIDC_ISSUER',
  oidcAudience: 'AEROGRID_OIDC_AUDIENCE',
  jwksUri: 'AEROGRID_JWKS_URI',
  tenantClaim: 'AEROGRID_TENANT_CLAIM',
  /** Kafka credentials and TLS, read by the sidecar alone (sidecar/src/kafka/security.ts). */
  kafkaUsername: 'AEROGRID_KAFKA_USERNAME',
  kafkaPassword: 'AEROGRID_KAFKA_PASSWORD',
  kafkaSaslMechanism: 'AEROGRID_KAFKA_SASL_MECHANISM',
  kafkaTls: 'AEROGRID_KAFKA_TLS',
  /** The sidecar's limits for WebSocket clients (docs/protocol.md §2 "Keepalive and drops"). */
  wsOutboundBudgetBytes: 'AEROGRID_WS_OUTBOUND_BUDGET_BYTES',
  wsMaxBacklogBytes: 'AEROGRID_WS_MAX_BACKLOG_BYTES',
  wsMaxConnections: 'AEROGRID_WS_MAX_CONNECTIONS',
  wsMaxConnectionsPerAddress: 'AEROGRID_WS_MAX_CONNECTIONS_PER_ADDRESS',
  /** With auth off: web origins besides loopback that may read (a hosted add-in), comma-separated. */
  allowOrigins: 'AEROGRID_ALLOW_ORIGINS',
  /** Set by a local supervisor: the sidecar stops by itself when that process is gone. */
  parentPid: 'AEROGRID_PARENT_PID',
} as const;

/** What to do with a record that cannot be processed: dead-letter it and go on, or stop consuming. */
export const DEAD_LETTER_POLICIES = ['dlq', 'stop'] as const;
export type DeadLetterPolicy = (typeof DEAD_LETTER_POLICIES)[number];

/** A retention of aerogrid.yaml (`spec.deadLetter.retention`: a number and `h` or `d`) in milliseconds; null if it is none. */
export function retentionMs(text: string): number | null {
  const m = /^([1-9][0-9]{0,5})([hd])$/.exec(text);
  return m ? Number(m[1]) * (m[2] === 'd' ? 24 : 1) * 3_600_000 : null;
}
