// The web console of `aerogrid serve` at `/`: watches the directory (`/v1/apps/watch`), lists the
// apps with their status, offers stop/start/rollback/delete to users allowed to, and shows the
// grids of the selected app live from its sidecar (`aerogrid.v1`). Writing, trying and deploying an
// app, its releases and the delete that asks for the name: author.ts, on the console API; its
// logs: logs.ts.
// Sign-in: OIDC authorization code with PKCE against the issuer the directory names
// (GET /v1/console/config); the console is its own redirect URI. The access token stays in
// sessionStorage (this tab only) and goes as the first WebSocket message and as a Bearer header.
import { CLIENT_PROTOCOL } from '@aerogrid/protocol/client-messages';
import { CONSOLE_API, type ConsoleConfig } from '@aerogrid/protocol/console-api';
import { DIRECTORY_PROTOCOL, type DirectoryApp, type DirectoryMessage } from '@aerogrid/protocol/directory-messages';
import { $, el, onJson, setPill, wsUrl } from '../dom.js';
import { GridTable, collator, placeInOrder } from '../grid-table.js';
import { finishSignIn, startSignIn, type PendingSignIn } from '../oidc.js';
import { confirmDelete, editApp, initAuthoring, isDeveloper, onApps, setAccess, showReleases } from './author.js';
import { closeLogs, initLogs, showLogs } from './logs.js';


const TOKEN_KEY = 'aerogrid.token';
const PENDING_KEY = 'aerogrid.signin';
type Action = 'stop' | 'start' | 'rollback' | 'delete';
const LABELS: Record<Action, string> = { stop: 'Stop', start: 'Start', rollback: 'Roll back', delete: 'Delete' };
const statusTone: Record<string, string> = { running: 'ok', starting: 'warn', stale: 'warn', stopped: '', failing: 'bad' };

let config: ConsoleConfig = { auth: false };
let apps = new Map<string, DirectoryApp>(); // "tenant/name" -> app
let allowed: string[] = []; // actions this user may take
let selected: string | null = null; // "tenant/name" whose grids are shown
let watch: WebSocket | null = null;
let retryMs = 500;
let retryTimer: ReturnType<typeof setTimeout> | null = null;

interface Live { key: string; ws: string; grids: Map<string, GridTable>; socket: WebSocket | null; closing: boolean; subs: number; errorShown: boolean }
let live: Live | null = null;
/** The tables of a connection that was lost: the next connection to the same app resumes them. */
let kept: Live | null = null;
let liveRetryMs = 1000; // the wait before reconnecting to a sidecar that went away

const token = (): string => sessionStorage.getItem(TOKEN_KEY) ?? '';
const appKey = (a: { tenant: string; name: string }): string => `${a.tenant}/${a.name}`;

function notice(text: string, bad = false): void {
  const n = el('div', `notice${bad ? ' bad' : ''}`, text);
  n.setAttribute('role', 'status');
  $('notices').append(n);
  setTimeout(() => n.remove(), bad ? 10000 : 6000);
}

// ---- signed in or out: what the page shows ----

/** Signed out (auth on, no token): the sign-in button and why, nothing else. */
function showSignedOut(reason?: string): void {
  sessionStorage.removeItem(TOKEN_KEY);
  closeLive();
  closeLogs();
  apps = new Map();
  allowed = [];
  setAccess(null, []);
  selected = null;
  renderApps();
  $('grids-section').hidden = true;
  $('console').hidden = true;
  $('signed-out').hidden = false;
  $('signout').hidden = true;
  $('who').textContent = '';
  setPill($('conn'), 'signed out', 'bad');
  const button = $('signin') as HTMLButtonElement;
  button.hidden = false;
  const clientId = config.auth ? config.client_id : null;
  button.disabled = !clientId;
  $('signed-out-text').textContent = clientId
    ? 'Sign in to see the apps.'
    : 'Sign-in is not set up on this directory: start aerogrid serve with --oidc-client-id, the OIDC client of the console.';
  const error = $('signin-error');
  error.textContent = reason ?? '';
  error.hidden = !reason;
}

function showConsole(): void {
  $('signed-out').hidden = true;
  $('console').hidden = false;
  $('signin').hidden = true;
  $('signin-error').hidden = true;
  $('signout').hidden = !config.auth;
  if (!config.auth) $('who').textContent = 'auth off · every tenant';
}

