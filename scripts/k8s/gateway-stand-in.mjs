#!/usr/bin/env node
// STAND-IN for a Gateway API controller (Istio, Envoy Gateway, ...), which cannot run here: it
// only marks every Gateway Accepted/Programmed and every HTTPRoute Accepted/ResolvedRefs for
// its current generation, as a real controller does once it has programmed them, so that Argo
// CD's health checks for them can pass. Nothing is routed. Runs inside the control plane's
// network namespace (start.sh); talks to the API server with the admin client certificate.
//   gateway-stand-in.mjs <state-dir>
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const state = process.argv[2];
const pki = join(state, 'pki');
const agent = new https.Agent({ ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')), keepAlive: true });
const CONTROLLER = 'aerogrid.dev/gateway-stand-in';

function api(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: 6443, path, method, agent, headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/merge-patch+json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => (res.statusCode < 300 ? resolve(JSON.parse(text)) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`))));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

const condition = (type, generation) => ({ type, status: 'True', reason: type, message: `set by ${CONTROLLER} (a test stand-in: nothing is routed)`, lastTransitionTime: new Date().toISOString(), observedGeneration: generation });
const observed = (conditions, generation) => (conditions ?? []).length > 0 && conditions.every((c) => c.observedGeneration === generation);

async function once() {
  const group = '/apis/gateway.networking.k8s.io/v1';
  for (const gw of (await api('GET', `${group}/gateways`)).items) {
    const g = gw.metadata.generation;
    if (observed(gw.status?.conditions, g) && gw.status.conditions.some((c) => c.type === 'Programmed')) continue;
    const listeners = (gw.spec.listeners ?? []).map((l) => ({ name: l.name, attachedRoutes: 0, supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }], conditions: [condition('Accepted', g), condition('Programmed', g), condition('ResolvedRefs', g)] }));
    await api('PATCH', `${group}/namespaces/${gw.metadata.namespace}/gateways/${gw.metadata.name}/status`, { status: { conditions: [condition('Accepted', g), condition('Programmed', g)], listeners } });
  }
  for (const route of (await api('GET', `${group}/httproutes`)).items) {
    const g = route.metadata.generation;
    if ((route.status?.parents ?? []).length > 0 && route.status.parents.every((p) => observed(p.conditions, g))) continue;
    const parents = (route.spec.parentRefs ?? []).map((parentRef) => ({ parentRef, controllerName: CONTROLLER, conditions: [condition('Accepted', g), condition('ResolvedRefs', g)] }));
    await api('PATCH', `${group}/namespaces/${route.metadata.namespace}/httproutes/${route.metadata.name}/status`, { status: { parents } });
  }
}

let lastError = '';
for (;;) {
  try {
    await once();
    lastError = '';
  } catch (error) {
    if (error.message !== lastError) console.error(`[gateway-stand-in] ${error.message}`);
    lastError = error.message;
  }
  await new Promise((r) => setTimeout(r, 1000));
}
