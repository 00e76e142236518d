// The console's logs endpoint as its clients use it: an app deployed through the console API that
// prints a line per order it sums (its runtime's log), and a follow=1 request read as it streams.
import { expect } from 'vitest';
import { call } from './directory.js';
import { waitFor } from './wait.js';

const auth = (token?: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

/** Deploys the orders-sum app `name` of `tenant` with a print per order, and waits until it is ready. */
export async function deployPrintingApp(base: string, token: string, tenant: string, name: string, topic: string): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(token) }, body: JSON.stringify(body) });
    return { status: response.status, body: await response.json() };
  };
  const draft = await post('/v1/drafts', { template: 'orders-sum', name, tenant, topics: [topic] });
  expect(draft.status, JSON.stringify(draft.body)).toBe(200);
  const files = draft.body.files as Record<string, string>;
  const printing = files['app.py']!.replace(
    '    async for order_id, order in orders.items():\n',
    "    async for order_id, order in orders.items():\n        print(f'summing order {order_id}: {order.quantity} x {order.product}')\n",
  );
  expect(printing).not.toBe(files['app.py']);
  const deployed = await post(`/v1/apps/${tenant}/${name}/deploy`, { files: { ...files, 'app.py': printing } });
  expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
  await waitFor(`${tenant}/${name} ready`, async () => (await call(`${base}/v1/apps/${tenant}/${name}`, { token })).body?.ready === true, 90_000, 250);
}

export interface Follow {
  status: number;
  /** What the stream has given so far. */
  text(): string;
  /** The error body when refused. */
  error: { code: string; message: string; fix?: string } | undefined;
  /** Whether the server ended the stream. */
  ended(): boolean;
  close(): void;
}

/** GET <url> (with follow=1 in it), reading the body as it streams. */
export async function follow(url: string, token?: string): Promise<Follow> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: auth(token), signal: controller.signal });
  let text = '';
  let ended = false;
  if (!response.ok) {
    const body = await response.json();
    return { status: response.status, text: () => '', error: body.error, ended: () => true, close: () => undefined };
  }
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body!) text += decoder.decode(chunk as Uint8Array, { stream: true });
      ended = true;
    } catch {
      // aborted by close()
    }
  })();
  return { status: response.status, text: () => text, error: undefined, ended: () => ended, close: () => controller.abort() };
}