// ---- the apps table ----

function renderApps(): void {
  const keys = [...apps.keys()].sort(collator.compare);
  document.querySelector('#apps tbody')!.replaceChildren(...keys.map((k) => appRow(apps.get(k)!)));
  $('no-apps').hidden = keys.length > 0;
  $('no-apps').textContent = isDeveloper() ? 'No apps deployed yet: New app starts one (or aerogrid deploy in a connector folder).' : 'No apps deployed yet.';
  $('apps-meta').textContent = keys.length ? `${keys.length}${keys.length === 1 ? ' app' : ' apps'} · select one to see its grids live` : '';
}

function appRow(a: DirectoryApp): HTMLTableRowElement {
  const tr = el('tr');
  tr.dataset.app = appKey(a);
  if (appKey(a) === selected) tr.className = 'selected';
  const name = el('td');
  name.append(el('strong', '', a.name));
  const status = el('td', 'status');
  status.dataset.status = a.status;
  const pill = el('span', `pill ${statusTone[a.status] ?? ''}`);
  pill.append(el('span', 'dot'), el('span', '', a.status + (a.status === 'running' && !a.ready ? ' (not ready)' : '')));
  status.append(pill);
  const message = el('td', 'message', a.message || (a.stale_since ? `data as of ${new Date(a.stale_since).toLocaleTimeString()}` : ''));
  const actions = el('td', 'actions');
  const toggle: Action = a.desired === 'running' ? 'stop' : 'start';
  if (isDeveloper()) actions.append(openButton('edit', 'Edit', () => void editApp(a)));
  actions.append(openButton('releases', 'Releases', () => void showReleases(a.tenant, a.name)));
  actions.append(openButton('logs', 'Logs', () => showLogs(a.tenant, a.name)));
  for (const action of [toggle, 'rollback', 'delete'] as const) if (allowed.includes(action)) actions.append(actionButton(a, action));
  const revision = el('td');
  revision.append(el('code', '', (a.revision || '').slice(0, 12)));
  tr.append(name, el('td', 'muted', a.tenant), status, el('td', '', a.desired), el('td', '', a.grids.map((g) => g.name).join(', ')), revision, message, actions);
  tr.addEventListener('click', (e) => {
    if ((e.target as HTMLElement).tagName !== 'BUTTON') select(appKey(a));
  });
  return tr;
}

/** A button that opens a panel (not an action on the app itself). */
function openButton(what: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', '', label);
  b.type = 'button';
  b.dataset.open = what;
  b.addEventListener('click', onClick);
  return b;
}

function actionButton(a: DirectoryApp, action: Action): HTMLButtonElement {
  const label = LABELS[action];
  const b = el('button', action === 'delete' ? 'danger' : '', label);
  b.type = 'button';
  b.dataset.action = action;
  b.addEventListener('click', () => void act(a, action, b));
  return b;
}

async function act(a: DirectoryApp, action: Action, button: HTMLButtonElement): Promise<void> {
  const key = appKey(a);
  if (action === 'delete' && !(await confirmDelete(a))) return;
  if (action === 'rollback' && !confirm(`Roll ${key} back to the release before the latest? (aerogrid releases ${key} lists them)`)) return;
  button.disabled = true;
  const path = `/v1/apps/${encodeURIComponent(a.tenant)}/${encodeURIComponent(a.name)}${action === 'delete' ? '' : `/${action}`}`;
  try {
    const response = await fetch(path, { method: action === 'delete' ? 'DELETE' : 'POST', headers: token() ? { authorization: `Bearer ${token()}` } : {} });
    const body = await response.json();
    if (!response.ok) throw new Error(body?.error?.message ?? 'failed');
    notice(`${body.changed === false ? 'Nothing to change for ' : `${LABELS[action]} of `}${key}${body.release ? ` to release ${body.release}` : ''} committed: ${String(body.commit).slice(0, 12)}`);
    // Deleted: its releases stay, with Restore.
    if (action === 'delete') void showReleases(a.tenant, a.name);
  } catch (error) {
    notice(`${action} ${key}: ${(error as Error).message}`, true);
    button.disabled = false;
  }
}

// ---- the directory watch ----

