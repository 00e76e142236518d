/**
 * An idle sidecar sleeps (docs/protocol.md §2 "conflated"): the front end's timers run only while
 * there is something to send, so that many idle apps on one machine cost no wake-ups. The front
 * end runs in a process of its own (test/fixtures/idle-frontend), whose main thread's wake-ups
 * (voluntary context switches, /proc) the test counts while nothing happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/paths.js';
import { WsClient, wsUrl } from '../../helpers/sidecar.js';

let child: ChildProcess | null = null;

afterEach(() => {
  child?.kill('SIGKILL');
  child = null;
});

async function startFrontendProcess(): Promise<{ url: string; pid: number; change(): void }> {
  const c = spawn(process.execPath, [join(packageRoot, 'test', 'fixtures', 'idle-frontend', 'serve.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  child = c;
  const line = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: c.stdout! }).once('line', resolve)),
    sleep(15_000).then(() => {
      throw new Error('the front end did not start within 15 s');
    }),
  ]);
  return { url: (JSON.parse(line) as { url: string }).url, pid: c.pid!, change: () => c.stdin!.write('\n') };
}

/** How many times the main thread of `pid` went to sleep and woke up (voluntary context switches). */
function wakeups(pid: number): number {
  return Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8'))![1]);
}

async function wakeupsOver(pid: number, ms: number): Promise<number> {
  const before = wakeups(pid);
  await sleep(ms);
  return wakeups(pid) - before;
}

describe.runIf(process.platform === 'linux')('an idle front end', () => {
  it('does not wake up every few ms: with no client, and after a client of a grid went away', async () => {
    const fe = await startFrontendProcess();
    await sleep(500);
    // A timer every 10 ms alone would be 500 wake-ups in 5 s.
    const none = await wakeupsOver(fe.pid, 5000);
    expect(none, `${none} wake-ups in 5 s with no client`).toBeLessThan(100);

    const c = await WsClient.open(wsUrl(fe.url));
    const snap = await c.request({ op: 'subscribe', id: 's', grid: 'product_sum' });
    fe.change();
    expect((await c.next('delta')).seq).toBeGreaterThan(snap.seq);
    // A client whose grid does not change: nothing to send, nothing to wake for.
    await sleep(500);
    const quiet = await wakeupsOver(fe.pid, 5000);
    expect(quiet, `${quiet} wake-ups in 5 s with a client of a grid that does not change`).toBeLessThan(100);
    c.close();
    await c.closed;
    await sleep(500);
    const gone = await wakeupsOver(fe.pid, 5000);
    expect(gone, `${gone} wake-ups in 5 s after the client went`).toBeLessThan(100);

    // And it still sends: a new client gets its deltas.
    const d = await WsClient.open(wsUrl(fe.url));
    const again = await d.request({ op: 'subscribe', id: 's', grid: 'product_sum' });
    fe.change();
    expect((await d.next('delta')).seq).toBeGreaterThan(again.seq);
    d.close();
  }, 60_000);
});
