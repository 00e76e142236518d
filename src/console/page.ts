/**
 * The web console served by `aerogrid serve` at `/`: one self-contained page (no external assets,
 * no build step). It watches the directory (`/v1/apps/watch`), lists the apps with their status,
 * offers stop/start/rollback/delete to users allowed to, and shows the grids of the selected app live from
 * its sidecar (`aerogrid.v1`). Sign-in: an access token pasted into the page, kept in
 * sessionStorage and sent as the first WebSocket message and as a Bearer header.
 */
import { CLIENT_PROTOCOL } from '@aerogrid/protocol/client-messages';
import { GRID_TABLE_JS } from '@aerogrid/sidecar/grid-table';
import { PAGE_CSS } from '@aerogrid/sidecar/page-style';

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AeroGrid console</title>
<style>
${PAGE_CSS}
  [hidden] { display: none !important; }
  .muted { color: var(--muted); }
  form { display: flex; gap: 6px; margin: 0; }
  input { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; width: 260px; }
  button { font: inherit; padding: 3px 12px; border: 1px solid var(--line); border-radius: 6px;
           background: var(--card); color: var(--fg); cursor: pointer; }
  button:hover { border-color: var(--accent); color: var(--accent); }
  button.danger:hover { border-color: var(--bad); color: var(--bad); }
  button:disabled { opacity: .5; cursor: default; }
  #notices { position: fixed; right: 16px; bottom: 16px; display: grid; gap: 8px; z-index: 10; }
  .notice { background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--ok);
            border-radius: 6px; padding: 8px 12px; box-shadow: 0 2px 8px rgba(16,24,40,.08); max-width: 420px; }
  .notice.bad { border-left-color: var(--bad); }
  #apps tbody tr { cursor: pointer; }
  #apps tbody tr:hover { background: #f9fafb; }
  #apps tbody tr.selected { background: #eef3ff; }
  td.message { color: var(--muted); white-space: normal; max-width: 360px; }
  td.actions { text-align: right; }
  td.actions button { margin-left: 6px; }
  code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--muted); }
  .grid { border-top: 1px solid var(--line); }
  .grid:first-child { border-top: 0; }
  .grid h3 { font-size: 14px; margin: 0; padding: 8px 14px; display: flex; gap: 12px; align-items: baseline; }
  .grid h3 .meta { color: var(--muted); font-weight: normal; font-size: 12px; }
</style>
</head>
<body>
<header>
  <h1>AeroGrid <small>console</small></h1>
  <span class="pill" id="conn"><span class="dot"></span><span>connecting</span></span>
  <span id="who" class="muted"></span>
  <span style="flex:1"></span>
  <form id="signin"><input id="token" type="password" autocomplete="off" placeholder="Paste an access token" aria-label="Access token"><button type="submit">Sign in</button></form>
  <button id="signout" type="button" hidden>Sign out</button>
</header>
<main>
  <section>
    <h2>Apps <span class="meta" id="apps-meta"></span></h2>
    <div class="scroll">
      <table id="apps">
        <thead><tr><th>App</th><th>Tenant</th><th>Status</th><th>Desired</th><th>Grids</th><th>Revision</th><th></th><th></th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <div class="empty" id="no-apps">Waiting for the directory...</div>
  </section>
  <section id="grids-section" hidden>
    <h2><span id="grids-title"></span> <span class="meta" id="grids-meta"></span></h2>
    <div id="grids"></div>
  </section>