function onWatch(msg: DirectoryMessage | { type: 'authenticated'; subject?: string; tenant?: string }): void {
  switch (msg.type) {
    case 'authenticated':
      if (msg.subject) $('who').textContent = `${msg.subject} · tenant ${msg.tenant}`;
      break;
    case 'apps':
      retryMs = 500;
      allowed = msg.allowed ?? [];
      setAccess(msg.tenant, allowed);
      apps = new Map(msg.apps.map((a) => [appKey(a), a]));
      showConsole();
      renderApps();
      followSelected();
      onApps(apps);
      break;
    case 'app':
      apps.set(appKey(msg.app), msg.app);
      renderApps();
      followSelected();
      onApps(apps);
      break;
    case 'removed':
      apps.delete(`${msg.tenant}/${msg.name}`);
      renderApps();
      followSelected();
      break;
    case 'ready':
      notice(`${appKey(msg.app)} is ready: its grids are live.`);
      break;
    case 'error':
      if (msg.code === 'unauthorized' || msg.code === 'token_expired' || msg.code === 'forbidden') showSignedOut(msg.message);
      break;
  }
}

function connectWatch(): void {
  retryTimer = null;
  setPill($('conn'), 'connecting', 'warn');
  const ws = new WebSocket(wsUrl('/v1/apps/watch'), DIRECTORY_PROTOCOL);
  watch = ws;
  ws.onopen = () => {
    setPill($('conn'), 'connected', 'ok');
    // With auth off the directory just answers 'authenticated'.
    ws.send(JSON.stringify({ op: 'auth', token: token() }));
  };
  ws.onmessage = (e) => {
    if (watch !== ws) return;
    try {
      onWatch(JSON.parse(e.data as string));
    } catch (err) {
      console.warn(err);
    }
  };
  ws.onclose = (e) => {
    if (watch !== ws) return;
    watch = null;
    // Refused: the same token would be refused again; the error message said why.
    if (e.code === 4401 || e.code === 4403) {
      if (!$('signed-out').hidden) return;
      return showSignedOut(e.reason || 'The directory refused the sign-in: sign in again.');
    }
    const wait = retryMs;
    retryMs = Math.min(retryMs * 2, 10000);
    setPill($('conn'), `disconnected · retrying in ${Math.round(wait / 100) / 10} s`, 'bad');
    retryTimer = setTimeout(connectWatch, wait);
  };
}

function stopWatch(): void {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  const old = watch;
  watch = null;
  old?.close();
}

// ---- the selected app's grids, live from its sidecar ----

function select(key: string): void {
  if (key !== selected) liveRetryMs = 1000;
  selected = key;
  renderApps();
  followSelected();
}

function closeLive(): void {
  if (live?.socket) {
    live.closing = true;
    live.socket.close();
  }
  live = null;
  $('grids').replaceChildren();
}

function followSelected(): void {
  const a = selected ? apps.get(selected) : undefined;
  $('grids-section').hidden = !a;
  if (!a || !selected) return closeLive();
  $('grids-title').textContent = `Grids of ${selected}`;
  $('grids-meta').textContent = a.ws ? `live from ${a.url}` : `the app is ${a.status}${a.message ? `: ${a.message}` : ''}`;
  if (live && live.key === selected && live.ws === a.ws) return;
  closeLive();
  if (!a.ws) {
    $('grids').replaceChildren(el('div', 'empty', a.status === 'stopped' ? 'The app is stopped: start it to see its grids.' : 'Waiting for the app to serve its grids...'));
    return;
  }
  openLive(selected, a.ws);
}

