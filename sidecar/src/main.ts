#!/usr/bin/env node
/**
 * `aerogrid-sidecar`: runs the sidecar of one app. Prints one JSON line on stdout once listening:
 *   {"event":"listening","http":"http://127.0.0.1:7070/","runtime":"tcp://127.0.0.1:40124"}
 * Logs go to stderr. SIGINT/SIGTERM stop it cleanly (exit 0).
 */
import { DEAD_LETTER_POLICIES, ENV, type DeadLetterPolicy } from '@aerogrid/protocol/environment';
import { DEFAULTS } from './defaults.js';
import { parseArgs } from 'node:util';
import { startSidecar, type Sidecar } from './index.js';
import { createLogger, isLogLevel, LOG_LEVELS, errorMessage } from './log.js';
import { checkName, topicProblem } from '@aerogrid/protocol/names';
import { deadLetterTopicProblem } from '@aerogrid/protocol/kafka-names';
import { assertBindAllowed, authOptionsFrom } from './auth/index.js';
import { kafkaSecurityFromEnv } from './kafka/security.js';
import { parseAllowedOrigins } from './http/cors.js';

const USAGE = `Usage: aerogrid-sidecar [options]

Runs the sidecar of one AeroGrid app: consumes the app's Kafka topics, feeds the Python runtime
over the runtime socket and serves the grids over HTTP and WebSocket (with a live viewer at /).

Options:
  --broker HOST:PORT     Kafka bootstrap server(s), comma-separated   [env AEROGRID_BROKER]
  --runtime-addr ADDR    where the runtime connects: tcp://HOST:PORT or unix:///path
                         (default tcp://127.0.0.1:0, an ephemeral port)  [env AEROGRID_RUNTIME_ADDR]
  --port PORT            HTTP/WebSocket port, 0 = ephemeral (default ${DEFAULTS.port})  [env AEROGRID_PORT]
  --host HOST            HTTP/WebSocket bind address (default 127.0.0.1, loopback only)
  --tenant NAME          tenant, a DNS-1123 label (default "default")  [env AEROGRID_TENANT]
  --app NAME             the app served; a runtime of another app is refused  [env AEROGRID_APP]
  --log-level LEVEL      ${LOG_LEVELS.join(', ')} (default info)  [env AEROGRID_LOG_LEVEL]
  --dead-letter POLICY   dlq: bad records go to the dead-letter topic and the app goes on (default);
                         stop: the first bad record stops consumption  [env AEROGRID_DEAD_LETTER]
  --dead-letter-topic T  the dead-letter topic (default aerogrid.<tenant>.<app>.dlq)
                         [env AEROGRID_DEAD_LETTER_TOPIC]
  --dead-letter-retention-ms MS
                         retention.ms of the dead-letter topic when the sidecar creates it
                         (default: the broker's)  [env AEROGRID_DEAD_LETTER_RETENTION_MS]
  --commit MODE          transaction: changelog + dead letters + offsets in one Kafka transaction
                         per batch (exactly-once, default); plain: the same without a
                         transaction; offsets: offsets only  [env AEROGRID_COMMIT]
  --batch-deadline MS    a batch not acked in this time restarts the runtime and is re-run one
                         record at a time; a record that hangs alone is dead-lettered
                         (default ${DEFAULTS.batchDeadlineMs})  [env AEROGRID_BATCH_DEADLINE_MS]
  --oidc-issuer URL      auth on: accept OIDC access tokens of this issuer (e.g.
                         https://example.eu.auth0.com/)  [env AEROGRID_OIDC_ISSUER]
  --oidc-audience AUD    the audience tokens must carry (the API identifier)
                         [env AEROGRID_OIDC_AUDIENCE]
  --jwks-uri URL         the issuer's keys (default: jwks_uri from its discovery document)
                         [env AEROGRID_JWKS_URI]
  --tenant-claim NAME    the claim naming the caller's tenant (default tenant; URL-style names
                         such as https://aerogrid.dev/tenant work)  [env AEROGRID_TENANT_CLAIM]
  --allow-origin URL     with auth off: pages of this origin may read too (a hosted add-in,
                         e.g. https://addins.example.com; repeatable; env AEROGRID_ALLOW_ORIGINS)
  --viewer-groups A,B    with auth: only members of these groups may read the grids (default:
                         every viewer of the tenant)  [env AEROGRID_VIEWER_GROUPS]
  --instance NAME        a separate copy of the app: its own consumer group, changelog and
                         transactional id aerogrid.<tenant>.<app>.<NAME> (aerogrid dev uses
                         "dev"), so it never touches the deployed app  [env AEROGRID_INSTANCE]
  --session-timeout MS   consumer group session timeout: how soon a standby takes over from a
                         writer that died (default ${DEFAULTS.sessionTimeoutMs}; the broker's group.min.session.timeout.ms
                         must allow it)  [env AEROGRID_SESSION_TIMEOUT_MS]
  -h, --help             show this help

On start it prints one line to stdout:
  {"event":"listening","http":"http://127.0.0.1:7070/","runtime":"tcp://127.0.0.1:40124"}

Without auth it listens on loopback only: a non-loopback --host needs --oidc-issuer and
--oidc-audience.

From the environment only (a Secret in a cluster; never on a command line):
  AEROGRID_KAFKA_USERNAME, AEROGRID_KAFKA_PASSWORD   Kafka SASL credentials (both or neither)
  AEROGRID_KAFKA_SASL_MECHANISM   plain, scram-sha-256 or scram-sha-512 (default)
  AEROGRID_KAFKA_TLS              true: TLS to the brokers (default false)
  NODE_EXTRA_CA_CERTS             Node's own: a private CA for the brokers or the OIDC issuer
                                  (aerogrid dev and serve pass it on only with one of those)
  AEROGRID_ALLOWED_TOPICS         the tenant's topics (names, or prefixes ending in *): a runtime
                                  streaming any other topic is refused
  AEROGRID_WS_OUTBOUND_BUDGET_BYTES  bytes queued for all WebSocket clients together; beyond it
                                  the clients furthest behind are closed with 4008 (default ${DEFAULTS.outboundBudgetBytes})
  AEROGRID_WS_MAX_BACKLOG_BYTES   bytes queued for one client before it is closed with 4008
                                  (default ${DEFAULTS.maxBacklogBytes})
  AEROGRID_WS_MAX_CONNECTIONS, AEROGRID_WS_MAX_CONNECTIONS_PER_ADDRESS
                                  WebSocket connections per sidecar and per client address; beyond
                                  them a connection is closed with 1013 (defaults ${DEFAULTS.maxConnections}, ${DEFAULTS.maxConnectionsPerAddress})
`;