</main>
<div id="notices"></div>
<script>
"use strict";
${GRID_TABLE_JS}
(function () {
  var TOKEN_KEY = 'aerogrid.token';
  var collator = AeroGridTable.collator;
  var $ = function (id) { return document.getElementById(id); };
  var apps = new Map();        // "tenant/name" -> App
  var allowed = [];            // actions this user may take
  var selected = null;         // "tenant/name" whose grids are shown
  var watch = null, retryMs = 500, retryTimer = null, signInNeeded = false;
  var live = null;             // { key, url, ws, grids: Map }
  var liveRetryMs = 1000;      // the wait before reconnecting to a sidecar that went away
  var authOn = true;           // until the directory's 'apps' say otherwise (no tenant: auth off)

  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function setPill(node, text, tone) {
    node.className = 'pill ' + (tone || '');
    node.lastElementChild.textContent = text;
  }
  function notice(text, bad) {
    var n = el('div', 'notice' + (bad ? ' bad' : ''), text);
    n.setAttribute('role', 'status');
    $('notices').append(n);
    setTimeout(function () { n.remove(); }, bad ? 10000 : 6000);
  }
  var statusTone = { running: 'ok', starting: 'warn', stale: 'warn', stopped: '', failing: 'bad' };

  // ---- the apps table ----
  function appKey(a) { return a.tenant + '/' + a.name; }
  function renderApps() {
    var keys = Array.from(apps.keys()).sort(collator.compare);
    var body = document.querySelector('#apps tbody');
    body.replaceChildren.apply(body, keys.map(function (k) { return appRow(apps.get(k)); }));
    $('no-apps').hidden = keys.length > 0;
    $('no-apps').textContent = signInNeeded ? 'Sign in to see the apps: paste an access token above.' : 'No apps deployed yet: run aerogrid deploy in a connector folder.';
    $('apps-meta').textContent = keys.length ? keys.length + (keys.length === 1 ? ' app' : ' apps') + ' \\u00b7 select one to see its grids live' : '';
  }
  function appRow(a) {
    var tr = el('tr');
    tr.dataset.app = appKey(a);
    if (appKey(a) === selected) tr.className = 'selected';
    var name = el('td');
    name.append(el('strong', '', a.name));
    var status = el('td', 'status');
    status.dataset.status = a.status;
    var pill = el('span', 'pill ' + (statusTone[a.status] || ''));
    pill.append(el('span', 'dot'), el('span', '', a.status + (a.status === 'running' && !a.ready ? ' (not ready)' : '')));
    status.append(pill);
    var message = el('td', 'message', a.message || (a.stale_since ? 'data as of ' + new Date(a.stale_since).toLocaleTimeString() : ''));
    var actions = el('td', 'actions');
    if (allowed.indexOf(a.desired === 'running' ? 'stop' : 'start') >= 0) actions.append(actionButton(a, a.desired === 'running' ? 'stop' : 'start'));
    if (allowed.indexOf('rollback') >= 0) actions.append(actionButton(a, 'rollback'));
    if (allowed.indexOf('delete') >= 0) actions.append(actionButton(a, 'delete'));
    tr.append(name, el('td', 'muted', a.tenant), status, el('td', '', a.desired),
      el('td', '', a.grids.map(function (g) { return g.name; }).join(', ')),
      (function () { var td = el('td'); td.append(el('code', '', (a.revision || '').slice(0, 12))); return td; })(),
      message, actions);
    tr.addEventListener('click', function (e) { if (e.target.tagName !== 'BUTTON') select(appKey(a)); });
    return tr;
  }
  function actionButton(a, action) {
    var label = { stop: 'Stop', start: 'Start', rollback: 'Roll back', 'delete': 'Delete' }[action];
    var b = el('button', action === 'delete' ? 'danger' : '', label);
    b.type = 'button';
    b.dataset.action = action;
    b.addEventListener('click', function () {
      if (action === 'delete' && !confirm('Delete ' + appKey(a) + '? Its folder is removed from the GitOps repo (aerogrid rollback brings it back).')) return;
      if (action === 'rollback' && !confirm('Roll ' + appKey(a) + ' back to the release before the latest? (aerogrid releases ' + appKey(a) + ' lists them)')) return;
      b.disabled = true;
      var path = '/v1/apps/' + encodeURIComponent(a.tenant) + '/' + encodeURIComponent(a.name) + (action === 'delete' ? '' : '/' + action);
      var headers = {};
      if (token()) headers.Authorization = 'Bearer ' + token();
      fetch(path, { method: action === 'delete' ? 'DELETE' : 'POST', headers: headers })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (r) {
          if (!r.ok) throw new Error(r.body && r.body.error ? r.body.error.message : 'failed');
          notice((r.body.changed === false ? 'Nothing to change for ' : label + ' of ') + appKey(a) + (r.body.release ? ' to release ' + r.body.release : '') + ' committed: ' + r.body.commit.slice(0, 12));
        })
        .catch(function (err) { notice(action + ' ' + appKey(a) + ': ' + err.message, true); b.disabled = false; });
    });
    return b;
  }

  // ---- the directory watch ----
  function onWatch(msg) {
    switch (msg.type) {
      case 'authenticated':
        if (msg.subject) $('who').textContent = msg.subject + ' \\u00b7 tenant ' + msg.tenant;
        break;
      case 'apps':
        retryMs = 500;
        signInNeeded = false;
        allowed = msg.allowed || [];
        authOn = !!msg.tenant;
        apps = new Map(msg.apps.map(function (a) { return [appKey(a), a]; }));
        if (!msg.tenant) {
          // Auth is off (loopback only): no sign-in to offer.
          $('who').textContent = 'auth off \\u00b7 every tenant';
          $('signin').hidden = true;
          $('signout').hidden = true;
        }
        renderApps();
        followSelected();
        break;
      case 'app':
        apps.set(appKey(msg.app), msg.app);
        renderApps();
        followSelected();
        break;
      case 'removed':
        apps.delete(msg.tenant + '/' + msg.name);
        renderApps();
        followSelected();
        break;
      case 'ready':
        notice(appKey(msg.app) + ' is ready: its grids are live.');
        break;
      case 'error':
        if (msg.code === 'unauthorized' || msg.code === 'token_expired' || msg.code === 'forbidden') {
          signInNeeded = true;
          apps = new Map();
          renderApps();
          notice(msg.message, true);
        }
        break;
    }
  }
  function connectWatch() {
    retryTimer = null;
    setPill($('conn'), 'connecting', 'warn');
    var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/apps/watch', 'aerogrid.directory.v1');
    watch = ws;
    ws.onopen = function () {
      setPill($('conn'), 'connected', 'ok');
      // Even without a token: with auth on the refusal comes at once, not after the auth timeout
      // (with auth off the directory just answers 'authenticated').
      ws.send(JSON.stringify({ op: 'auth', token: token() }));
    };
    ws.onmessage = function (e) { try { onWatch(JSON.parse(e.data)); } catch (err) { console.warn(err); } };
    ws.onclose = function (e) {
      if (watch !== ws) return;
      watch = null;
      if (e.code === 4401 || e.code === 4403) {
        setPill($('conn'), 'signed out', 'bad');
        signInNeeded = true;
        renderApps();
        return;   // reconnects when a token is given
      }
      var wait = retryMs;
      retryMs = Math.min(retryMs * 2, 10000);
      setPill($('conn'), 'disconnected \\u00b7 retrying in ' + Math.round(wait / 100) / 10 + ' s', 'bad');
      retryTimer = setTimeout(connectWatch, wait);
    };
  }
  function reconnectWatch() {
    if (retryTimer) clearTimeout(retryTimer);
    var old = watch;
    watch = null;
    if (old) old.close();
    connectWatch();
  }

  // ---- sign-in: a pasted access token (OIDC sign-in is a follow-up) ----
  function showSignedIn() {
    var signedIn = !!token();
    $('signin').hidden = signedIn;
    $('signout').hidden = !signedIn;
    if (!signedIn) $('who').textContent = '';
  }
  $('signin').addEventListener('submit', function (e) {
    e.preventDefault();
    var t = $('token').value.trim();
    if (!t) return;
    sessionStorage.setItem(TOKEN_KEY, t);
    $('token').value = '';
    showSignedIn();
    closeLive();
    reconnectWatch();
  });
  $('signout').addEventListener('click', function () {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignedIn();
    apps = new Map();
    renderApps();
    closeLive();
    reconnectWatch();
  });

  // ---- the selected app's grids, live from its sidecar ----
  function select(key) {
    if (key !== selected) liveRetryMs = 1000;
    selected = key;
    renderApps();
    followSelected();
  }
  /** The tables of a connection that was lost: the next connection to the same app resumes them. */
  var kept = null;
  function closeLive() {
    if (live && live.socket) { live.closing = true; live.socket.close(); }
    live = null;
    $('grids').replaceChildren();
  }
  function followSelected() {
    var a = selected ? apps.get(selected) : null;
    $('grids-section').hidden = !a;
    if (!a) { closeLive(); return; }
    $('grids-title').textContent = 'Grids of ' + selected;
    $('grids-meta').textContent = a.ws ? 'live from ' + a.url : 'the app is ' + a.status + (a.message ? ': ' + a.message : '');
    if (live && live.key === selected && live.ws === a.ws) return;
    closeLive();
    if (!a.ws) {
      $('grids').replaceChildren(el('div', 'empty', a.status === 'stopped' ? 'The app is stopped: start it to see its grids.' : 'Waiting for the app to serve its grids...'));
      return;
    }
    openLive(selected, a.ws);
  }
  function openLive(key, url) {
    var state = { key: key, ws: url, grids: new Map(), socket: null, closing: false, subs: 0 };
    live = state;
    var prev = kept && kept.key === key ? kept : null;
    kept = null;
    if (prev && prev.grids.size > 0) {
      // Reconnecting: the tables stay, and resume from their seq once subscribed again.
      var names = Array.from(prev.grids.keys()).sort(collator.compare);
      $('grids').replaceChildren();
      names.forEach(function (n) { var v = prev.grids.get(n); v.id = null; state.grids.set(n, v); $('grids').append(v.box); });
    } else $('grids').replaceChildren(el('div', 'empty', 'Connecting to the app...'));
    var socket = new WebSocket(url, '${CLIENT_PROTOCOL}');
    state.socket = socket;
    // Even without a token: the sidecar's refusal then comes at once, not after its auth timeout.
    socket.onopen = function () { if (authOn) socket.send(JSON.stringify({ op: 'auth', token: token() })); };
    socket.onmessage = function (e) {
      var msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      if (live !== state) return;
      if (msg.type === 'hello') liveRetryMs = 1000;
      if (msg.type === 'hello' || msg.type === 'status') (msg.grids || []).forEach(function (g) { subscribe(state, g.name); });
      else if (msg.type === 'snapshot') onSnapshot(state, msg);
      else if (msg.type === 'delta') onDelta(state, msg);
      else if (msg.type === 'resumed') { var rv = byId(state, msg.id); if (rv) rv.resumed(msg); }
      else if (msg.type === 'error' && !msg.id) { state.errorShown = true; $('grids').replaceChildren(el('div', 'empty', msg.message)); }
    };
    socket.onclose = function (e) {
      if (state.closing || live !== state) return;
      // Refused (token, tenant, group): the same token would be refused again. The error stays
      // until the user signs in again or the app moves to another sidecar.
      if (e.code >= 4400 && e.code < 4500) {
        if (!state.errorShown) $('grids').replaceChildren(el('div', 'empty', e.reason || 'The app refused the connection.'));
        return;
      }
      // The app restarts or stops: the directory says what comes next; retry the same sidecar
      // meanwhile, less and less often.
      var wait = liveRetryMs;
      liveRetryMs = Math.min(liveRetryMs * 2, 30000);
      setTimeout(function () { if (live === state) { live = null; kept = state; followSelected(); } }, wait);
    };
  }
  function subscribe(state, name) {
    var view = state.grids.get(name);
    if (view && view.id) return;
    if (!view) view = gridView(state, name);
    view.id = 's' + (++state.subs);
    state.socket.send(JSON.stringify(view.loaded ? { op: 'subscribe', id: view.id, grid: name, seq: view.data.seq } : { op: 'subscribe', id: view.id, grid: name }));
  }
  function gridView(state, name) {
    if (state.grids.size === 0) $('grids').replaceChildren();
    var view = AeroGridTable.create(name, { tag: 'div', className: 'grid', heading: 'h3' });
    state.grids.set(name, view);
    var names = Array.from(state.grids.keys()).sort(collator.compare);
    var next = state.grids.get(names[names.indexOf(name) + 1]);
    $('grids').insertBefore(view.box, next ? next.box : null);
    return view;
  }
  function byId(state, id) {
    var found = null;
    state.grids.forEach(function (v) { if (v.id === id) found = v; });
    return found;
  }
  function onSnapshot(state, msg) {
    var view = byId(state, msg.id);
    if (view) view.snapshot(msg);
  }
  function onDelta(state, msg) {
    var view = byId(state, msg.id);
    if (view) view.delta(msg);
  }

  showSignedIn();
  connectWatch();
})();
</script>
</body>
</html>
`;
