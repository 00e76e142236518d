// `aerogrid dev`: one connector folder run on this machine, as a copy of its own: its sidecar and
// Python runtime on the given (or the local) Kafka, until Ctrl-C.
import { appKafkaNames, DEV_INSTANCE } from '@aerogrid/protocol/kafka-names';
import { CliError, ExitCode } from '../errors.js';

export interface DevOptions {
  dir: string;
  broker?: string;
  port: number;
  tenant?: string;
  watch: boolean;
  deadLetter?: string;
  oidcIssuer?: string;
  oidcAudience?: string;
  jwksUri?: string;
  tenantClaim?: string;
  /** Where the start-up lines go. */
  log: (line: string) => void;
}

/** Runs the connector in `options.dir` until interrupted; an invalid flag or aerogrid.yaml throws first. */
export async function runDev(options: DevOptions): Promise<void> {
  const { dir, log, ...opts } = options;
  const { authOptionsFrom, AuthConfigError } = await import('@aerogrid/sidecar/auth');
  let auth;
  try {
    auth = authOptionsFrom(opts);
  } catch (err) {
    if (err instanceof AuthConfigError) throw new CliError(`${err.message}.`, { exitCode: ExitCode.usage });
    throw err;
  }
  if (opts.deadLetter !== undefined && opts.deadLetter !== 'dlq' && opts.deadLetter !== 'stop') {
    throw new CliError(`--dead-letter must be dlq or stop, not ${JSON.stringify(opts.deadLetter)}.`, { exitCode: ExitCode.usage });
  }
  if (opts.tenant !== undefined) {
    const { dns1123Problem } = await import('../app-spec/names.js');
    const problem = dns1123Problem(opts.tenant);
    if (problem) {
      throw new CliError(`--tenant ${JSON.stringify(opts.tenant)} ${problem.reason}.`, {
        exitCode: ExitCode.usage,
        hint: problem.suggestion ? `use --tenant ${problem.suggestion}` : 'a tenant is a DNS-1123 label: lowercase letters, digits and \'-\'',
      });
    }
  }
  // The spec, read once: undefined without aerogrid.yaml; an invalid one throws (exit 3).
  const { loadSpec } = await import('../app-spec/load.js');
  const spec = (await loadSpec(dir))?.spec;
  const tenant = opts.tenant ?? spec?.tenant ?? 'default';
  const { resolveBroker } = await import('../local-kafka/resolve.js');
  const { runConnector } = await import('./connector.js');
  const { runUntilInterrupted } = await import('./interrupt.js');
  const broker = await resolveBroker(opts.broker, (m) => log(m));
  const connector = await runConnector({
    dir, broker, port: opts.port, tenant, watch: opts.watch, auth, viewerGroups: spec?.access.groups, instance: DEV_INSTANCE,
    // With aerogrid.yaml, only its topics: a name computed in app.py reads nothing else here either.
    ...(spec ? { app: spec.name, entrypoint: spec.entrypoint, deadLetter: spec.deadLetter.policy, allowedTopics: spec.topics } : {}),
    ...(opts.deadLetter ? { deadLetter: opts.deadLetter as 'dlq' | 'stop' } : {}),
  });
  const authLine = auth ? `OIDC ${auth.issuer} (audience ${auth.audience})` : 'off (loopback only)';
  const state = await devStateLines(broker, tenant, spec?.name);
  log(`\n  Viewer: ${connector.url}\n  Grids:  ${connector.url}v1/grids\n  Kafka:  ${broker}\n  Auth:   ${authLine}\n${state}\n  Ctrl-C to stop.\n`);
  await runUntilInterrupted(connector);
}

/**
 * The start-up lines that say which Kafka state this run uses, and whether the deployed app
 * (its consumer group has members) is live beside it.
 */
async function devStateLines(broker: string, tenant: string, app: string | undefined): Promise<string> {
  const deployed = appKafkaNames(tenant, app ?? '<app>').group;
  const own = appKafkaNames(tenant, app ?? '<app>', DEV_INSTANCE);
  const line = `  State:  its own: group '${own.group}', changelog '${own.changelog}', dead letters '${own.deadLetters}', transactional id '${own.transactionalId}'`;
  // Without aerogrid.yaml the app's name comes with the runtime's hello: nothing to look up yet.
  if (app === undefined) return `${line}\n`;
  let live = '';
  const { createKafkaClient } = await import('@aerogrid/sidecar/kafka');
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'aerogrid-dev', logger: { warn: () => {}, error: () => {} } });
  try {
    const members = await kafka.groupMembers(deployed);
    if (members > 0) live = `\n  Note:   '${app}' is also deployed and live here (${members} instance${members === 1 ? '' : 's'} in group '${deployed}'); this run does not touch it.`;
  } catch {
    // Kafka unreachable: the sidecar says so.
  } finally {
    await kafka.close();
  }
  return `${line}${live}\n`;
}
