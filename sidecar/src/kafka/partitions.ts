/** The one key of a topic partition in every map of the sidecar's per-partition state. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
