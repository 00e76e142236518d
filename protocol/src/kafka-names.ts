// What an app is called in Kafka: its consumer group, changelog and dead-letter topics and its
// transactional id (docs/protocol.md §4). The sidecar names them, the CLI shows and checks them.
import { tenantTopicPrefix } from './names.js';

/** The Kafka names of one app (or of a separate copy of it, `instance`, such as `aerogrid dev`'s). */
export interface AppKafkaNames {
  /** The consumer group over the app's streamed topics: `aerogrid.<tenant>.<app>[.<instance>]`. */
  group: string;
  /** The compacted topic holding every grid row. */
  changelog: string;
  /** The default dead-letter topic. */
  deadLetters: string;
  /** Shared by every instance, so that the one that takes over fences the last writer. */
  transactionalId: string;
}

export function appKafkaNames(tenant: string, app: string, instance?: string): AppKafkaNames {
  const group = `${tenantTopicPrefix(tenant)}${app}${instance ? `.${instance}` : ''}`;
  return { group, changelog: `${group}.changelog`, deadLetters: `${group}.dlq`, transactionalId: `${group}.tx` };
}

/** The instance `aerogrid dev` runs as: state of its own beside the deployed app's. */
export const DEV_INSTANCE = 'dev';

/** Which rule refuses a dead-letter topic (docs/protocol.md §4). */
export type DeadLetterRule = 'outside-tenant' | 'changelog' | 'dead-letters' | 'internal' | 'consumer-group';

/**
 * Whether `topic` may be the dead-letter topic of `app` of `tenant`: never outside the tenant's
 * topics, never any app's changelog (its records would come back as grid rows at the next
 * restore), another app's dead-letter topic, an internal name (transactional ids, the restore's
 * and follower's readers) or the app's consumer group. The sidecar (at start) and the CLI
 * (`validate`, `deploy`) ask this one rule; `deploy` checks the other apps of the tenant besides.
 * Without `app` (a sidecar that learns it at hello) the app's own names are not known: its own
 * default dead-letter topic is then refused like any `.dlq`.
 */
export function deadLetterTopicProblem(topic: string, tenant: string, app?: string, instance?: string): { rule: DeadLetterRule; reason: string } | null {
  const prefix = tenantTopicPrefix(tenant);
  if (!topic.startsWith(prefix) || topic.length === prefix.length) {
    return { rule: 'outside-tenant', reason: `is outside tenant ${tenant}'s topics: an app's dead-letter topic must start with '${prefix}'` };
  }
  const own = app === undefined ? null : appKafkaNames(tenant, app);
  if (own && (topic === own.deadLetters || (instance && topic === appKafkaNames(tenant, app!, instance).deadLetters))) return null;
  const segments = topic.slice(prefix.length).split('.');
  const last = segments[segments.length - 1];
  if (last === 'changelog') {
    if (own && topic === own.changelog) return { rule: 'changelog', reason: "is the app's changelog topic, where its grids are kept" };
    return { rule: 'changelog', reason: "ends in '.changelog': a dead-letter topic may not be an app's changelog (its records would come back as grid rows)" };
  }
  if (last === 'dlq') return { rule: 'dead-letters', reason: "ends in '.dlq': a dead-letter topic may not be another app's dead-letter topic" };
  if (last === 'tx' || segments.slice(1).some((s) => s === 'restore' || s === 'follow')) {
    return {
      rule: 'internal',
      reason: "is named like an internal name ('.tx', '.restore.*', '.follow.*'): a dead-letter topic may not be one of AeroGrid's internal names",
    };
  }
  if (own && app !== undefined && (topic === own.group || topic === appKafkaNames(tenant, app, DEV_INSTANCE).group)) {
    return { rule: 'consumer-group', reason: "is the app's consumer group name: a dead-letter topic may not be the app's consumer group" };
  }
  return null;
}
