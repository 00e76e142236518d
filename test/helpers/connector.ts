import { runConnector, type RunningConnector } from '../../src/runner/connector.js';

export interface StartedConnector extends RunningConnector {
  /** Every line the sidecar and runtime printed, prefixed with [sidecar] / [runtime]. */
  logs: string[];
}

/** Runs a connector folder with real processes (sidecar + Python runtime) on a free port. */
export async function startConnector(dir: string, broker: string, options: { tenant?: string; env?: NodeJS.ProcessEnv; watch?: boolean; deadLetterRetentionMs?: number } = {}): Promise<StartedConnector> {
  const logs: string[] = [];
  const running = await runConnector({
    dir, broker, port: 0, watch: options.watch ?? false, tenant: options.tenant, env: options.env,
    ...(options.deadLetterRetentionMs ? { deadLetterRetentionMs: options.deadLetterRetentionMs } : {}),
    log: (line) => { logs.push(line); if (process.env.AEROGRID_TEST_VERBOSE) process.stderr.write(line + '\n'); },
  });
  return Object.assign(running, { logs });
}
