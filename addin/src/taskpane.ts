// The one bundle of the shared runtime: registers the custom functions and runs the task pane,
// so both share one AeroGridClient (one socket per app for every cell and the pane).
import { formula } from '@aerogrid/protocol/excel-functions';
import { AeroGridClient } from './core/client.js';
import type { AppInfo } from './core/directory.js';
import { clockTime } from './core/status-text.js';
import { registerFunctions } from './functions.js';
import { signInWithDialog } from './signin-dialog.js';

const STORE = { platform: 'aerogrid.platformUrl', issuer: 'aerogrid.issuer', clientId: 'aerogrid.clientId', audience: 'aerogrid.audience' };
const stored = (key: string) => { try { return localStorage.getItem(key) ?? ''; } catch { return ''; } };
const store = (key: string, value: string) => { try { localStorage.setItem(key, value); } catch { /* private mode: kept for this session only */ } };

// `aerogrid addin` serves the pane with the platform to start with (until one is entered).
const served = typeof document !== 'undefined' ? document.querySelector<HTMLMetaElement>('meta[name="aerogrid-platform"]')?.content : undefined;
// Served by the platform itself (https://<host>/addin/): the platform is the host it came from.
const hostedBy = () => (typeof location !== 'undefined' && location.protocol === 'https:' && location.pathname.startsWith('/addin/') ? location.origin : null);
let initialPlatform: string | null = stored(STORE.platform) || served || hostedBy();
let client: AeroGridClient;
try {
  client = new AeroGridClient({ platformUrl: initialPlatform });
} catch {
  initialPlatform = null;
  client = new AeroGridClient();
}
registerFunctions(client);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** APP, or TENANT/APP where another tenant has an app of that name. */
function refFor(app: AppInfo, apps: AppInfo[]): string {
  const clash = apps.some((a) => a.name === app.name && a.tenant !== app.tenant);
  return clash ? `${app.tenant}/${app.name}` : app.name;
}

function formulaFor(app: AppInfo, apps: AppInfo[], grid: string): string {
  return formula('grid', refFor(app, apps), grid);
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

function insertButton(label: string, make: () => string, className = ''): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = label;
  if (className) button.className = className;
  button.onclick = () => {
    const text = make();
    insertFormula(text).then(
      () => say('notice', `Inserted ${text}`, 'ok'),
      (error) => say('notice', `Could not insert the formula: ${error.message}`, 'error'),
    );
  };
  return button;
}

/**
 * What Insert offers besides the whole grid: some of its columns (GRID's columns argument), or
 * one value (VALUE: a key and a column), the add-in's two other ways to show a grid.
 */
function insertOptions(app: AppInfo, apps: AppInfo[], grid: { name: string; columns: string[] }): HTMLElement {
  const box = document.createElement('div');
  box.className = 'insert-options';
  box.hidden = true;
  const columns = document.createElement('div');
  const boxes = grid.columns.map((column) => {
    const label = document.createElement('label');
    const check = document.createElement('input');
    check.type = 'checkbox';
    check.checked = true;
    check.value = column;
    label.append(check, ` ${column}`);
    columns.append(label);
    return check;
  });
  const chosen = () => boxes.filter((b) => b.checked).map((b) => b.value);
  columns.append(insertButton('Insert columns', () => {
    const picked = chosen();
    return picked.length === grid.columns.length || picked.length === 0
      ? formula('grid', refFor(app, apps), grid.name)
      : formula('grid', refFor(app, apps), grid.name, picked.join(','));
  }, 'insert-columns'));
  const value = document.createElement('div');
  const key = document.createElement('input');
  key.className = 'value-key';
  key.placeholder = 'Row key';
  const column = document.createElement('select');
  column.className = 'value-column';
  for (const c of grid.columns) column.append(new Option(c, c));
  value.append(key, ' ', column, ' ', insertButton('Insert value', () => formula('value', refFor(app, apps), grid.name, key.value.trim(), column.value), 'insert-value'));
  box.append(columns, value);
  return box;
}

function renderApps(apps: AppInfo[], problem: string | null): void {
  const body = $('apps-body');
  // A panel the user opened stays open across the list's updates.
  const open = new Set([...body.querySelectorAll<HTMLElement>('[data-grid]')].filter((g) => g.querySelector<HTMLElement>('.insert-options')?.hidden === false).map((g) => g.dataset.grid!));
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
      const holder = document.createElement('div');
      holder.dataset.grid = `${app.tenant}/${app.name}/${g.name}`;
      const button = insertButton(`Insert ${g.name}`, () => formulaFor(app, apps, g.name));
      button.title = `Put ${formulaFor(app, apps, g.name)} in the selected cell`;
      const options = insertOptions(app, apps, g);
      options.hidden = !open.has(holder.dataset.grid);
      const more = document.createElement('button');
      more.type = 'button';
      more.className = 'insert-more';
      more.textContent = 'Columns or a value…';
      more.onclick = () => { options.hidden = !options.hidden; };
      holder.append(button, more, options);
      grids.append(holder);
    }
    tr.append(name, status, grids);
    body.append(tr);
  }
}

// Sign-in fields only when the platform asks for a sign-in (or one is active, to sign out).
let signInAsked = false;
let signedIn = false;
function showSignIn(): void {
  $('signin').hidden = !(signInAsked || signedIn);
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
  const stopList = feed.watch((state) => {
    signInAsked = state.signInRequired;
    showSignIn();
    renderApps(state.apps, state.problem);
  });
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
      signedIn = true;
      showSignIn();
      say('signin-status', `Signed in${tokens.expiresAt ? ` until ${clockTime(tokens.expiresAt)}` : ''}.`, 'ok');
      if (expiryTimer) clearTimeout(expiryTimer);
      // The servers close sockets whose token expired; say so here too, where signing in again is a click away.
      if (tokens.expiresAt) expiryTimer = setTimeout(() => say('signin-status', 'Your sign-in expired: sign in again.', 'error'), Math.max(0, tokens.expiresAt - Date.now()));
    } catch (error) {
      say('signin-status', (error as Error).message, 'error');
    }
  };
  $('signout').onclick = () => { client.setToken(null); signedIn = false; showSignIn(); say('signin-status', 'Signed out.'); };
  client.onConfigChange(watchApps);
  watchApps();
}

if (typeof document !== 'undefined' && document.getElementById('platform-form')) void Office.onReady(mount);
