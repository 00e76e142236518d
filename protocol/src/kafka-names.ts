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
