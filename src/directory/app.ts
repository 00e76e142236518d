// One app as the directory shows it (docs/protocol.md "Directory"): the desired state from the
// GitOps repo beside the live state from the local runner and the sidecar's /readyz.
import type { DesiredLocalApp } from '../runner/desired.js';
import type { LiveLocalApp } from '../runner/local-runner.js';
import type { ReadyProbe } from '../live/local-state.js';

import type { DirectoryApp, DirectoryAppStatus as AppStatus } from '@aerogrid/protocol/directory-messages';

export type { DirectoryApp, AppStatus };

/** The live part of an app, from the sidecar's state names (docs/protocol.md §2). */
function fromProbe(probe: ReadyProbe | undefined): Pick<DirectoryApp, 'status' | 'message' | 'stale_since' | 'ready'> {
  if (!probe) return { status: 'starting', message: 'waiting for the sidecar to answer', stale_since: null, ready: false };
  const message = probe.message ?? null;
  const stale_since = probe.staleSince ?? null;
  if (!probe.state) return { status: 'failing', message, stale_since, ready: false };
  if (probe.state === 'failing') return { status: 'failing', message, stale_since, ready: probe.ready };
  if (probe.state === 'running') return { status: stale_since ? 'stale' : 'running', message, stale_since, ready: probe.ready };
  // Another instance of the app is its writer; this one follows it (docs/protocol.md §1).
  if (probe.state === 'standby') return { status: 'standby', message, stale_since, ready: false };
  // starting (restoring, joining) and waiting (no runtime yet, a topic missing, Kafka unreachable).
  return { status: 'starting', message, stale_since, ready: probe.ready };
}

/**
 * The sidecar URL without its trailing slash, and its WebSocket; a wildcard host becomes `host`.
 * A path is kept: in a cluster the URL is the app's route, https://<platform host>/apps/<tenant>/<app>.
 */
export function sidecarUrls(url: string, host?: string): { url: string; ws: string } {
  const parsed = new URL(url);
  if (host && (parsed.hostname === '0.0.0.0' || parsed.hostname === '[::]')) parsed.hostname = host;
  const base = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
  return { url: base, ws: `${base.replace(/^http/, 'ws')}/v1/ws` };
}

/** The app as a client reaching the directory at `host` should see it (see sidecarUrls). */
export function forClient(app: DirectoryApp, host: string | undefined): DirectoryApp {
  return app.url && host ? { ...app, ...sidecarUrls(app.url, host) } : app;
}

export function directoryApp(live: LiveLocalApp, probe: ReadyProbe | undefined): DirectoryApp {
  const { desired, state } = live;
  const wanted = wantedState(desired);
  const off = { status: 'stopped' as AppStatus, message: null as string | null, stale_since: null, ready: false, url: null, ws: null };
  const now =
    desired.problem ? { ...off, status: 'failing' as const, message: desired.problem }
    : !state ? { ...off, status: wanted === 'running' ? 'starting' as const : 'stopped' as const }
    : state.phase === 'failed' ? { ...off, status: 'failing' as const, message: state.message ?? null }
    : state.phase === 'stopped' ? off
    : state.phase === 'starting' || !state.url ? { ...off, status: 'starting' as const }
    // Shutting down: no longer a sidecar to use.
    : probe?.state === 'stopping' ? { ...off, message: probe.message ?? null }
    : { ...fromProbe(probe), ...sidecarUrls(state.url) };
  return appEntry(desired, now);
}

/** What the app should be, from its replicas in the GitOps repo. */
export function wantedState(desired: DesiredLocalApp): DirectoryApp['desired'] {
  return desired.replicas > 0 ? 'running' : 'stopped';
}

/** The live part of an entry: what the local runner or the cluster sees of the app. */
export type LiveEntry = Pick<DirectoryApp, 'status' | 'message' | 'stale_since' | 'ready' | 'url' | 'ws'>;

/** The directory's entry for an app, locally or in a cluster, from its desired state and its live part. */
export function appEntry(desired: DesiredLocalApp, now: LiveEntry): DirectoryApp {
  // Always the same key order, so the JSON of an unchanged app is the same string.
  return {
    name: desired.app,
    tenant: desired.tenant,
    desired: wantedState(desired),
    status: now.status,
    message: now.message,
    stale_since: now.stale_since,
    ready: now.ready,
    grids: desired.grids.map((g) => ({ name: g.name, columns: [...g.columns] })),
    url: now.url,
    ws: now.ws,
    revision: desired.commit,
  };
}
