// "Logs": an app's log lines in a panel (GET /v1/apps/<tenant>/<app>/logs, docs/console-api.md):
// the last lines of both containers or of one, and with Follow the new ones as the server streams
// them (fetch + ReadableStream, the token in the Authorization header). The panel keeps the last
// MAX_LOG_LINES_SHOWN lines, scrolls with new ones unless the user scrolled up, and ends the stream
// when it closes, when the choice changes, or when the user signs out.
import { CONSOLE_API, consolePath, DEFAULT_LOG_TAIL, LOG_CONTAINERS, MAX_LOG_LINES_SHOWN, type LogContainer } from '@aerogrid/protocol/console-api';
import { $, el } from '../dom.js';

/** What the console gives this module. */
export interface LogsHost {
  token(): string;
}

let host: LogsHost;
/** The app whose lines show, and the request that reads them (aborted to end it). */
let shown: { tenant: string; name: string; reading: AbortController | null } | null = null;

/** The panel, made once, before the grids (it sits with the other per-app panels). */
function panel(): HTMLElement {
  const existing = document.getElementById('logs-section');
  if (existing) return existing;
  const section = el('section');
  section.id = 'logs-section';
  section.hidden = true;
  const title = el('h2');
  const name = el('span');
  name.id = 'logs-title';
  const meta = el('span', 'meta');
  meta.id = 'logs-meta';
  meta.setAttribute('role', 'status');
  const close = el('button', '', 'Close');
  close.id = 'logs-close';
  close.type = 'button';
  close.addEventListener('click', closeLogs);
  title.append(name, meta, el('span', 'spacer'), close);

  const controls = el('div', 'buttons');
  const choose = el('label', '', 'Container ');
  const container = el('select');
  container.id = 'logs-container';
  for (const [value, label] of [['', 'both'], ...LOG_CONTAINERS.map((c) => [c, c])] as const) {
    const option = el('option', '', label);
    option.value = value;
    container.append(option);
  }
  choose.append(container);
  const followLabel = el('label');
  const follow = el('input');
  follow.id = 'logs-follow';
  follow.type = 'checkbox';
  followLabel.append(follow, document.createTextNode(' Follow'));
  container.addEventListener('change', () => void load());
  follow.addEventListener('change', () => void load());
  controls.append(choose, followLabel);

  const lines = el('div', 'log-lines');
  lines.id = 'logs-lines';
  lines.setAttribute('role', 'log');
  section.append(title, controls, lines);
  $('grids-section').before(section);
  return section;
}

/** Opens the panel on the app's lines (replacing another app's). */
export function showLogs(tenant: string, name: string): void {
  const section = panel();
  stopReading();
  shown = { tenant, name, reading: null };
  $('logs-title').textContent = `Logs of ${tenant}/${name}`;
  section.hidden = false;
  void load();
}

/** Closes the panel, ending its stream. */
export function closeLogs(): void {
  stopReading();
  shown = null;
  const section = document.getElementById('logs-section');
  if (section) section.hidden = true;
}

function stopReading(): void {
  shown?.reading?.abort();
  if (shown) shown.reading = null;
}

function status(text: string, bad = false): void {
  const meta = $('logs-meta');
  meta.textContent = text;
  meta.classList.toggle('error', bad);
}

/** Appends lines, keeping the last MAX_LOG_LINES_SHOWN; follows the bottom unless scrolled up. */
function append(lines: string[]): void {
  if (lines.length === 0) return;
  const box = $('logs-lines');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 8;
  const fragment = document.createDocumentFragment();
  for (const line of lines.slice(-MAX_LOG_LINES_SHOWN)) {
    const row = el('div', 'log-line', line);
    const container = /^\[(sidecar|runtime|serve)\] /.exec(line)?.[1];
    if (container) row.dataset.container = container;
    fragment.append(row);
  }
  box.append(fragment);
  for (let extra = box.childElementCount - MAX_LOG_LINES_SHOWN; extra > 0; extra--) box.firstElementChild!.remove();
  if (atBottom) box.scrollTop = box.scrollHeight;
}

/** (Re)reads the lines for the panel's app and choices; with Follow, until stopped. */
async function load(): Promise<void> {
  if (!shown) return;
  stopReading();
  const reading = new AbortController();
  const current = shown;
  current.reading = reading;
  const container = ($('logs-container') as HTMLSelectElement).value as LogContainer | '';
  const follow = ($('logs-follow') as HTMLInputElement).checked;
  $('logs-lines').replaceChildren();
  status('loading...');
  const query = new URLSearchParams({ tail: String(DEFAULT_LOG_TAIL), ...(container ? { container } : {}), ...(follow ? { follow: '1' } : {}) });
  const which = container ? `${container} only` : 'sidecar and runtime';
  try {
    const response = await fetch(`${consolePath(CONSOLE_API.logs, current.tenant, current.name)}?${query}`, {
      headers: host.token() ? { authorization: `Bearer ${host.token()}` } : {},
      signal: reading.signal,
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      const error = body?.error;
      throw new Error(error?.message ? `${error.message}${error.fix ? ` (${error.fix})` : ''}` : `HTTP ${response.status}`);
    }
    if (!follow || !response.body) {
      const text = await response.text();
      const lines = text.split('\n').filter((line) => line !== '');
      append(lines);
      status(`${which} · the last ${lines.length} line${lines.length === 1 ? '' : 's'}`);
      return;
    }
    status(`${which} · following`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const lines = (rest + value).split('\n');
      rest = lines.pop() ?? '';
      append(lines);
    }
    if (shown?.reading === reading) status(`${which} · the server ended the stream`);
  } catch (error) {
    if (reading.signal.aborted) return;
    status(`Could not read the logs: ${(error as Error).message}`, true);
  } finally {
    if (current.reading === reading) current.reading = null;
  }
}

export function initLogs(given: LogsHost): void {
  host = given;
}
