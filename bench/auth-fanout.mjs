#!/usr/bin/env node
// What auth costs the WebSocket fan-out: the fan-out of datapath.mjs (200 clients on a 1,000-row
// grid, ticks at 5,000/s, real Kafka, sidecars and runtimes) with auth off and with auth on (each
// client sends its own ES256-signed token first, verified against a local issuer's JWKS).
// Both sidecars run side by side on the same topic, so they are measured under the same load:
//   connections/s  connect + auth + subscribe until every snapshot is in; 3 rounds alternating
//                  off/on, the median of each
//   messages/s     200 clients on each sidecar at once, over the same stream of ticks
// Goal: auth costs under 5% of steady-state message throughput.
// Usage: node bench/auth-fanout.mjs   (BENCH_SECONDS, default 20: the steady-state window)
import http from 'node:http';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { connectClients, emit, fillGrid, log, percentile, root, sleep, steadyState, withLatestApp } from './lib/fanout.mjs';

const { kafkaUp } = await import(join(root, 'dist/local-kafka/broker.js'));
const { GridClient } = await import(join(root, 'test/helpers/grid-client.mjs'));
const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));

const BENCH_PORT = 19292;
const clients = 200;
const rate = 5000;
const keys = 1000;
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const rounds = 3;
const tenant = `benchauth-${Date.now().toString(36)}`;

/** A local OIDC issuer: discovery + JWKS on 127.0.0.1, one ES256 key. */
async function startIssuer() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256', use: 'sig' }] });
  let base = '';
  const server = http.createServer((req, res) => {
    const body = req.url === '/.well-known/openid-configuration' ? JSON.stringify({ issuer: `${base}/`, jwks_uri: `${base}/jwks.json` })
      : req.url === '/jwks.json' ? jwks : null;
    if (body === null) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  const auth = { issuer: `${base}/`, audience: 'https://bench.aerogrid.test' };
  const token = (sub) => new SignJWT({ tenant, roles: ['viewer'] })
    .setProtectedHeader({ alg: 'ES256', kid: 'bench' }).setSubject(sub).setIssuer(auth.issuer).setAudience(auth.audience)
    .setIssuedAt().setExpirationTime('30m').sign(privateKey);
  return { auth, token, close: () => new Promise((resolve) => server.close(resolve)) };
}

const broker = (await kafkaUp({ port: BENCH_PORT, onProgress: log })).bootstrap;
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench-auth' });
const issuer = await startIssuer();
try {
  const tokens = await Promise.all(Array.from({ length: clients }, (_, i) => issuer.token(`user-${i}`)));
  const topic = `bench-auth-fanout-${Date.now().toString(36)}`;
  const modes = {
    off: { options: { tenant: `benchopen-${Date.now().toString(36)}` }, headers: {}, open: (url) => GridClient.connect(url) },
    on: {
      options: { tenant, auth: issuer.auth },
      headers: { authorization: `Bearer ${tokens[0]}` },
      open: async (url, i) => {
        const client = await GridClient.connect(url);
        client.send({ op: 'auth', token: tokens[i] });
        return client;
      },
    },
  };
  await withLatestApp({ kafka, broker, topic, options: modes.off.options }, (off) =>
    withLatestApp({ kafka, broker, topic, options: modes.on.options }, async (on) => {
      modes.off.connector = off;
      modes.on.connector = on;
      await fillGrid(broker, topic, keys);
      await sleep(2000);
      log(`auth-fanout: connections, ${rounds} rounds of ${clients} clients per mode...`);
      const rates = { off: [], on: [] };
      const connected = {};
      for (let round = 0; round < rounds; round++) {
        for (const mode of ['off', 'on']) {
          const c = await connectClients(modes[mode].connector.url, { clients, open: modes[mode].open });
          rates[mode].push(clients / c.connectSeconds);
          if (round < rounds - 1) await c.close();
          else connected[mode] = c;
        }
      }
      await sleep(2000);
      log(`auth-fanout: steady state, ${clients} clients on each sidecar, ${rate} updates/s for ${seconds} s...`);
      const [offResult, onResult] = await steadyState(
        ['off', 'on'].map((mode) => ({ connector: modes[mode].connector, headers: modes[mode].headers, ...connected[mode] })),
        { broker, topic, rate, seconds, keys },
      );
      await Promise.all([connected.off.close(), connected.on.close()]);
      const median = (list) => Math.round(percentile([...list].sort((a, b) => a - b), 50));
      const results = { off: { ...offResult, connections_per_s: median(rates.off) }, on: { ...onResult, connections_per_s: median(rates.on) } };
      for (const mode of ['off', 'on']) {
        emit({ bench: 'auth-fanout.run', auth: mode, connections_per_s_rounds: rates[mode].map(Math.round), ...results[mode] });
      }
      const cost = (o, n) => Math.round(((o - n) / o) * 1000) / 10;
      emit({
        bench: 'auth-fanout',
        clients, grid_rows: keys, seconds,
        connections_per_s: { off: results.off.connections_per_s, on: results.on.connections_per_s },
        messages_per_s: { off: results.off.messages_per_s, on: results.on.messages_per_s },
        sidecar_cpu_percent: { off: results.off.sidecar_cpu_percent, on: results.on.sidecar_cpu_percent },
        auth_cost_percent_of_messages_per_s: cost(results.off.messages_per_s, results.on.messages_per_s),
        auth_cost_percent_of_connections_per_s: cost(results.off.connections_per_s, results.on.connections_per_s),
        goal_auth_cost_percent_of_messages_per_s: 5,
      });
    }));
} finally {
  await issuer.close();
  await kafka.close();
}
