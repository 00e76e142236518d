/** Polls fn until it returns something truthy; fails with `what` and the last value after timeoutMs. */
export async function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 30_000, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function getJson<T = any>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

export function testBroker(): string {
  const broker = process.env.AEROGRID_TEST_BROKER;
  if (!broker) throw new Error('AEROGRID_TEST_BROKER is not set: run the suite through vitest (its global setup starts Kafka).');
  return broker;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}
