import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { aerogridHome } from '../paths.js';
import { ensureKafkaJars, KAFKA_VERSION } from './jars.js';
import { requireJava } from './toolchain.js';
import { withLock } from './lock.js';

export const DEFAULT_KAFKA_PORT = 19092;

export interface BrokerInfo {
  bootstrap: string;
  port: number;
  controllerPort: number;
  pid: number | null;
  running: boolean;
  version: string;
  dataDir: string;
  logFile: string;
}

function brokerDir(port: number): string {
  return join(aerogridHome(), 'kafka', `broker-${port}`);
}

function describe(port: number, pid: number | null, running: boolean): BrokerInfo {
  const dir = brokerDir(port);
  return {
    bootstrap: `127.0.0.1:${port}`,
    port,
    controllerPort: port + 1,
    pid,
    running,
    version: KAFKA_VERSION,
    dataDir: join(dir, 'data'),
    logFile: join(dir, 'broker.log'),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function readPid(port: number): Promise<number | null> {
  try {
    const pid = Number((await readFile(join(brokerDir(port), 'broker.pid'), 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

async function started(logFile: string): Promise<boolean> {
  try {
    return (await readFile(logFile, 'utf8')).includes('Kafka Server started');
  } catch {
    return false;
  }
}

export async function brokerStatus(port = DEFAULT_KAFKA_PORT): Promise<BrokerInfo> {
  const pid = await readPid(port);
  const running = pid !== null && alive(pid) && (await portOpen(port));
  return describe(port, running ? pid : null, running);
}

/** Kafka's cluster ids are 16 random bytes in URL-safe base64 that must not start with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** A user that clients must sign in as (SASL PLAIN), as a cluster's Kafka would ask. */
export interface BrokerUser {
  username: string;
  password: string;
}

function serverProperties(port: number, dataDir: string, user?: BrokerUser): string {
  const controller = port + 1;
  const protocol = user ? 'SASL_PLAINTEXT' : 'PLAINTEXT';
  const q = (v: string) => JSON.stringify(v);
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controller}`,
    `listeners=${protocol}://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
    `advertised.listeners=${protocol}://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    `inter.broker.listener.name=${protocol}`,
    `listener.security.protocol.map=${protocol}:${protocol},CONTROLLER:PLAINTEXT`,
    ...(user
      ? [
          'sasl.enabled.mechanisms=PLAIN',
          'sasl.mechanism.inter.broker.protocol=PLAIN',
          `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ` +
            `username=${q(user.username)} password=${q(user.password)} user_${user.username}=${q(user.password)};`,
        ]
      : []),
    `log.dirs=${dataDir}`,
    // One node: every internal topic has one replica; few partitions keep start-up quick.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=3',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // A standby takes over from a writer that died once the writer's session expires: allow
    // the sidecars' short session timeouts (Kafka's default minimum is 6 s).
    'group.min.session.timeout.ms=500',
    // Apps name their topics; a typo must show as "waiting for topic", not silently create one.
    'auto.create.topics.enable=false',
    'num.partitions=1',
    '',
  ].join('\n');
}

const LOG4J = `status = warn
appender.file.type = Console
appender.file.name = STDOUT
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
`;

async function runJava(args: string[], cwd: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('java', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', reject);
    child.on('exit', (code) => code === 0 ? resolve() : reject(new CliError(`Formatting Kafka storage failed:\n${output.slice(-2000)}`)));
  });
}

export interface UpOptions {
  port?: number;
  /** Require this user (SASL PLAIN) on the broker's port; for trying Kafka credentials locally. */
  user?: BrokerUser;
  timeoutMs?: number;
  onProgress?: (message: string) => void;
  /** When it has to be started, start it on empty storage (a broker that only tests use). */
  freshData?: boolean;
}

/**
 * Starts (or reuses) a single-node KRaft broker on 127.0.0.1:port. Idempotent and safe to call
 * from several processes at once: a lock serialises them and later callers find it running.
 */
export async function kafkaUp(options: UpOptions = {}): Promise<BrokerInfo & { reused: boolean }> {
  const port = options.port ?? DEFAULT_KAFKA_PORT;
  const say = options.onProgress ?? (() => {});
  const dir = brokerDir(port);
  await mkdir(dir, { recursive: true });
  return withLock(join(dir, 'up.lock'), async () => {
    const current = await brokerStatus(port);
    if (current.running) return { ...current, reused: true };
    if (await portOpen(port)) {
      throw new CliError(`Port ${port} is in use by another program, so the local Kafka cannot start there.`, {
        exitCode: ExitCode.environment,
        hint: `Stop that program, or use another port: \`aerogrid kafka up --port ${port + 10}\` (and pass --broker 127.0.0.1:${port + 10}).`,
      });
    }
    await requireJava();
    say(`Fetching Apache Kafka ${KAFKA_VERSION} jars (once)...`);
    const libs = await ensureKafkaJars();
    const info = describe(port, null, false);
    const props = join(dir, 'server.properties');
    await writeFile(props, serverProperties(port, info.dataDir, options.user));
    await writeFile(join(dir, 'log4j2.properties'), LOG4J);
    const classpath = join(libs, '*');
    const log4j = `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`;
    if (options.freshData || !existsSync(join(info.dataDir, 'meta.properties'))) {
      say('Formatting Kafka storage...');
      await rm(info.dataDir, { recursive: true, force: true });
      await runJava(['-cp', classpath, log4j, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', props], dir);
    }
    say(`Starting Kafka on 127.0.0.1:${port}...`);
    await rm(info.logFile, { force: true });
    const logFd = openSync(info.logFile, 'a');
    const child = spawn('java', ['-Xms256m', '-Xmx1g', '-XX:+UseG1GC', log4j, '-cp', classpath, 'kafka.Kafka', props], {
      cwd: dir, detached: true, stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd);
    child.unref();
    const pid = child.pid!;
    await writeFile(join(dir, 'broker.pid'), `${pid}\n`);
    const deadline = Date.now() + (options.timeoutMs ?? 90_000);
    while (Date.now() < deadline) {
      if (!alive(pid)) {
        const log = await readFile(info.logFile, 'utf8').catch(() => '');
        throw new CliError(`Kafka exited while starting. Last lines of ${info.logFile}:\n${log.split('\n').slice(-15).join('\n')}`, {
          exitCode: ExitCode.environment,
          hint: 'If the storage is damaged, `aerogrid kafka down --purge` and start again.',
        });
      }
      if ((await started(info.logFile)) && (await portOpen(port))) return { ...describe(port, pid, true), reused: false };
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new CliError(`Kafka did not answer on 127.0.0.1:${port} within ${Math.round((options.timeoutMs ?? 90_000) / 1000)} s.`, {
      exitCode: ExitCode.environment,
      hint: `See ${info.logFile}; stop it with \`aerogrid kafka down --port ${port}\`.`,
    });
  });
}

/** Stops the local broker (SIGTERM, then SIGKILL after 20 s); with purge, deletes its data. */
export async function kafkaDown(options: { port?: number; purge?: boolean } = {}): Promise<{ stopped: boolean; purged: boolean }> {
  const port = options.port ?? DEFAULT_KAFKA_PORT;
  const pid = await readPid(port);
  let stopped = false;
  if (pid !== null && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 20_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    stopped = true;
  }
  await rm(join(brokerDir(port), 'broker.pid'), { force: true });
  if (options.purge) await rm(brokerDir(port), { recursive: true, force: true });
  return { stopped, purged: Boolean(options.purge) };
}
