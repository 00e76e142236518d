#!/usr/bin/env node
// What auth costs the WebSocket fan-out: the fan-out of datapath.mjs (200 clients on a 1,000-row
// grid at 5,000 updates/s, real Kafka, sidecar and runtime) once with auth off and once with auth
// on (each client sends its own ES256-signed token first, verified against a local issuer's
// JWKS), in the same run. Reports connections per second (connect + auth + subscribe until every
// snapshot is in) and messages per second; goal: auth costs under 5% of steady-state throughput.
// Usage: node bench/auth-fanout.mjs   (BENCH_SECONDS, default 20, per run)
import http from 'node:http';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { emit, log, measureFanout, root, withLatestApp } from './lib/fanout.mjs';

const { kafkaUp } = await import(join(root, 'dist/kafka/broker.js'));
const { GridClient } = await import(join(root, 'dist/client/grid-client.js'));
const { createKafkaClient } = await import(join(root, 'sidecar/dist/kafka/client.js'));

const BENCH_PORT = 19292;
const clients = 200;
const rate = 5000;
const keys = 1000;
const seconds = Number(process.env.BENCH_SECONDS ?? 20);

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
  const token = (sub) => new SignJWT({ tenant: 'default', roles: ['viewer'] })
    .setProtectedHeader({ alg: 'ES256', kid: 'bench' }).setSubject(sub).setIssuer(auth.issuer).setAudience(auth.audience)
    .setIssuedAt().setExpirationTime('30m').sign(privateKey);
  return { auth, token, close: () => new Promise((resolve) => server.close(resolve)) };
}

const broker = (await kafkaUp({ port: BENCH_PORT, onProgress: log })).bootstrap;
const kafka = createKafkaClient({ brokers: [broker], clientId: 'bench-auth' });
const issuer = await startIssuer();
try {
  const tokens = await Promise.all(Array.from({ length: clients }, (_, i) => issuer.token(`user-${i}`)));
  const results = {};
  for (const mode of ['off', 'on']) {
    log(`auth-fanout: auth ${mode}: ${clients} clients, ${keys}-row grid, ${rate} updates/s for ${seconds} s...`);
    const topic = `bench-auth-fanout-${mode}-${Date.now().toString(36)}`;
    const on = mode === 'on';
    results[mode] = await withLatestApp({ kafka, broker, topic, options: on ? { auth: issuer.auth } : {} }, (connector) =>
      measureFanout(connector, {
        broker, topic, clients, rate, seconds, keys,
        headers: on ? { authorization: `Bearer ${tokens[0]}` } : {},
        open: async (url, i) => {
          const client = await GridClient.connect(url);
          if (on) client.send({ op: 'auth', token: tokens[i] });
          return client;
        },
      }));
    emit({ bench: 'auth-fanout.run', auth: mode, ...results[mode] });
  }
  const cost = (off, on) => Math.round(((off - on) / off) * 1000) / 10;
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
} finally {
  await issuer.close();
  await kafka.close();
}
