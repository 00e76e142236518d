// Which sidecar the local runner starts (src/paths.ts): the one-module bundle that setup makes
// (less memory per app), and, in a checkout, the build's main.js as soon as `tsc -b` has rebuilt
// the sidecar or the contract package after the bundle, so that a change is never run stale.
import { spawnSync } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sidecarMainPath } from '../../../src/paths.js';
import { SIDECAR_ENV, SIDECAR_NODE_FLAGS, withoutUnusedCaCerts } from '../../../src/runner/connector.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bundle = join(root, 'sidecar', 'dist', 'bundle', 'main.js');
const main = join(root, 'sidecar', 'dist', 'main.js');

/** Runs fn with `file` dated after the bundle, then puts its time back. */
function newerThanBundle(file: string, fn: () => void): void {
  const before = statSync(file);
  const later = new Date(statSync(bundle).mtimeMs + 60_000);
  utimesSync(file, later, later);
  try {
    fn();
  } finally {
    utimesSync(file, before.atime, before.mtime);
  }
}

describe('the sidecar the runner starts', () => {
  it('is the bundle, which runs on its own', () => {
    expect(sidecarMainPath()).toBe(bundle);
    const help = spawnSync(process.execPath, [bundle, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--broker/);
  });

  it('runs with the Node flags and environment the runner gives it (a flag Node refuses would stop every app)', () => {
    const help = spawnSync(process.execPath, [...SIDECAR_NODE_FLAGS, bundle, '--help'], { encoding: 'utf8', env: { ...process.env, ...SIDECAR_ENV } });
    expect(help.stderr).toBe('');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--broker/);
  });

  it('is the build once a sidecar module or the contract package was rebuilt after the bundle', () => {
    newerThanBundle(join(root, 'sidecar', 'dist', 'http', 'fanout.js'), () => expect(sidecarMainPath()).toBe(main));
    newerThanBundle(join(root, 'protocol', 'dist', 'index.js'), () => expect(sidecarMainPath()).toBe(main));
    expect(sidecarMainPath()).toBe(bundle);
  });
});

describe("the sidecar's extra CA certificates", () => {
  const cas = { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', AEROGRID_BROKER: '127.0.0.1:9092' };

  it('are left out when the sidecar opens no TLS connection (Node would load them all at start)', () => {
    expect(withoutUnusedCaCerts(cas)).toEqual({ AEROGRID_BROKER: '127.0.0.1:9092' });
    expect(withoutUnusedCaCerts({ ...cas, AEROGRID_KAFKA_TLS: 'false' })).not.toHaveProperty('NODE_EXTRA_CA_CERTS');
    expect(withoutUnusedCaCerts({ ...cas, AEROGRID_KAFKA_TLS: '0' })).not.toHaveProperty('NODE_EXTRA_CA_CERTS');
  });

  it('are kept for TLS to the brokers or to the OIDC issuer, which may need a private CA', () => {
    expect(withoutUnusedCaCerts({ ...cas, AEROGRID_KAFKA_TLS: 'true' })).toMatchObject(cas);
    expect(withoutUnusedCaCerts({ ...cas, AEROGRID_KAFKA_TLS: 'TRUE' })).toMatchObject(cas);
    expect(withoutUnusedCaCerts({ ...cas, AEROGRID_OIDC_ISSUER: 'https://id.example.com/' })).toMatchObject(cas);
    expect(withoutUnusedCaCerts({ ...cas, AEROGRID_JWKS_URI: 'https://id.example.com/jwks' })).toMatchObject(cas);
  });
});
