// The one bundle of the shared runtime: registers the custom functions and runs the task pane,
// so both share one AeroGridClient (one socket per app for every cell and the pane).
import { AeroGridClient } from './core/client.js';
import type { AppInfo } from './core/directory.js';
import { clockTime } from './core/status-text.js';
import { registerFunctions } from './functions.js';
import { signInWithDialog } from './signin-dialog.js';

const STORE = { platform: 'aerogrid.platformUrl', issuer: 'aerogrid.issuer', clientId: 'aerogrid.clientId', audience: 'aerogrid.audience' };
const stored = (key: string) => { try { return localStorage.getItem(key) ?? ''; } catch { return ''; } };
const store = (key: string, value: string) => { try { localStorage.setItem(key, value); } catch { /* private mode: kept for this session only */ } };

// Served by the platform itself (https://<host>/addin/): the platform is the host it came from.
const hostedBy = () => (typeof location !== 'undefined' && location.protocol === 'https:' && location.pathname.startsWith('/addin/') ? location.origin : null);
let initialPlatform: string | null = stored(STORE.platform) || hostedBy();
let client: AeroGridClient;
try {
  client = new AeroGridClient({ platformUrl: initialPlatform });
} catch {
  initialPlatform = null;
  client = new AeroGridClient();
}
registerFunctions(client);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function formulaFor(app: AppInfo, apps: AppInfo[], grid: string): string {
  const clash = apps.some((a) => a.name === app.name && a.tenant !== app.tenant);
  const ref = clash ? `${app.tenant}/${app.name}` : app.name;
  return `=AEROGRID.GRID("${ref}","${grid}")`;
}

async function insertFormula(formula: string): Promise<void> {
  await Excel.run(async (context) => {
    const range = context.workbook.getSelectedRange();
    range.formulas = [[formula]];
    await context.sync();
  });
}

function say(id: string, text: string, kind: 'ok' | 'error' | '' = ''): void {
  const el = $(id);
  el.textContent = text;
  el.className = kind;
}

function statusText(app: AppInfo): string {
  if (app.stale_since) return `stale since ${clockTime(app.stale_since)}`;
  return app.status;
}

function renderApps(apps: AppInfo[], problem: string | null): void {
  const body = $('apps-body');
  body.replaceChildren();
  say('apps-problem', problem ?? '', problem ? 'error' : '');
  if (apps.length === 0 && !problem) say('apps-problem', 'No apps yet.');
  for (const app of apps) {
    const tr = document.createElement('tr');
    tr.dataset.app = app.name;
    const name = document.createElement('td');
    name.textContent = app.tenant && app.tenant !== 'default' ? `${app.tenant}/${app.name}` : app.name;
    const status = document.createElement('td');
    status.textContent = statusText(app);
    status.className = `status ${app.ready ? 'ready' : 'not-ready'}`;
    if (app.message) status.title = app.message;
    const grids = document.createElement('td');
    for (const g of app.grids) {
      const button = document.createElement('button');
      button.textContent = `Insert ${g.name}`;
      button.title = `Put ${formulaFor(app, apps, g.name)} in the selected cell`;
      button.onclick = () => insertFormula(formulaFor(app, apps, g.name)).then(
        () => say('notice', `Inserted ${formulaFor(app, apps, g.name)}`, 'ok'),
        (error) => say('notice', `Could not insert the formula: ${error.message}`, 'error'),
      );
      grids.append(button);
    }
    tr.append(name, status, grids);
    body.append(tr);
  }
}

let unwatch: () => void = () => {};
let expiryTimer: ReturnType<typeof setTimeout> | null = null;
function watchApps(): void {
  unwatch();
  const feed = client.apps();
  if (!feed) {
    renderApps([], 'Enter the platform URL above.');
    unwatch = () => {};
    return;
  }
  const stopList = feed.watch((state) => renderApps(state.apps, state.problem));
  const stopReady = feed.onReady((app) => {
    const notice = $('notice');
    notice.replaceChildren();
    notice.className = 'ok';
    notice.append(`App '${app.name}' is ready. `);
    const grid = app.grids[0];
    if (grid) {
      const button = document.createElement('button');
      button.textContent = `Insert ${grid.name}`;
      button.onclick = () => void insertFormula(formulaFor(app, feed.state().apps, grid.name));
      notice.append(button);
    }
  });
  unwatch = () => { stopList(); stopReady(); };
}

function mount(): void {
  const platform = $<HTMLInputElement>('platform-url');
  platform.value = initialPlatform ?? '';
  $('platform-form').onsubmit = (event) => {
    event.preventDefault();
    try {
      client.setPlatformUrl(platform.value);
      store(STORE.platform, client.platformUrl!);
      platform.value = client.platformUrl!;
      say('platform-error', '');
    } catch (error) {
      say('platform-error', (error as Error).message, 'error');
    }
  };
  const issuer = $<HTMLInputElement>('issuer');
  const clientId = $<HTMLInputElement>('client-id');
  const audience = $<HTMLInputElement>('audience');
  issuer.value = stored(STORE.issuer);
  clientId.value = stored(STORE.clientId);
  audience.value = stored(STORE.audience);
  $('signin-form').onsubmit = async (event) => {
    event.preventDefault();
    store(STORE.issuer, issuer.value.trim());
    store(STORE.clientId, clientId.value.trim());
    store(STORE.audience, audience.value.trim());
    say('signin-status', 'Signing in…');
    try {
      const tokens = await signInWithDialog({ issuer: issuer.value.trim(), clientId: clientId.value.trim(), audience: audience.value.trim() || undefined });
      client.setToken(tokens.accessToken);
      say('signin-status', `Signed in${tokens.expiresAt ? ` until ${clockTime(tokens.expiresAt)}` : ''}.`, 'ok');
      if (expiryTimer) clearTimeout(expiryTimer);
      // The servers close sockets whose token expired; say so here too, where signing in again is a click away.
      if (tokens.expiresAt) expiryTimer = setTimeout(() => say('signin-status', 'Your sign-in expired: sign in again.', 'error'), Math.max(0, tokens.expiresAt - Date.now()));
    } catch (error) {
      say('signin-status', (error as Error).message, 'error');
    }
  };
  $('signout').onclick = () => { client.setToken(null); say('signin-status', 'Signed out.'); };
  client.onConfigChange(watchApps);
  watchApps();
}

if (typeof document !== 'undefined' && document.getElementById('platform-form')) void Office.onReady(mount);
