/**
 * `@aerogrid/sidecar`: the per-app sidecar. `startSidecar` embeds it (the `aerogrid-sidecar`
 * binary, the CLI's local runner, tests and benchmarks all use it).
 *
 * ```ts
 * const sidecar = await startSidecar({ broker: '127.0.0.1:9092', port: 0 });
 * console.log(sidecar.url, sidecar.runtimeAddr); // http://127.0.0.1:40123/  tcp://127.0.0.1:40124
 * // start the Python runtime with AEROGRID_RUNTIME_ADDR=<runtimeAddr> ...
 * await sidecar.close();
 * ```
 */
import { assertBindAllowed, AUTH_OFF_NOTICE, createAuthenticator, type AuthOptions } from './auth/index.js';
import { DEFAULTS } from './defaults.js';
import { COMMIT_MODES, DEAD_LETTER_POLICIES, SidecarCore, type CommitMode, type DeadLetterPolicy } from './core.js';
import { startFrontend, type Frontend } from './http/server.js';
import { createKafkaClient, parseBrokers, type KafkaClient } from './kafka/client.js';
import type { KafkaSecurity } from './kafka/security.js';
import { createLogger, type LogLevel, type Logger } from './log.js';
import { LoopDelay } from './metrics.js';
import { checkName, topicProblem } from '@aerogrid/protocol/names';
import { deadLetterTopicProblem } from '@aerogrid/protocol/kafka-names';
import { parseRuntimeAddr, RuntimeServer } from './runtime/server.js';
import type { AppStatus } from '@aerogrid/protocol/client-messages';

export interface SidecarOptions {
  /** Kafka bootstrap servers: `HOST:PORT`, a comma-separated list, or an array. Required unless `kafka` is given. */
  broker?: string | string[];
  /** A ready Kafka client to use instead of creating one from `broker` (not closed by the sidecar). */
  kafka?: KafkaClient;
  /** Where the runtime connects: `tcp://HOST:PORT` or `unix:///path` (default `tcp://127.0.0.1:0`, an ephemeral port). */
  runtimeAddr?: string;
  /** HTTP/WebSocket port (default 7070; 0 = ephemeral). */
  port?: number;
  /** HTTP/WebSocket bind address (default 127.0.0.1: loopback only). */
  host?: string;
  /** Tenant name, a DNS-1123 label (default `default`); the consumer group is `aerogrid.<tenant>.<app>`. */
  tenant?: string;
  /** The app served; when given, a runtime saying hello as another app is refused. */
  app?: string;
  /** Logger (default: stderr, prefixed with the app name). */
  logger?: Logger;
  /** Level of the default logger (default `info`). */
  logLevel?: LogLevel;
  /** Unacked batches per runtime session (default 4). */
  maxInFlight?: number;
  /** Records per runtime batch (default 500). */
  batchSize?: number;
  /** How often to look for a missing topic (default 2000 ms). */
  topicPollMs?: number;
  /** WebSocket delta flush interval (default 50 ms). */
  flushIntervalMs?: number;
  /** Bytes queued for all WebSocket clients together (default 256 MiB): the furthest behind are dropped with 4008. */
  outboundBudgetBytes?: number;
  /** Bytes queued for one WebSocket client before it is dropped with 4008 (default 64 MiB). */
  maxBacklogBytes?: number;
  /** WebSocket connections per sidecar and per client address (defaults 10 000 and 2 000; beyond: 1013). */
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  /**
   * `transaction` (default): changelog rows, dead letters and offsets in one Kafka transaction per
   * batch (exactly-once). `plain`: the same writes without a transaction. `offsets`: offsets only.
   */
  commitMode?: CommitMode;
  /** `dlq` (default): bad records go to the dead-letter topic and the app goes on. `stop`: the first one stops consumption. */
  deadLetterPolicy?: DeadLetterPolicy;
  /** The dead-letter topic (default `aerogrid.<tenant>.<app>.dlq`). */
  deadLetterTopic?: string;
  /** `retention.ms` of the dead-letter topic when the sidecar creates it (default: the broker's). */
  deadLetterRetentionMs?: number;
  /** A batch not acked this long ends the runtime session; the next one re-runs it a record at a time (default 30000 ms). */
  batchDeadlineMs?: number;
  /** Records waiting with nothing committed for this long mark the grids stale (default 5000 ms). */
  staleAfterMs?: number;
  /** OIDC access-token auth for HTTP and WebSocket clients; absent: auth off, loopback only. */
  auth?: AuthOptions;
  /** With auth: only members of one of these groups may read the grids (empty: every viewer of the tenant). */
  viewerGroups?: string[];
  /** SASL credentials and TLS for Kafka (with `broker`; default: neither). */
  kafkaSecurity?: KafkaSecurity;
  /** A separate copy of the app (own group, changelog, transactional id), e.g. `dev`. */
  instance?: string;
  /** Consumer group session timeout in ms (default 2000): how soon a standby takes over. */
  sessionTimeoutMs?: number;
  /** The tenant's topics (names, 'prefix*'): a runtime streaming another topic is refused. Default: any. */
  allowedTopics?: string[];
  /** With auth off: origins besides loopback whose pages may read (see http/cors.ts). */
  allowOrigins?: string[];
}

