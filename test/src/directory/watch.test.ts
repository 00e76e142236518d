/**
 * The directory watch's connection rules, on a real WebSocket server with a real local issuer
 * whose JWKS answers slowly (so the token check is still running when the client acts). The
 * directory is a real one over an empty app source (no runner, no Kafka).
 */
import type net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLOSE_TOO_FAR_BEHIND, tooFarBehindReason } from '@aerogrid/protocol/client-messages';
import { DIRECTORY_PROTOCOL } from '@aerogrid/protocol/directory-messages';
import { createAccess, type Access } from '../../../src/directory/access.js';
import { startDirectory, type Directory } from '../../../src/directory/state.js';
import { acceptWatcher } from '../../../src/directory/watch.js';
import { startTestIssuer, type TestIssuer } from '../../helpers/oidc.js';
import { startSlowJwks } from '../../helpers/frontend.js';
import { watch } from '../../helpers/directory.js';

let issuer: TestIssuer;
let slow: Awaited<ReturnType<typeof startSlowJwks>>;
let access: Access;
let directory: Directory;
let server: WebSocketServer;
let base: string;
/** Watchers subscribed to the directory's events right now. */
let subscribed = 0;

beforeAll(async () => {
  issuer = await startTestIssuer();
  slow = await startSlowJwks(issuer, 500);
  access = createAccess({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: slow.url });
  const real = startDirectory({ apps: () => [], onChange: () => () => undefined });
  directory = {
    ...real,
    subscribe: (listener) => {
      subscribed += 1;
      const unsubscribe = real.subscribe(listener);
      return () => {
        subscribed -= 1;
        unsubscribe();
      };
    },
  };
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (ws) => acceptWatcher(ws, { directory, access }));
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  for (const client of server?.clients ?? []) client.terminate();
  await new Promise((resolve) => server?.close(resolve));
  directory?.close();
  access?.close();
  await slow?.close();
  await issuer?.close();
});

it('a watcher that leaves while its token is being checked never subscribes; one that stays does', async () => {
  const token = await issuer.token({ tenant: 'acme', roles: ['viewer'] });
  const leaving = await watch(base, { token });
  leaving.close();
  await leaving.closed;
  // Both checks wait for the same slow JWKS fetch; the leaver's ends first.
  const staying = await watch(base, { token });
  await staying.next('the apps', (m) => m.type === 'apps', { timeoutMs: 10_000 });
  expect(subscribed).toBe(1);
  staying.close();
  await staying.closed;
});

it('closes a watcher that floods messages while its token is being checked', async () => {
  slow.delay(1000);
  const access2 = createAccess({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: slow.url });
  const flood = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  flood.on('connection', (ws) => acceptWatcher(ws, { directory, access: access2 }));
  await new Promise<void>((resolve) => flood.once('listening', () => resolve()));
  try {
    const w = await watch(`http://127.0.0.1:${(flood.address() as net.AddressInfo).port}`, { token: await issuer.token({ tenant: 'acme', roles: ['viewer'] }) });
    for (let i = 0; i < 500; i++) w.send({ op: 'ping', id: i });
    expect(await w.closed).toBe(4401);
    expect(w.messages.at(-1)).toMatchObject({ type: 'error', code: 'unauthorized', message: expect.stringMatching(/too many messages/) });
  } finally {
    access2.close();
    await new Promise((resolve) => flood.close(resolve));
  }
});

it('drops a watcher that stops answering pings; one that answers stays', async () => {
  const open = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  open.on('connection', (ws) => acceptWatcher(ws, { directory, access: createAccess(undefined), keepaliveMs: 100 }));
  await new Promise<void>((resolve) => open.once('listening', () => resolve()));
  const openBase = `http://127.0.0.1:${(open.address() as net.AddressInfo).port}`;
  const silent = new WebSocket(`${openBase.replace(/^http/, 'ws')}/v1/apps/watch`, 'aerogrid.directory.v1', { autoPong: false });
  try {
    const silentClosed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
    const answering = await watch(openBase);
    await answering.next('the apps', (m) => m.type === 'apps');
    expect(await silentClosed).toBe(1006);
    answering.send({ op: 'ping', id: 'still-there' });
    expect(await answering.next('pong', (m) => m.type === 'pong', { timeoutMs: 5000 })).toEqual({ type: 'pong', id: 'still-there' });
    answering.close();
  } finally {
    silent.terminate();
    await new Promise((resolve) => open.close(resolve));
  }
});

it('closes a watcher that does not read, once over its backlog, with 4008 and a reason', async () => {
  const small = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  small.on('connection', (ws) => acceptWatcher(ws, { directory, access: createAccess(undefined), maxBacklogBytes: 64 * 1024 }));
  await new Promise<void>((resolve) => small.once('listening', () => resolve()));
  const url = `ws://127.0.0.1:${(small.address() as net.AddressInfo).port}/v1/apps/watch`;
  const ws = new WebSocket(url, DIRECTORY_PROTOCOL);
  try {
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
    // The watcher stops reading and keeps asking: pongs of 60 KiB ids pile up on the server.
    const socket = (ws as unknown as { _socket: net.Socket })._socket;
    socket.pause();
    const id = 'x'.repeat(60 * 1024);
    const over = () => [...small.clients].every((c) => c.readyState !== WebSocket.OPEN);
    for (let i = 0; i < 2000 && !over(); i++) {
      ws.send(JSON.stringify({ op: 'ping', id }));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(over()).toBe(true);
    // It reads again (within the 5 s the server keeps its queue): the close frame is there.
    socket.resume();
    const { code, reason } = await Promise.race([closed, new Promise<{ code: number; reason: string }>((resolve) => setTimeout(() => resolve({ code: -1, reason: 'no close within 15 s' }), 15_000))]);
    expect(code).toBe(CLOSE_TOO_FAR_BEHIND);
    expect(reason).toBe(tooFarBehindReason('over 64 KiB unsent to this watcher', 'read faster'));
  } finally {
    ws.terminate();
    for (const c of small.clients) c.terminate();
    await new Promise((resolve) => small.close(resolve));
  }
});
