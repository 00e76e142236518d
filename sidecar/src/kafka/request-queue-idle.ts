/**
 * A workaround for kafkajs 2.2.4's request queue, which keeps a timer loop running on every broker
 * connection while nothing waits to be sent (kafkajs issue #1556; the fix, PR #1667, is not
 * released): `scheduleCheckPendingRequests` arms `setTimeout(check, throttledUntil - now)` even
 * when no request is pending and the connection is not throttled, where that delay is negative,
 * so the check runs again at once, forever. An idle sidecar woke about 800 times a second for it.
 *
 * The queue only needs the timer while requests are pending (to send them when the in-flight
 * limit or a throttle allows); a request that finds the queue empty and sendable goes at once,
 * and one that is queued arms the timer itself (`push`). So with nothing pending the timer is not
 * armed. Loaded by kafka/client.ts before any connection exists. The queue is imported, not
 * required at run time, so that it is the very module the client uses also where the sidecar is
 * bundled (sidecar/bundle.mjs: a run-time require would patch node_modules' copy instead). If a
 * later kafkajs renames the queue's method, the workaround does nothing (and its test says so).
 */
// @ts-expect-error kafkajs declares no types for its internal modules
import RequestQueueModule from 'kafkajs/src/network/requestQueue/index.js';

interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

function patch(): boolean {
  const queue = RequestQueueModule as { prototype?: RequestQueue } | undefined;
  if (!queue?.prototype) return false;
  const original = queue.prototype.scheduleCheckPendingRequests;
  if (typeof original !== 'function') return false;
  queue.prototype.scheduleCheckPendingRequests = function (this: RequestQueue) {
    if (this.pending.length === 0 && !(this.throttledUntil > Date.now())) return;
    original.call(this);
  };
  return true;
}

/** Whether the workaround is in place. */
export const requestQueueIdleFixed = patch();