export interface Sidecar {
  /** The viewer / HTTP base URL with the real port, e.g. `http://127.0.0.1:7070/`. */
  url: string;
  /** The runtime address with the real port, e.g. `tcp://127.0.0.1:40124`. */
  runtimeAddr: string;
  /** The app's current status. */
  status(): AppStatus;
  /** The body of `GET /v1/status`. */
  report(): Record<string, unknown>;
  /** Sends `shutdown` to the runtime, commits what was acked, stops consuming, closes all sockets. */
  close(): Promise<void>;
}

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`invalid ${name} ${JSON.stringify(value)}: expected an integer from ${min} to ${max}`);
  }
  return value;
}

export async function startSidecar(options: SidecarOptions = {}): Promise<Sidecar> {
  const tenant = checkName('tenant', options.tenant ?? DEFAULTS.tenant);
  const app = options.app === undefined ? undefined : checkName('app', options.app);
  const port = checkInt('port', options.port ?? DEFAULTS.port, 0, 65535);
  const host = options.host ?? '127.0.0.1';
  assertBindAllowed(host, options.auth);
  const runtimeAddr = parseRuntimeAddr(options.runtimeAddr ?? DEFAULTS.runtimeAddr);
  const maxInFlight = checkInt('maxInFlight', options.maxInFlight ?? DEFAULTS.maxInFlight, 1, 1000);
  const batchSize = checkInt('batchSize', options.batchSize ?? DEFAULTS.batchSize, 1, 100_000);
  const logger = options.logger ?? createLogger({ name: app ?? 'aerogrid-sidecar', level: options.logLevel });
  const commitMode = options.commitMode ?? DEFAULTS.commitMode;
  if (!COMMIT_MODES.includes(commitMode)) throw new Error(`invalid commit mode ${JSON.stringify(commitMode)}: expected ${COMMIT_MODES.join(', ')}`);
  const deadLetterPolicy = options.deadLetterPolicy ?? DEFAULTS.deadLetterPolicy;
  if (!DEAD_LETTER_POLICIES.includes(deadLetterPolicy)) {
    throw new Error(`invalid dead-letter policy ${JSON.stringify(deadLetterPolicy)}: expected ${DEAD_LETTER_POLICIES.join(' or ')}`);
  }
  if (options.deadLetterRetentionMs !== undefined && !(Number.isSafeInteger(options.deadLetterRetentionMs) && options.deadLetterRetentionMs > 0)) {
    throw new Error(`invalid dead-letter retention ${JSON.stringify(options.deadLetterRetentionMs)}: expected milliseconds (1 or more)`);
  }
  if (options.deadLetterTopic !== undefined && topicProblem(options.deadLetterTopic)) {
    throw new Error(`invalid dead-letter topic ${JSON.stringify(options.deadLetterTopic)}: expected a Kafka topic name`);
  }
  const refused = options.deadLetterTopic === undefined ? null : deadLetterTopicProblem(options.deadLetterTopic, tenant, app, options.instance);
  if (refused) throw new Error(`invalid dead-letter topic ${JSON.stringify(options.deadLetterTopic)}: ${refused.reason}`);
  const batchDeadlineMs = checkInt('batchDeadlineMs', options.batchDeadlineMs ?? DEFAULTS.batchDeadlineMs, 100, 3_600_000);
  const staleAfterMs = checkInt('staleAfterMs', options.staleAfterMs ?? DEFAULTS.staleAfterMs, 100, 3_600_000);
  const sessionTimeoutMs = checkInt('sessionTimeoutMs', options.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs, 100, 3_600_000);

  let kafka = options.kafka;
  const ownKafka = !kafka;
  if (!kafka) {
    if (options.broker === undefined || options.broker.length === 0) {
      throw new Error('no Kafka broker: pass --broker HOST:PORT or set AEROGRID_BROKER');
    }
    const brokers = (Array.isArray(options.broker) ? options.broker : [options.broker]).flatMap((b) => parseBrokers(b));
    kafka = createKafkaClient({
      brokers,
      clientId: `aerogrid-sidecar${app ? `-${app}` : ''}`,
      ...(options.kafkaSecurity ? { security: options.kafkaSecurity } : {}),
      logger: { warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
    });
  }

  const core = new SidecarCore({
    tenant,
    app,
    kafka,
    logger,
    maxInFlight,
    batchSize,
    topicPollMs: options.topicPollMs ?? DEFAULTS.topicPollMs,
    maxConcurrency: 32,
    commitMode,
    deadLetterPolicy,
    deadLetterTopic: options.deadLetterTopic,
    deadLetterRetentionMs: options.deadLetterRetentionMs,
    ...(options.instance ? { instance: checkName('instance', options.instance) } : {}),
    sessionTimeoutMs,
    batchDeadlineMs,
    staleAfterMs,
    ...(options.allowedTopics?.length ? { allowedTopics: options.allowedTopics } : {}),
  });

  const loopDelay = (core.metrics.loopDelay = new LoopDelay());
  const runtime = new RuntimeServer({ addr: runtimeAddr, handler: core, logger });
  let frontend: Frontend | null = null;
  const authenticator = options.auth && createAuthenticator(options.auth, { warn: (m) => logger.warn(m) });
  try {
    frontend = await startFrontend({
      host,
      port,
      store: core.store,
      status: core.status,
      metrics: core.metrics,
      logger,
      tenant,
      app: () => core.appName,
      ready: () => core.ready,
      probeMessage: () => core.probeStatusMessage,
      report: () => core.report(),
      restore: () => core.restoreState as unknown as Record<string, unknown>,
      flushIntervalMs: options.flushIntervalMs,
      outboundBudgetBytes: checkInt('outboundBudgetBytes', options.outboundBudgetBytes ?? DEFAULTS.outboundBudgetBytes, 1024 * 1024, 2 ** 40),
      maxBacklogBytes: checkInt('maxBacklogBytes', options.maxBacklogBytes ?? DEFAULTS.maxBacklogBytes, 64 * 1024, 2 ** 40),
      maxConnections: checkInt('maxConnections', options.maxConnections ?? DEFAULTS.maxConnections, 1, 1_000_000),
      maxConnectionsPerAddress: checkInt('maxConnectionsPerAddress', options.maxConnectionsPerAddress ?? DEFAULTS.maxConnectionsPerAddress, 1, 1_000_000),
      authenticator,
      viewerGroups: options.viewerGroups,
      allowOrigins: options.allowOrigins,
    });
  } catch (err) {
    authenticator?.close();
    if (ownKafka) await kafka.close();
    throw new Error(`cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
  try {
    await runtime.listen();
  } catch (err) {
    await frontend.close();
    if (ownKafka) await kafka.close();
    throw new Error(`cannot listen for the runtime on ${options.runtimeAddr ?? 'tcp://127.0.0.1:0'}: ${(err as Error).message}`);
  }
  // Listening: from now on the status says we wait for the runtime.
  core.status.set('waiting', 'waiting for the runtime to connect');
  logger.info(`serving ${frontend.url} ; runtime socket ${runtime.addr}`);
  logger.info(
    options.auth
      ? `auth: on — OIDC issuer ${options.auth.issuer}, audience ${options.auth.audience}${options.viewerGroups?.length ? `, viewer groups ${options.viewerGroups.join(', ')}` : ''}`
      : AUTH_OFF_NOTICE,
  );
  core.start();

  let closing: Promise<void> | null = null;
  const fe = frontend;
  return {
    url: fe.url,
    runtimeAddr: runtime.addr,
    status: () => core.status.get(),
    report: () => core.report(),
    close: () =>
      (closing ??= (async () => {
        await core.shutdown();
        await runtime.close();
        await fe.close();
        loopDelay.stop();
        if (ownKafka) await Promise.race([kafka.close(), new Promise((r) => setTimeout(r, 1500).unref())]);
      })()),
  };
}

export type { AppStatus as Status, AppState, RestoreProgress } from '@aerogrid/protocol/client-messages';
export type { CommitMode, DeadLetterPolicy } from './core.js';
export type { Logger, LogLevel } from './log.js';
export { createLogger } from './log.js';
export { checkName, NameError } from '@aerogrid/protocol/names';
export { RUNTIME_PROTOCOL } from './runtime/protocol.js';
export { CLIENT_PROTOCOL } from '@aerogrid/protocol/client-messages';
export type { AuthOptions } from './auth/index.js';
