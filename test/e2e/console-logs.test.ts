// An app's logs through the console API on a real `aerogrid serve --run local` (a real OIDC
// issuer, a real bare GitOps repo, real Kafka, the app's real sidecar and Python runtime): the
// lines of both containers or of one, a tail, a follow that streams what the app logs next, and
// who may read them; at most 4 follows per user, a slot freed when its client goes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LOG_FOLLOWS_PER_CALLER, MAX_LOG_TAIL } from '@aerogrid/protocol/console-api';
import { createKafkaClient } from '../../sidecar/src/kafka/client.js';
import type { CliProcess } from '../helpers/cli.js';
import { startConsoleServe } from '../helpers/console.js';
import { deployPrintingApp, follow, type Follow } from '../helpers/console-logs.js';
import { call } from '../helpers/directory.js';
import { stopServe } from '../helpers/gitops.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { testBroker, uniqueName, waitFor } from '../helpers/wait.js';

const lines = (text: string) => text.split('\n').filter(Boolean);

describe('an app\'s logs through the console API', () => {
  const broker = testBroker();
  const tenantA = uniqueName('clga').replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const tenantB = uniqueName('clgb').replace(/[^a-z0-9-]/g, '').slice(0, 30);
  const topic = uniqueName('clg-orders');
  const app = 'shop';
  const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-console-logs' });
  let issuer: TestIssuer;
  let serve: CliProcess;
  let base: string;
  const tokens = {} as Record<'viewerA' | 'developerA' | 'developerB', string>;
  const logsUrl = (query = '', tenant = tenantA, name = app) => `${base}/v1/apps/${tenant}/${name}/logs${query}`;
  const text = async (url: string, token?: string) => {
    const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };
  const opened: Follow[] = [];

  beforeAll(async () => {
    issuer = await startTestIssuer();
    tokens.viewerA = await issuer.token({ sub: 'vera', tenant: tenantA, roles: ['viewer'] });
    tokens.developerA = await issuer.token({ sub: 'dana', tenant: tenantA, roles: ['developer'] });
    tokens.developerB = await issuer.token({ sub: 'bob', tenant: tenantB, roles: ['developer'] });
    await kafka.ensureTopic(topic, { partitions: 1 });
    ({ serve, base } = await startConsoleServe('clg', [tenantA, tenantB], topic, { issuer }));
    await deployPrintingApp(base, tokens.developerA, tenantA, app, topic);
    // A good order (the runtime prints it) and a bad one (the sidecar dead-letters it, saying why).
    await kafka.produce(topic, [{ key: 'o-1', value: '{"product": "tea", "quantity": 4}' }, { key: 'o-2', value: '{"product": "tea", "quantity": "many"}' }]);
    await waitFor('both orders in the logs', async () => {
      const logs = (await text(logsUrl(), tokens.viewerA)).text;
      return logs.includes('rejected record') && logs.includes('summing order o-1');
    }, 60_000, 250);
  }, 180_000);

  afterAll(async () => {
    for (const f of opened) f.close();
    await stopServe(serve);
    await issuer?.close();
    await kafka.close();
  });

  it('a viewer reads the last lines of both containers, each with its prefix, as text', async () => {
    const r = await text(logsUrl(), tokens.viewerA);
    expect(r.status).toBe(200);
    expect(r.type).toBe('text/plain; charset=utf-8');
    const all = lines(r.text);
    expect(all.some((l) => l.startsWith('[runtime] summing order o-1: 4 x tea'))).toBe(true);
    expect(all.some((l) => l.startsWith('[sidecar] ') && l.includes('rejected record') && l.includes("'quantity'"))).toBe(true);
    // Every line says where it came from.
    expect(all.filter((l) => !/^\[(sidecar|runtime|serve)\] /.test(l))).toEqual([]);
  });

  it('container=runtime gives only the runtime\'s lines; tail=N the last N', async () => {
    const runtime = lines((await text(logsUrl('?container=runtime'), tokens.viewerA)).text);
    expect(runtime.length).toBeGreaterThan(0);
    expect(runtime.filter((l) => !l.startsWith('[runtime] '))).toEqual([]);
    expect(runtime.some((l) => l.includes('summing order o-1'))).toBe(true);
    const sidecar = lines((await text(logsUrl('?container=sidecar'), tokens.viewerA)).text);
    expect(sidecar.filter((l) => !l.startsWith('[sidecar] '))).toEqual([]);
    const all = lines((await text(logsUrl(), tokens.viewerA)).text);
    expect(all.length).toBeGreaterThan(2);
    expect(lines((await text(logsUrl('?tail=2'), tokens.viewerA)).text)).toEqual(all.slice(-2));
  });

  it('refuses a bad tail or container with the fix; 404 for a missing app and for another tenant\'s; 401 without a token', async () => {
    for (const tail of ['lots', String(MAX_LOG_TAIL + 1)]) {
      const r = await call(logsUrl(`?tail=${tail}`), { token: tokens.viewerA });
      expect(r.status, tail).toBe(400);
      expect(r.body.error.message).toBe(`tail must be a whole number of lines from 0 to ${MAX_LOG_TAIL}, not '${tail}'`);
      expect(r.body.error.fix).toBe(`ask for at most ${MAX_LOG_TAIL}, e.g. ?tail=200 (the default)`);
    }
    expect((await call(logsUrl('?container=python'), { token: tokens.viewerA })).body.error.message).toBe("container must be sidecar or runtime, not 'python'");
    expect(await call(logsUrl('', tenantA, 'nope'), { token: tokens.viewerA })).toMatchObject({ status: 404, body: { error: { message: `no app '${tenantA}/nope'` } } });
    // Another tenant's app looks missing, whatever the caller's role; so does its follow.
    expect(await call(logsUrl(), { token: tokens.developerB })).toMatchObject({ status: 404, body: { error: { code: 'not_found', message: `no app '${tenantA}/${app}'` } } });
    expect((await follow(logsUrl('?follow=1'), tokens.developerB)).status).toBe(404);
    // The name rules before anything else.
    expect((await call(logsUrl('', tenantA, 'Bad_Name'), { token: tokens.viewerA })).status).toBe(422);
    expect((await call(logsUrl())).status).toBe(401);
  });

  it('HEAD answers as GET would, without a body, and the server goes on', async () => {
    const head = await fetch(logsUrl('?follow=1'), { method: 'HEAD', headers: { authorization: `Bearer ${tokens.viewerA}` } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect((await fetch(logsUrl('', tenantA, 'nope'), { method: 'HEAD', headers: { authorization: `Bearer ${tokens.viewerA}` } })).status).toBe(404);
    expect((await text(logsUrl(), tokens.viewerA)).status).toBe(200);
  });

  it('follow=1 gives the last lines, then what the app logs next, as it logs it', async () => {
    const f = await follow(logsUrl('?follow=1&tail=5'), tokens.viewerA);
    opened.push(f);
    expect(f.status).toBe(200);
    await waitFor('the last lines', () => lines(f.text()).length === 5, 10_000);
    await kafka.produce(topic, [{ key: 'o-3', value: '{"product": "cake", "quantity": 2}' }]);
    await waitFor('the new order\'s line, streamed', () => f.text().includes('[runtime] summing order o-3: 2 x cake'), 30_000);
    const sidecarOnly = await follow(logsUrl('?follow=1&tail=0&container=sidecar'), tokens.viewerA);
    opened.push(sidecarOnly);
    await kafka.produce(topic, [{ key: 'o-4', value: 'not json' }, { key: 'o-5', value: '{"product": "cake", "quantity": 1}' }]);
    await waitFor('the sidecar\'s line of the bad record', () => /\[sidecar\] .*rejected record/.test(sidecarOnly.text()), 30_000);
    await waitFor('the good record in the first follow', () => f.text().includes('summing order o-5'), 30_000);
    expect(sidecarOnly.text()).not.toContain('summing order');
    expect(f.ended()).toBe(false);
    f.close();
    sidecarOnly.close();
  });

  it(`a user holds at most ${MAX_LOG_FOLLOWS_PER_CALLER} follows: the next is 429 until one closes; another user is not held back`, async () => {
    // The slots of the follows closed before are free again once their requests have ended.
    const four = await waitFor('4 follows', async () => {
      const fs = await Promise.all(Array.from({ length: MAX_LOG_FOLLOWS_PER_CALLER }, () => follow(logsUrl('?follow=1&tail=0'), tokens.viewerA)));
      opened.push(...fs);
      if (fs.every((f) => f.status === 200)) return fs;
      for (const f of fs) f.close();
      return undefined;
    }, 10_000, 200);
    const fifth = await follow(logsUrl('?follow=1'), tokens.viewerA);
    expect(fifth.status).toBe(429);
    expect(fifth.error).toMatchObject({ code: 'busy', message: `you already follow ${MAX_LOG_FOLLOWS_PER_CALLER} logs, the most one user may follow at once` });
    expect(fifth.error?.fix).toContain('close a logs panel');
    // Someone else of the tenant may still follow; a whole read is never counted.
    const other = await follow(logsUrl('?follow=1&tail=0'), tokens.developerA);
    opened.push(other);
    expect(other.status).toBe(200);
    expect((await text(logsUrl(), tokens.viewerA)).status).toBe(200);
    // One closed by its client: its slot is the server's again.
    four[0]!.close();
    const again = await waitFor('a follow after one closed', async () => {
      const f = await follow(logsUrl('?follow=1&tail=0'), tokens.viewerA);
      opened.push(f);
      return f.status === 200 ? f : undefined;
    }, 10_000, 200);
    expect(again.status).toBe(200);
    expect((await follow(logsUrl('?follow=1'), tokens.viewerA)).status).toBe(429);
    for (const f of [...four, again, other]) f.close();
  });
});
