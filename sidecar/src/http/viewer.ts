/**
 * The live viewer served at `/`: one self-contained page (no external assets) that connects to
 * the WebSocket, subscribes to every grid and renders each as a live table.
 *
 * With auth on (see `viewerHtml`), it asks for an access token, keeps it in sessionStorage (this
 * tab only) and sends it as the first WebSocket message; a refused or expired token brings the
 * question back with the server's reason instead of an empty page.
 */
import { CLIENT_PROTOCOL } from '@aerogrid/protocol/client-messages';
import { GRID_TABLE_JS } from './grid-table.js';
import { PAGE_CSS } from './page-style.js';

const AUTH_PLACEHOLDER = '"__AEROGRID_AUTH__"';

export function viewerHtml(authOn: boolean): string {
  return authOn ? VIEWER_HTML.replace(AUTH_PLACEHOLDER, '"on"') : VIEWER_HTML;
}

export const VIEWER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AeroGrid</title>
<style>
${PAGE_CSS}
  #message { color: var(--muted); }
  #login { display: flex; gap: 8px; align-items: center; }
  #login[hidden] { display: none; }
  #login input { width: 22em; padding: 3px 8px; border: 1px solid var(--line); border-radius: 6px; }
  #login-reason { color: var(--bad); }
  #who { color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1 id="title">AeroGrid <small id="tenant"></small></h1>
  <span class="pill" id="state"><span class="dot"></span><span id="state-text">connecting</span></span>
  <span id="message"></span>
  <span id="who"></span>
  <form id="login" hidden><span id="login-reason"></span>
    <input id="token" type="password" autocomplete="off" placeholder="access token (JWT)" aria-label="access token">
    <button type="submit">Sign in</button></form>
  <span style="flex:1"></span>
  <span class="pill" id="conn"><span class="dot"></span><span id="conn-text">connecting</span></span>
</header>
<main id="grids"><div class="empty" id="no-grids">Waiting for grids...</div></main>
<script>
"use strict";
${GRID_TABLE_JS}
(function () {
  var grids = new Map();   // name -> view
  var ws = null, retryMs = 500, retryTimer = null, subCounter = 0;
  var $ = function (id) { return document.getElementById(id); };
  var AUTH = ${AUTH_PLACEHOLDER} === "on", TOKEN_KEY = 'aerogrid.token', lastError = null;

  function storedToken() { try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; } }
  function showLogin(reason) {
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage off */ }
    $('login-reason').textContent = reason || 'This app needs an access token.';
    $('login').hidden = false;
    setPill($('conn'), 'signed out', 'bad');
    $('token').focus();
  }
  if (AUTH) {
    $('login').addEventListener('submit', function (e) {
      e.preventDefault();
      var token = $('token').value.trim();
      if (!token) return;
      try { sessionStorage.setItem(TOKEN_KEY, token); } catch (err) { /* storage off */ }
      $('token').value = '';
      $('login').hidden = true;
      if (!ws) connect(token);
    });
  }

  function setPill(el, text, tone) {
    el.className = 'pill ' + tone;
    el.lastElementChild.textContent = text;
  }
  var stateTone = { running: 'ok', starting: 'warn', waiting: 'warn', failing: 'bad', stopping: 'warn' };
  function showStatus(s) {
    setPill($('state'), s.state, stateTone[s.state] || '');
    $('message').textContent = s.message || '';
  }

  function gridView(name) {
    var view = grids.get(name);
    if (view) return view;
    view = AeroGridTable.create(name, { tag: 'section', heading: 'h2' });
    view.subId = null;
    grids.set(name, view);
    $('no-grids').hidden = true;
    var names = Array.from(grids.keys()).sort(AeroGridTable.collator.compare);
    var next = grids.get(names[names.indexOf(name) + 1]);
    $('grids').insertBefore(view.box, next ? next.box : null);
    return view;
  }

  function send(msg) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg)); }

  function subscribe(name) {
    var view = gridView(name);
    if (view.subId) return;
    view.subId = 's' + (++subCounter);
    // After a reconnect: resume from the seq the table holds (only the missed changes come).
    send(view.loaded ? { op: 'subscribe', id: view.subId, grid: name, seq: view.data.seq } : { op: 'subscribe', id: view.subId, grid: name });
  }

  function learnGrids(list) {
    (list || []).forEach(function (g) { subscribe(g.name); });
  }

  function bySub(id) {
    var found = null;
    grids.forEach(function (v) { if (v.subId === id) found = v; });
    return found;
  }

  function onMessage(msg) {
    switch (msg.type) {
      case 'authenticated':
        if (msg.subject) $('who').textContent = 'signed in as ' + msg.subject;
        break;
      case 'hello':
        retryMs = 500;
        document.title = msg.app ? msg.app + ' \\u00b7 AeroGrid' : 'AeroGrid';
        $('title').firstChild.textContent = (msg.app || 'AeroGrid') + ' ';
        $('tenant').textContent = msg.tenant ? 'tenant ' + msg.tenant : '';
        showStatus(msg.status);
        learnGrids(msg.grids);
        break;
      case 'status':
        showStatus(msg);
        learnGrids(msg.grids);
        break;
      case 'snapshot': {
        var view = bySub(msg.id);
        if (view) view.snapshot(msg);
        break;
      }
      case 'delta': {
        var v = bySub(msg.id);
        if (v) v.delta(msg);
        break;
      }
      case 'resumed': {
        var r = bySub(msg.id);
        if (r) r.resumed(msg);
        break;
      }
      case 'error':
        lastError = msg;
        console.warn('aerogrid:', msg.code, msg.message);
        break;
    }
  }

  function connect(token) {
    retryTimer = null;
    if (AUTH && !(token = token || storedToken())) return showLogin();
    setPill($('conn'), 'connecting', 'warn');
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/ws';
    ws = new WebSocket(url, '${CLIENT_PROTOCOL}');
    lastError = null;
    ws.onopen = function () {
      setPill($('conn'), 'connected', 'ok');
      if (AUTH) send({ op: 'auth', token: token });
    };
    ws.onmessage = function (e) {
      var msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      onMessage(msg);
    };
    ws.onclose = function (e) {
      ws = null;
      grids.forEach(function (v) { v.subId = null; });
      if (AUTH && e && e.code >= 4400 && e.code < 4500) {
        // Refused or expired: retrying with the same token cannot help.
        setPill($('state'), 'unknown', '');
        return showLogin(lastError ? lastError.message : 'The token was refused.');
      }
      var wait = retryMs;
      retryMs = Math.min(retryMs * 2, 10000);
      setPill($('conn'), 'disconnected \\u00b7 retrying in ' + Math.round(wait / 100) / 10 + ' s', 'bad');
      setPill($('state'), 'unknown', '');
      retryTimer = setTimeout(connect, wait);
    };
  }

  connect();
})();
</script>
</body>
</html>
`;
