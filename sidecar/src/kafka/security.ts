/**
 * Kafka credentials and TLS for the sidecar, the only process of a pod that holds them
 * (DESIGN.md §5). Read from the environment only (a Secret in a cluster), never from flags, so
 * they do not show in a process list.
 */
import { ENV as SHARED_ENV } from '@aerogrid/protocol/environment';

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaSecurity {
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** TLS to the brokers, verified against the system's CAs. */
  ssl?: boolean;
}

const ENV = {
  username: SHARED_ENV.kafkaUsername,
  password: SHARED_ENV.kafkaPassword,
  mechanism: SHARED_ENV.kafkaSaslMechanism,
  tls: SHARED_ENV.kafkaTls,
} as const;

/** Throws an Error naming the variable and the fix when the settings do not fit together. */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSecurity {
  const get = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const username = get(ENV.username);
  const password = get(ENV.password);
  const mechanism = (get(ENV.mechanism) ?? 'scram-sha-512').toLowerCase();
  const tls = (get(ENV.tls) ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(tls)) throw new Error(`${ENV.tls}=${JSON.stringify(env[ENV.tls])} is not a boolean: use true or false`);
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new Error(`${ENV.mechanism}=${JSON.stringify(env[ENV.mechanism])} is not supported: use one of ${SASL_MECHANISMS.join(', ')}`);
  }
  if ((username === undefined) !== (password === undefined)) {
    throw new Error(`${username === undefined ? ENV.password : ENV.username} is set without ${username === undefined ? ENV.username : ENV.password}: set both (the Kafka user's name and password) or neither`);
  }
  const security: KafkaSecurity = {};
  if (username !== undefined && password !== undefined) security.sasl = { mechanism: mechanism as SaslMechanism, username, password };
  if (tls === 'true' || tls === '1') security.ssl = true;
  return security;
}
