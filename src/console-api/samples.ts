// Sample records for a try from a live topic: the latest N, read with a throwaway consumer group
// that commits nothing and is deleted after (the sidecar's Kafka client, followTopic), so no app's
// offsets move. Only a topic the tenant may read, as its GitOps record says.
import { topicAllowed } from '@aerogrid/protocol/names';
import { listTenants } from '../gitops/tenants.js';
import { checkTenant, checkTopic } from '../repo-layout/names.js';
import { ApiError } from './errors.js';
import { MAX_SAMPLE_RECORDS, SAMPLE_READ_TIMEOUT_MS } from './limits.js';
import type { SampleRecord } from './try-run.js';

export interface SampleSource { repo: string; broker?: string }

/** `fromTopic: {"topic", "count": N}` of a try's body, checked: a number in range, a topic the tenant may read. */
export async function latestRecords(source: SampleSource, tenant: string, request: unknown): Promise<{ topic: string; records: SampleRecord[] }> {
  const r = request as { topic?: unknown; count?: unknown } | null;
  if (!r || typeof r !== 'object' || typeof r.topic !== 'string' || !Number.isInteger(r.count) || (r.count as number) < 1 || (r.count as number) > MAX_SAMPLE_RECORDS) {
    throw new ApiError(400, 'bad_request', `'fromTopic' must be {"topic": "<topic>", "count": N} with N from 1 to ${MAX_SAMPLE_RECORDS}`);
  }
  const topic = checkTopic(r.topic);
  const latest = r.count as number;
  checkTenant(tenant);
  const record = (await listTenants(source.repo)).find((t) => t.tenant === tenant);
  if (!record || !topicAllowed(topic, record.topics)) {
    throw new ApiError(403, 'forbidden', `tenant '${tenant}' may not read topic '${topic}' (it may read: ${record?.topics.join(', ') || 'nothing'})`);
  }
  if (!source.broker) throw new ApiError(503, 'kafka_unavailable', 'this directory reads no Kafka, so it cannot sample a topic; paste the records instead');
  const { createKafkaClient } = await import('@aerogrid/sidecar/kafka');
  const kafka = createKafkaClient({ brokers: [source.broker], clientId: 'aerogrid-console-sample', logger: { warn: () => undefined, error: () => undefined } });
  try {
    if (!(await kafka.topicExists(topic))) throw new ApiError(404, 'not_found', `no topic '${topic}' on the broker`);
    const ends = (await kafka.topicOffsets(topic)).filter((p) => BigInt(p.high) > BigInt(p.low));
    const read = new Map<number, SampleRecord[]>();
    if (ends.length === 0) return { topic, records: [] };
    await new Promise<void>((resolveRead, reject) => {
      const done = new Set<number>();
      const high = new Map(ends.map((p) => [p.partition, BigInt(p.high)]));
      let follower: { stop(): Promise<void> } | undefined;
      let outcome: { error?: Error } | undefined;
      // Once the read is over and the follower handed back (in either order): stop it, then answer.
      const settle = () => {
        if (!outcome || !follower) return;
        const stopping = follower;
        follower = undefined;
        void stopping.stop().catch(() => undefined).then(() => (outcome!.error ? reject(outcome!.error) : resolveRead()));
      };
      const finish = (error?: Error) => {
        if (outcome) return;
        outcome = error ? { error } : {};
        clearTimeout(timer);
        settle();
      };
      const timer = setTimeout(() => finish(new ApiError(504, 'kafka_timeout', `reading the latest records of '${topic}' took over ${SAMPLE_READ_TIMEOUT_MS / 1000} s`)), SAMPLE_READ_TIMEOUT_MS);
      kafka.followTopic(topic, {
        groupPrefix: 'aerogrid.console-sample',
        from: ends.map((p) => {
          const start = BigInt(p.high) - BigInt(latest);
          return { partition: p.partition, offset: String(start > BigInt(p.low) ? start : BigInt(p.low)) };
        }),
        onMessages: (partition, messages) => {
          const list = read.get(partition) ?? [];
          for (const m of messages) {
            if (BigInt(m.offset) < high.get(partition)!) list.push({ key: m.key ? m.key.toString('utf8') : null, value: m.value ? m.value.toString('utf8') : null });
          }
          read.set(partition, list);
        },
        onPosition: (partition, next) => {
          if (next >= high.get(partition)!) done.add(partition);
          if (done.size === high.size) finish();
        },
        onCrash: (error) => finish(error),
      }).then((f) => { follower = f; settle(); }, (error: Error) => {
        outcome ??= { error };
        clearTimeout(timer);
        reject(error);
      });
    });
    // Partition by partition, in offset order; the latest N of them all.
    return { topic, records: [...read.keys()].sort((a, b) => a - b).flatMap((p) => read.get(p)!).slice(-latest) };
  } finally {
    await kafka.close();
  }
}
