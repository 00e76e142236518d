// The sidecar's live viewer at `/`: connects to the WebSocket, subscribes to every grid and shows
// each as a live table. With auth on (the sidecar says so in the page's aerogrid-auth meta tag) it
// asks for an access token, keeps it in sessionStorage (this tab only) and sends it as the first
// WebSocket message; a refused or expired token brings the question back with the server's reason.
import { CLIENT_PROTOCOL } from '@aerogrid/protocol/client-messages';
import { $, onJson, setPill, wsUrl } from '../dom.js';
import { GridTable, placeInOrder } from '../grid-table.js';

const TOKEN_KEY = 'aerogrid.token';
const AUTH = document.querySelector('meta[name="aerogrid-auth"]')?.getAttribute('content') === 'on';
const grids = new Map<string, GridTable>();
let ws: WebSocket | null = null;
let retryMs = 500;
let subCounter = 0;
let lastError: { code: string; message: string } | null = null;

function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function showLogin(reason?: string): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage off */ }
  $('login-reason').textContent = reason || 'This app needs an access token.';
  $('login').hidden = false;
  setPill($('conn'), 'signed out', 'bad');
  $('token').focus();
}

if (AUTH) {
  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('token') as HTMLInputElement;
    const token = input.value.trim();
    if (!token) return;
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch { /* storage off */ }
    input.value = '';
    $('login').hidden = true;
    if (!ws) connect(token);
  });
}

const stateTone: Record<string, string> = { running: 'ok', starting: 'warn', waiting: 'warn', failing: 'bad', stopping: 'warn' };
function showStatus(s: { state: string; message?: string | null }): void {
  setPill($('state'), s.state, stateTone[s.state] ?? '');
  $('message').textContent = s.message || '';
}

function gridTable(name: string): GridTable {
  let table = grids.get(name);
  if (table) return table;
  table = new GridTable(name, { tag: 'section', heading: 'h2' });
  grids.set(name, table);
  $('no-grids').hidden = true;
  placeInOrder($('grids'), grids, table);
  return table;
}

function send(msg: unknown): void {
  if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg));
}

function subscribe(name: string): void {
  const table = gridTable(name);
  if (table.subId) return;
  table.subId = `s${++subCounter}`;
  // After a reconnect: resume from the seq the table holds (only the missed changes come).
  send(table.loaded ? { op: 'subscribe', id: table.subId, grid: name, seq: table.data.seq } : { op: 'subscribe', id: table.subId, grid: name });
}

function learnGrids(list: { name: string }[] | undefined): void {
  for (const g of list ?? []) subscribe(g.name);
}

function bySub(id: string): GridTable | undefined {
  for (const table of grids.values()) if (table.subId === id) return table;
  return undefined;
}

function onMessage(msg: any): void {
  switch (msg.type) {
    case 'authenticated':
      if (msg.subject) $('who').textContent = `signed in as ${msg.subject}`;
      break;
    case 'hello':
      retryMs = 500;
      document.title = msg.app ? `${msg.app} · AeroGrid` : 'AeroGrid';
      $('title').firstChild!.textContent = `${msg.app || 'AeroGrid'} `;
      $('tenant').textContent = msg.tenant ? `tenant ${msg.tenant}` : '';
      showStatus(msg.status);
      learnGrids(msg.grids);
      break;
    case 'status':
      showStatus(msg);
      learnGrids(msg.grids);
      break;
    case 'snapshot':
      bySub(msg.id)?.snapshot(msg);
      break;
    case 'delta':
      bySub(msg.id)?.delta(msg);
      break;
    case 'resumed':
      bySub(msg.id)?.resumed(msg);
      break;
    case 'error':
      lastError = msg;
      console.warn('aerogrid:', msg.code, msg.message);
      break;
  }
}

function connect(given?: string): void {
  const token = given || storedToken();
  if (AUTH && !token) return showLogin();
  setPill($('conn'), 'connecting', 'warn');
  const socket = new WebSocket(wsUrl('/v1/ws'), CLIENT_PROTOCOL);
  ws = socket;
  lastError = null;
  socket.onopen = () => {
    setPill($('conn'), 'connected', 'ok');
    if (AUTH) send({ op: 'auth', token });
  };
  onJson(socket, onMessage);
  socket.onclose = (e?: CloseEvent) => {
    ws = null;
    for (const table of grids.values()) table.subId = null;
    if (AUTH && e && e.code >= 4400 && e.code < 4500) {
      // Refused or expired: retrying with the same token cannot help.
      setPill($('state'), 'unknown');
      return showLogin(lastError ? lastError.message : 'The token was refused.');
    }
    const wait = retryMs;
    retryMs = Math.min(retryMs * 2, 10000);
    setPill($('conn'), `disconnected · retrying in ${Math.round(wait / 100) / 10} s`, 'bad');
    setPill($('state'), 'unknown');
    setTimeout(() => connect(), wait);
  };
}

connect();