class UsageError extends Error {}

function fail(message: string, code: number): never {
  process.stderr.write(`aerogrid-sidecar: ${message}\n`);
  if (code === 2) process.stderr.write(`Run 'aerogrid-sidecar --help' for usage.\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        broker: { type: 'string' },
        'runtime-addr': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        tenant: { type: 'string' },
        app: { type: 'string' },
        'log-level': { type: 'string' },
        'dead-letter': { type: 'string' },
        'dead-letter-topic': { type: 'string' },
        'dead-letter-retention-ms': { type: 'string' },
        commit: { type: 'string' },
        'batch-deadline': { type: 'string' },
        'oidc-issuer': { type: 'string' },
        'oidc-audience': { type: 'string' },
        'jwks-uri': { type: 'string' },
        'tenant-claim': { type: 'string' },
        'viewer-groups': { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        instance: { type: 'string' },
        'session-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail(errorMessage(err), 2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const env = process.env;
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] === '' ? undefined : env[name]);
  let options;
  try {
    const portText = pick(values.port, ENV.port) ?? String(DEFAULTS.port);
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new UsageError(`invalid port ${JSON.stringify(portText)}: expected 0-65535`);
    const tenant = checkName('tenant', pick(values.tenant, ENV.tenant) ?? DEFAULTS.tenant);
    const appText = pick(values.app, ENV.app);
    const app = appText === undefined ? undefined : checkName('app', appText);
    const level = pick(values['log-level'], ENV.logLevel) ?? 'info';
    if (!isLogLevel(level)) throw new UsageError(`invalid log level ${JSON.stringify(level)}: expected one of ${LOG_LEVELS.join(', ')}`);
    const broker = pick(values.broker, ENV.broker);
    if (broker === undefined) throw new UsageError('no Kafka broker: pass --broker HOST:PORT or set AEROGRID_BROKER');
    const deadLetter = pick(values['dead-letter'], ENV.deadLetter) ?? DEFAULTS.deadLetterPolicy;
    if (!(DEAD_LETTER_POLICIES as readonly string[]).includes(deadLetter)) throw new UsageError(`invalid dead-letter policy ${JSON.stringify(deadLetter)}: expected ${DEAD_LETTER_POLICIES.join(' or ')}`);
    const retentionText = pick(values['dead-letter-retention-ms'], ENV.deadLetterRetentionMs);
    if (retentionText !== undefined && !/^[1-9][0-9]{0,14}$/.test(retentionText)) {
      throw new UsageError(`invalid dead-letter retention ${JSON.stringify(retentionText)}: expected milliseconds (1 or more)`);
    }
    const deadLetterTopic = pick(values['dead-letter-topic'], ENV.deadLetterTopic);
    const refused = deadLetterTopic === undefined || topicProblem(deadLetterTopic) ? null : deadLetterTopicProblem(deadLetterTopic, tenant, app, pick(values.instance, ENV.instance));
    if (refused) throw new UsageError(`invalid dead-letter topic ${JSON.stringify(deadLetterTopic)}: ${refused.reason}`);
    const commit = pick(values.commit, ENV.commit) ?? DEFAULTS.commitMode;
    if (commit !== 'transaction' && commit !== 'plain' && commit !== 'offsets') {
      throw new UsageError(`invalid commit mode ${JSON.stringify(commit)}: expected transaction, plain or offsets`);
    }
    const deadlineText = pick(values['batch-deadline'], ENV.batchDeadlineMs) ?? String(DEFAULTS.batchDeadlineMs);
    if (!/^\d{3,7}$/.test(deadlineText)) throw new UsageError(`invalid batch deadline ${JSON.stringify(deadlineText)}: expected milliseconds (100 or more)`);
    const instanceText = pick(values.instance, ENV.instance);
    const instance = instanceText === undefined ? undefined : checkName('instance', instanceText);
    const sessionText = pick(values['session-timeout'], ENV.sessionTimeoutMs) ?? String(DEFAULTS.sessionTimeoutMs);
    if (!/^\d{3,7}$/.test(sessionText)) throw new UsageError(`invalid session timeout ${JSON.stringify(sessionText)}: expected milliseconds (100 or more)`);
    const auth = authOptionsFrom(
      { oidcIssuer: values['oidc-issuer'], oidcAudience: values['oidc-audience'], jwksUri: values['jwks-uri'], tenantClaim: values['tenant-claim'] },
      env,
    );
    const host = values.host ?? '127.0.0.1';
    assertBindAllowed(host, auth);
    const list = (text: string | undefined) => (text ?? '').split(',').map((g) => g.trim()).filter(Boolean);
    const viewerGroups = list(pick(values['viewer-groups'], ENV.viewerGroups));
    const allowedTopics = list(env[ENV.allowedTopics]);
    let allowOrigins: string[];
    try {
      allowOrigins = parseAllowedOrigins([...(values['allow-origin'] ?? []), env[ENV.allowOrigins] ?? '']);
    } catch (err) {
      throw new UsageError(errorMessage(err));
    }
    const kafkaSecurity = kafkaSecurityFromEnv(env);
    const count = (name: string, fallback: number) => {
      const text = env[name] === '' ? undefined : env[name];
      if (text === undefined) return fallback;
      if (!/^[1-9]\d{0,12}$/.test(text)) throw new UsageError(`invalid ${name} ${JSON.stringify(text)}: expected a whole number (1 or more)`);
      return Number(text);
    };
    const wsLimits = {
      outboundBudgetBytes: count(ENV.wsOutboundBudgetBytes, DEFAULTS.outboundBudgetBytes),
      maxBacklogBytes: count(ENV.wsMaxBacklogBytes, DEFAULTS.maxBacklogBytes),
      maxConnections: count(ENV.wsMaxConnections, DEFAULTS.maxConnections),
      maxConnectionsPerAddress: count(ENV.wsMaxConnectionsPerAddress, DEFAULTS.maxConnectionsPerAddress),
    };
    options = {
      deadLetterPolicy: deadLetter as DeadLetterPolicy,
      deadLetterTopic,
      ...(retentionText !== undefined ? { deadLetterRetentionMs: Number(retentionText) } : {}),
      commitMode: commit as 'transaction' | 'plain' | 'offsets',
      batchDeadlineMs: Number(deadlineText),
      instance,
      sessionTimeoutMs: Number(sessionText),
      broker,
      runtimeAddr: pick(values['runtime-addr'], ENV.runtimeAddr),
      port: Number(portText),
      host,
      auth,
      viewerGroups,
      allowedTopics,
      allowOrigins,
      kafkaSecurity,
      ...wsLimits,
      tenant,
      app,
      logger: createLogger({ name: app ?? 'aerogrid-sidecar', level }),
    };
  } catch (err) {
    fail(errorMessage(err), 2);
  }

  if (options.viewerGroups.length && !options.auth) {
    options.logger.warn('--viewer-groups has no effect without auth (--oidc-issuer, --oidc-audience): everyone on this machine can read');
  }
  let sidecar: Sidecar;
  try {
    sidecar = await startSidecar(options);
  } catch (err) {
    fail(errorMessage(err), /^invalid |^no Kafka broker/.test(errorMessage(err)) ? 2 : 1);
  }
  process.stdout.write(JSON.stringify({ event: 'listening', http: sidecar.url, runtime: sidecar.runtimeAddr }) + '\n');

  process.on('unhandledRejection', (reason) => options.logger.error(`unhandled rejection: ${errorMessage(reason)}`));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      options.logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    options.logger.info(`${signal}: shutting down`);
    const force = setTimeout(() => {
      options.logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 8000);
    force.unref();
    sidecar.close().then(
      () => process.exit(0),
      (err: unknown) => {
        options.logger.error(`shutdown failed: ${errorMessage(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  watchParent(Number(process.env[ENV.parentPid]), () => stop('parent process gone'));
}

/**
 * A local supervisor (`aerogrid dev`, `aerogrid serve`) sets AEROGRID_PARENT_PID: if it dies
 * without stopping us (SIGKILL), shut down instead of living on as an orphan. In a pod nothing
 * sets it.
 */
function watchParent(pid: number, onGone: () => void): void {
  if (!Number.isInteger(pid) || pid <= 1) return;
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch {
      clearInterval(timer);
      onGone();
    }
  }, 1000);
  timer.unref();
}

void main();
