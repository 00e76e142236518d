// Finds apps from the one "platform URL" the user configures (docs/protocol.md, the add-in's
// side): `GET <platform>/v1/apps` (the directory of `aerogrid serve`), or, when that is 404 and
// `<platform>/v1/grids` answers, a single sidecar (what `aerogrid dev` prints) whose app is the
// only one.
import type { DirectoryApp, DirectoryAppStatus } from '@aerogrid/protocol/directory-messages';
import { AppUnavailableError, type AppEndpoint } from './app-connection.js';

/** An app as the directory lists it; a lone sidecar (`aerogrid dev`) has no GitOps revision. */
export type AppInfo = Omit<DirectoryApp, 'revision'> & { revision?: string };

export interface AppList {
  mode: 'directory' | 'sidecar';
  tenant: string | null;
  apps: AppInfo[];
}

/** A directory or sidecar that does not answer within this long is reported, not waited for. */
const FETCH_TIMEOUT_MS = 10_000;

export interface DirectoryOptions {
  platformUrl: string;
  token?: () => string | null;
  fetchImpl?: typeof fetch;
}

/** A platform URL with exactly one trailing slash; a clear error for anything that is not http(s). */
export function normalizePlatformUrl(input: string): string {
  const text = input.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`'${text}' is not a URL: enter the platform URL, e.g. https://aerogrid.example.com/ or the http://127.0.0.1:PORT/ that \`aerogrid dev\` prints`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`'${text}' is not an http(s) URL: enter the platform URL, e.g. https://aerogrid.example.com/`);
  url.search = '';
  url.hash = '';
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

export function wsUrlOf(httpUrl: string, path: string): string {
  const url = new URL(path, httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

function matching(apps: AppInfo[], ref: string): AppInfo[] {
  const [tenant, name] = ref.includes('/') ? ref.split('/', 2) as [string, string] : [null, ref];
  return apps.filter((a) => a.name === name && (tenant === null || a.tenant === tenant));
}

export class Directory {
  readonly platformUrl: string;
  private inFlight: Promise<AppList> | null = null;
  private cached: { at: number; list: AppList } | null = null;

  constructor(private readonly options: DirectoryOptions) {
    this.platformUrl = normalizePlatformUrl(options.platformUrl);
  }

  /** The apps; concurrent callers (many cells resolving at once) share one request, reused for `maxAgeMs`. */
  list(maxAgeMs = 0): Promise<AppList> {
    if (this.cached && Date.now() - this.cached.at <= maxAgeMs) return Promise.resolve(this.cached.list);
    this.inFlight ??= this.fetchList().then(
      (list) => { this.inFlight = null; this.cached = { at: Date.now(), list }; return list; },
      (error) => { this.inFlight = null; throw error; },
    );
    return this.inFlight;
  }

  /** `tenant/app` for what the user wrote (`app` or `tenant/app`) when exactly one app matches, else null. */
  async canonicalName(ref: string): Promise<string | null> {
    const matches = matching((await this.list(1_000)).apps, ref);
    return matches.length === 1 ? `${matches[0]!.tenant}/${matches[0]!.name}` : null;
  }

  /** `app` or `tenant/app` → where to connect; AppUnavailableError says why not. */
  async resolve(ref: string): Promise<AppEndpoint> {
    const list = await this.list(1_000);
    const matches = matching(list.apps, ref);
    if (matches.length === 0) {
      const names = list.apps.map((a) => (list.tenant ? a.name : `${a.tenant}/${a.name}`));
      throw new AppUnavailableError(`no app '${ref}'${names.length ? `; apps: ${names.join(', ')}` : ''}`, 'unknown');
    }
    if (matches.length > 1) throw new AppUnavailableError(`'${ref}' is in several tenants (${matches.map((a) => a.tenant).join(', ')}): write tenant/app`, 'unknown');
    const app = matches[0]!;
    if (!app.ws || app.desired === 'stopped' || app.status === 'stopped') {
      throw new AppUnavailableError(app.desired === 'stopped' ? `app '${ref}' stopped` : `app '${ref}' is ${app.status}${app.message ? `: ${app.message}` : ''}`, app.desired === 'stopped' || app.status === 'stopped' ? 'stopped' : 'unreachable');
    }
    return { name: app.name, ws: app.ws };
  }

  private async fetchList(): Promise<AppList> {
    const apps = await this.get('v1/apps');
    if (apps.status === 200) {
      return { mode: 'directory', tenant: apps.body.tenant ?? null, apps: apps.body.apps ?? [] };
    }
    if (apps.status !== 404) throw this.httpError('v1/apps', apps);
    const grids = await this.get('v1/grids');
    if (grids.status !== 200) {
      throw new AppUnavailableError(`${this.platformUrl} is neither an AeroGrid platform nor a sidecar (GET /v1/apps and /v1/grids: ${apps.status}, ${grids.status}): check the platform URL`, 'unknown');
    }
    const status = await this.get('v1/status');
    const s = status.status === 200 ? status.body : {};
    const state: string = s.state ?? 'running';
    const app: AppInfo = {
      name: grids.body.app, tenant: s.tenant ?? 'default', desired: 'running',
      status: (s.stale_since ? 'stale' : state === 'waiting' ? 'starting' : state) as DirectoryAppStatus,
      message: s.message ?? null, stale_since: s.stale_since ?? null, ready: state === 'running',
      grids: (grids.body.grids ?? []).map((g: { name: string; columns: string[] }) => ({ name: g.name, columns: g.columns })),
      url: this.platformUrl, ws: wsUrlOf(this.platformUrl, 'v1/ws'),
    };
    return { mode: 'sidecar', tenant: null, apps: [app] };
  }

  private async get(path: string): Promise<{ status: number; body: any }> {
    const token = this.options.token?.();
    let response: Response;
    let text: string;
    try {
      response = await (this.options.fetchImpl ?? fetch)(new URL(path, this.platformUrl).href, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      text = await response.text();
    } catch (error) {
      const timedOut = (error as Error)?.name === 'TimeoutError';
      throw new AppUnavailableError(`${this.platformUrl} ${timedOut ? `did not answer within ${FETCH_TIMEOUT_MS / 1000} s` : 'is unreachable'}`, 'unreachable');
    }
    let body: any = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    return { status: response.status, body };
  }

  private httpError(path: string, answer: { status: number; body: any }): Error {
    const message = answer.body?.error?.message;
    if (answer.status === 401) return new AppUnavailableError(`sign in to AeroGrid (task pane)${message ? `: ${message}` : ''}`, 'unauthorized', { signIn: true });
    if (answer.status === 403) return new AppUnavailableError(`not allowed${message ? `: ${message}` : ''}`, 'unauthorized');
    return new AppUnavailableError(`GET ${path} answered ${answer.status}${message ? `: ${message}` : ''}`, 'unreachable');
  }
}
