// Talking to the directory of a running `aerogrid serve` as a client would: HTTP with an optional
// Bearer token, and the watch WebSocket.
import WebSocket from 'ws';
import { waitFor } from './wait.js';

export async function call(url: string, options: { token?: string; method?: string } = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(url, { method: options.method ?? 'GET', headers: options.token ? { authorization: `Bearer ${options.token}` } : {} });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

export interface Watcher {
  messages: any[];
  /** The first message from `from` on that matches; fails after timeoutMs. */
  next(what: string, match: (message: any) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<any>;
  send(message: unknown): void;
  /** Resolves with the close code. */
  closed: Promise<number>;
  close(): void;
}

export async function watch(base: string, auth?: { token?: string; first?: unknown }): Promise<Watcher> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/apps/watch`, 'aerogrid.directory.v1');
  const messages: any[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  if (auth?.first !== undefined) ws.send(JSON.stringify(auth.first));
  else if (auth?.token !== undefined) ws.send(JSON.stringify({ op: 'auth', token: auth.token }));
  return {
    messages,
    next: (what, match, options = {}) => waitFor(what, () => messages.slice(options.from ?? 0).find(match), options.timeoutMs ?? 60_000, 50),
    send: (message) => ws.send(JSON.stringify(message)),
    closed,
    close: () => ws.close(),
  };
}