function openLive(key: string, url: string): void {
  const state: Live = { key, ws: url, grids: new Map(), socket: null, closing: false, subs: 0, errorShown: false };
  live = state;
  const prev = kept && kept.key === key ? kept : null;
  kept = null;
  if (prev && prev.grids.size > 0) {
    // Reconnecting: the tables stay, and resume from their seq once subscribed again.
    $('grids').replaceChildren();
    for (const name of [...prev.grids.keys()].sort(collator.compare)) {
      const table = prev.grids.get(name)!;
      table.subId = null;
      state.grids.set(name, table);
      $('grids').append(table.box);
    }
  } else $('grids').replaceChildren(el('div', 'empty', 'Connecting to the app...'));
  const socket = new WebSocket(url, CLIENT_PROTOCOL);
  state.socket = socket;
  // Even without a token: the sidecar's refusal then comes at once, not after its auth timeout.
  socket.onopen = () => {
    if (config.auth) socket.send(JSON.stringify({ op: 'auth', token: token() }));
  };
  onJson(socket, (msg) => {
    if (live !== state) return;
    if (msg.type === 'hello') liveRetryMs = 1000;
    if (msg.type === 'hello' || msg.type === 'status') for (const g of msg.grids ?? []) subscribe(state, g.name);
    else if (msg.type === 'snapshot') byId(state, msg.id)?.snapshot(msg);
    else if (msg.type === 'delta') byId(state, msg.id)?.delta(msg);
    else if (msg.type === 'resumed') byId(state, msg.id)?.resumed(msg);
    else if (msg.type === 'error' && !msg.id) {
      state.errorShown = true;
      $('grids').replaceChildren(el('div', 'empty', msg.message));
    }
  });
  socket.onclose = (e) => {
    if (state.closing || live !== state) return;
    // Refused (token, tenant, group): the same token would be refused again. The error stays
    // until the user signs in again or the app moves to another sidecar.
    if (e.code >= 4400 && e.code < 4500) {
      if (!state.errorShown) $('grids').replaceChildren(el('div', 'empty', e.reason || 'The app refused the connection.'));
      return;
    }
    // The app restarts or stops: the directory says what comes next; retry the same sidecar
    // meanwhile, less and less often.
    const wait = liveRetryMs;
    liveRetryMs = Math.min(liveRetryMs * 2, 30000);
    setTimeout(() => {
      if (live === state) {
        live = null;
        kept = state;
        followSelected();
      }
    }, wait);
  };
}

function subscribe(state: Live, name: string): void {
  let table = state.grids.get(name);
  if (table?.subId) return;
  if (!table) {
    if (state.grids.size === 0) $('grids').replaceChildren();
    table = new GridTable(name, { tag: 'div', className: 'grid', heading: 'h3' });
    state.grids.set(name, table);
    placeInOrder($('grids'), state.grids, table);
  }
  table.subId = `s${++state.subs}`;
  state.socket!.send(JSON.stringify(table.loaded ? { op: 'subscribe', id: table.subId, grid: name, seq: table.data.seq } : { op: 'subscribe', id: table.subId, grid: name }));
}

function byId(state: Live, id: string): GridTable | undefined {
  for (const table of state.grids.values()) if (table.subId === id) return table;
  return undefined;
}

// ---- sign-in: authorization code with PKCE, the console as its own redirect URI ----

const redirectUri = (): string => `${location.origin}${location.pathname}`;

async function signIn(): Promise<void> {
  if (!config.auth || !config.client_id) return;
  const button = $('signin') as HTMLButtonElement;
  button.disabled = true;
  try {
    const pending = await startSignIn({ issuer: config.issuer, clientId: config.client_id, audience: config.audience, scope: config.scope }, redirectUri());
    sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
    location.assign(pending.url);
  } catch (error) {
    showSignedOut(`Sign-in failed: ${(error as Error).message}`);
  }
}

/** Back from the issuer (?code&state or ?error): the token, or why there is none. */
async function finishRedirect(params: URLSearchParams): Promise<string | null> {
  const stored = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  // The code is single-use: it leaves the address bar (and history) whatever happens next.
  history.replaceState(null, '', location.pathname);
  if (!stored) return 'This sign-in answer belongs to no sign-in started here: sign in again.';
  try {
    const tokens = await finishSignIn(JSON.parse(stored) as PendingSignIn, params);
    sessionStorage.setItem(TOKEN_KEY, tokens.accessToken);
    return null;
  } catch (error) {
    return `Sign-in failed: ${(error as Error).message}`;
  }
}

initAuthoring({ token, notice, select });
initLogs({ token });
$('signin').addEventListener('click', () => void signIn());
$('signout').addEventListener('click', () => {
  stopWatch();
  showSignedOut();
});

async function start(): Promise<void> {
  try {
    const response = await fetch(CONSOLE_API.config);
    config = await response.json();
  } catch {
    setPill($('conn'), 'the directory does not answer: reload to try again', 'bad');
    return;
  }
  if (!config.auth) {
    showConsole();
    return connectWatch();
  }
  const params = new URLSearchParams(location.search);
  if (params.has('code') || params.has('error')) {
    const failure = await finishRedirect(params);
    if (failure) return showSignedOut(failure);
  }
  if (!token()) return showSignedOut();
  showConsole();
  connectWatch();
}

void start();
