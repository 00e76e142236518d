// The directory's picture of the apps: the local runner's view of the GitOps repo and of what it
// runs, plus each running sidecar's /readyz polled every probeMs (the probe stays open when the
// sidecars require tokens). Every change becomes an event for the watchers.
import type { LiveLocalApp } from '../runner/local-runner.js';
import { probeReady, type ReadyProbe } from '../live/local-state.js';
import { directoryApp, type DirectoryApp } from './app.js';

/** What the directory needs of the local runner. */
export interface AppSource {
  apps(): LiveLocalApp[];
  onChange(listener: () => void): () => void;
}

export type { DirectoryEvent } from '@aerogrid/protocol/directory-messages';
import type { DirectoryEvent } from '@aerogrid/protocol/directory-messages';

export interface Directory {
  list(): DirectoryApp[];
  get(tenant: string, name: string): DirectoryApp | undefined;
  /** Calls listener with every event; returns the unsubscribe. */
  subscribe(listener: (event: DirectoryEvent) => void): () => void;
  close(): void;
}

const keyOf = (tenant: string, name: string) => `${tenant}/${name}`;

export interface DirectoryOptions {
  probeMs?: number;
  log?: (line: string) => void;
  /** How an app of the source shows (default: the local runner's view with its sidecar's probe). */
  toApp?: (item: LiveLocalApp) => DirectoryApp;
}

export function startDirectory(source: AppSource, options: DirectoryOptions = {}): Directory {
  const probeMs = options.probeMs ?? 500;
  const apps = new Map<string, { app: DirectoryApp; json: string }>();
  // The last answer of each sidecar, by its URL: a restarted app's new sidecar starts unprobed.
  const probes = new Map<string, ReadyProbe>();
  const probing = new Set<string>();
  const listeners = new Set<(event: DirectoryEvent) => void>();
  let closed = false;

  const emit = (event: DirectoryEvent) => {
    for (const listener of listeners) {
      try { listener(event); } catch (error) { options.log?.(`[directory] a watcher failed: ${(error as Error).message}`); }
    }
  };

  const refresh = () => {
    if (closed) return;
    const seen = new Set<string>();
    const live = source.apps();
    for (const item of live) {
      const app = options.toApp ? options.toApp(item) : directoryApp(item, item.state?.url ? probes.get(item.state.url) : undefined);
      const key = keyOf(app.tenant, app.name);
      seen.add(key);
      const json = JSON.stringify(app);
      const before = apps.get(key);
      if (before?.json === json) continue;
      apps.set(key, { app, json });
      emit({ type: 'app', app });
      if (app.ready && !before?.app.ready) emit({ type: 'ready', app });
    }
    for (const [key, { app }] of apps) {
      if (seen.has(key)) continue;
      apps.delete(key);
      emit({ type: 'removed', tenant: app.tenant, name: app.name });
    }
    // Forget the answers of sidecars that no longer run.
    const urls = new Set(live.map((item) => item.state?.url).filter((u): u is string => !!u));
    for (const url of probes.keys()) if (!urls.has(url)) probes.delete(url);
  };

  const probeAll = () => {
    for (const item of source.apps()) {
      const url = item.state?.phase === 'running' ? item.state.url : undefined;
      if (!url || probing.has(url)) continue;
      probing.add(url);
      void probeReady(url).then((probe) => {
        probing.delete(url);
        if (closed) return;
        probes.set(url, probe);
        refresh();
      });
    }
  };

  const unsubscribe = source.onChange(() => { refresh(); probeAll(); });
  const timer = setInterval(probeAll, probeMs);
  refresh();
  probeAll();

  return {
    list: () => [...apps.values()].map((a) => a.app).sort((a, b) => keyOf(a.tenant, a.name).localeCompare(keyOf(b.tenant, b.name))),
    get: (tenant, name) => apps.get(keyOf(tenant, name))?.app,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => {
      closed = true;
      clearInterval(timer);
      unsubscribe();
      listeners.clear();
    },
  };
}
