// Writing, trying and managing an app from the console, on the console API (docs/console-api.md):
// "New app" (a template, a name checked as it is typed, a topic of the tenant's allowance, grids
// declared in a form with the draft's aerogrid.yaml shown as they change: POST /v1/drafts), the
// editors (app.py and aerogrid.yaml in CodeMirror, loaded on first use), "Validate" (the problems
// marked where they are), "Try it" (pasted JSON lines run offline: the grids and the dead-lettered
// records; an app.py that does not load marked at its line), "Deploy" (then followed until the app is live), "Edit" (a deployed app's
// source), "Releases" (rollback to one, restore a deleted app) and a delete that asks for the name.
// The page only hides what the server would refuse: every call is authorised there.
import { CONSOLE_API, consolePath, type ConnectorFiles, type DeployResponse, type ReleasesResponse, type SourceResponse, type TemplateInfo, type TopicsInfo, type TryResponse } from '@aerogrid/protocol/console-api';
import type { DirectoryApp } from '@aerogrid/protocol/directory-messages';
import { deployedAppProblem, topicProblem } from '@aerogrid/protocol/names';
import { $, el } from '../dom.js';
import { GridTable, collator } from '../grid-table.js';
import { GridsForm } from './grids-form.js';
// Types only: the editor module (CodeMirror) is a chunk of its own, imported on first use.
import type { CodeEditor, Problem } from './editor.js';

/** What the console gives this module. */
export interface AuthorHost {
  token(): string;
  notice(text: string, bad?: boolean): void;
  /** Shows the app's grids live below the apps list. */
  select(key: string): void;
}

/** GET /v1/templates: the contract's, with what this server adds. */
type Template = TemplateInfo & { title?: string; topic?: string };
/** POST /v1/drafts. */
interface DraftResponse { template: string; files: ConnectorFiles; yaml: string; grids: Array<{ name: string; columns: string[] }>; generated?: boolean }

class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly code?: string, readonly fix?: string, readonly where?: { file?: string; line?: number; column?: number }) {
    super(message);
  }
}

let host: AuthorHost;
let developer = false;
let tenant: string | null = null; // the signed-in user's; null with auth off
let templates: Template[] = [];
let editor: CodeEditor | null = null;
let specEditor: CodeEditor | null = null;
let editorModule: Promise<typeof import('./editor.js')> | undefined;
let gridsForm: GridsForm;
/** The newest yaml preview asked for: an older answer that comes late is dropped. */
let previewSerial = 0;
let previewTimer: ReturnType<typeof setTimeout> | undefined;
/** The app in the editor: its tenant and name, and whether it is deployed (Edit) or new. */
let editing: { tenant: string; name: string; deployed: boolean } | null = null;
/** A deploy being followed until the app runs at its commit. */
let pending: { key: string; commit: string; changed: boolean; release: number } | null = null;
let apps = new Map<string, DirectoryApp>();

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (host.token()) headers.authorization = `Bearer ${host.token()}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await response.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: the status says it
  }
  if (!response.ok) {
    const e = json?.error;
    throw new ApiError(e?.message ?? `${method} ${path}: HTTP ${response.status}`, response.status, e?.code, e?.fix, typeof e?.line === 'number' ? { file: e.file, line: e.line, column: e.column } : undefined);
  }
  return json as T;
}

/** An error with its fix, as a block for a panel. */
function errorBlock(error: unknown): HTMLElement {
  const box = el('div', 'error');
  box.setAttribute('role', 'alert');
  box.append(el('div', '', (error as Error).message));
  if (error instanceof ApiError && error.fix) box.append(el('div', 'fix', `fix: ${error.fix}`));
  return box;
}

const appPath = (path: string, t: string, a: string): string => consolePath(path, t, a);

// ---- who may do what ----

/** From each `apps` message of the watch: the user's tenant and whether they may change apps. */
export function setAccess(userTenant: string | null, allowed: string[]): void {
  tenant = userTenant;
  developer = allowed.includes('delete');
  $('new-app').hidden = !developer;
  if (!developer) {
    $('draft-section').hidden = true;
    $('editor-section').hidden = true;
  }
  $('deploy').hidden = !developer;
}

export function isDeveloper(): boolean {
  return developer;
}

// ---- "New app" ----

/** The editor chunk, fetched once; a failed fetch is tried again next time. */
function loadEditor(): Promise<typeof import('./editor.js')> {
  editorModule ??= import('./editor.js').catch((error: unknown) => {
    editorModule = undefined;
    throw new Error(`the code editor could not be loaded (${(error as Error).message}); reload the page`);
  });
  return editorModule;
}

async function openNewApp(): Promise<void> {
  $('draft-section').hidden = false;
  // Fetched while the form is filled in, so the editor opens at once after Create.
  void loadEditor().catch(() => undefined);
  $('draft-error').replaceChildren();
  $('draft-tenant-label').hidden = tenant !== null;
  try {
    if (templates.length === 0) templates = await api<Template[]>('GET', CONSOLE_API.templates);
    const select = $('draft-template') as HTMLSelectElement;
    if (select.options.length === 0) {
      for (const t of templates) {
        const option = el('option', '', t.title ? `${t.title} (${t.name})` : t.name);
        option.value = t.name;
        select.append(option);
      }
    }
    onTemplate();
    await loadTopics();
  } catch (error) {
    $('draft-error').replaceChildren(errorBlock(error));
  }
  checkName();
  ($('draft-name') as HTMLInputElement).focus();
}

/** What the form asks a draft of (the grids only when any are declared: none keeps the template's). */
function draftBody(name: string): Record<string, unknown> {
  const t = draftTenant();
  const grids = gridsForm.grids();
  return {
    template: ($('draft-template') as HTMLSelectElement).value,
    name,
    ...(t ? { tenant: t } : {}),
    topics: [($('draft-topic') as HTMLInputElement).value.trim()],
    ...(grids.length ? { grids } : {}),
  };
}

/**
 * The aerogrid.yaml the form makes, as the server renders it (the same POST /v1/drafts Create
 * sends), asked for a moment after the last change; a name not typed yet shows as the templates'
 * placeholder. A form with problems keeps the last one shown.
 */
function previewDraft(): void {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => void showPreview(), 250);
}

async function showPreview(): Promise<void> {
  const serial = ++previewSerial;
  const out = $('draft-yaml');
  const note = $('draft-yaml-note');
  const name = ($('draft-name') as HTMLInputElement).value;
  if (!checkTopic() || draftTenant() === null || !gridsForm.valid()) {
    out.dataset.stale = 'true';
    note.textContent = 'Fix the form above to see the aerogrid.yaml it makes.';
    return;
  }
  try {
    const draft = await api<DraftResponse>('POST', '/v1/drafts', draftBody(name !== '' && !deployedAppProblem(name) ? name : 'myapp'));
    if (serial !== previewSerial) return;
    out.textContent = draft.yaml;
    out.dataset.stale = 'false';
    note.textContent = draft.generated
      ? 'app.py will be a handler stub that writes the declared grids, their columns from the record\'s fields (the template\'s handler writes the template\'s grid).'
      : 'No grid declared: the template\'s grids and app.py.';
  } catch (error) {
    if (serial !== previewSerial) return;
    out.dataset.stale = 'true';
    note.textContent = (error as Error).message;
  }
}

function onTemplate(): void {
  const t = templates.find((x) => x.name === ($('draft-template') as HTMLSelectElement).value);
  $('draft-template-description').textContent = t?.description ?? '';
  const topic = $('draft-topic') as HTMLInputElement;
  if (t?.topic && !topic.dataset.touched) topic.value = t.topic;
  checkTopic();
}

function draftTenant(): string | null {
  return tenant ?? (($('draft-tenant') as HTMLInputElement).value.trim() || null);
}

async function loadTopics(): Promise<void> {
  const t = draftTenant();
  const list = $('draft-topics');
  list.replaceChildren();
  $('draft-allowance').textContent = '';
  if (!t) return;
  try {
    const info = await api<TopicsInfo>('GET', tenant ? CONSOLE_API.topics : `${CONSOLE_API.topics}?tenant=${encodeURIComponent(t)}`);
    for (const topic of info.topics) {
      const option = el('option');
      option.value = topic.endsWith('.*') ? topic.slice(0, -1) : topic;
      list.append(option);
    }
    $('draft-allowance').textContent = info.topics.length ? `tenant ${info.tenant} may read: ${info.topics.join(', ')}` : `tenant ${info.tenant} may read no topic yet (aerogrid tenant add --topics)`;
    const topic = $('draft-topic') as HTMLInputElement;
    const concrete = info.topics.filter((x) => !x.endsWith('.*'));
    if (!topic.dataset.touched && !allows(info.topics, topic.value) && concrete[0]) topic.value = concrete[0];
  } catch (error) {
    $('draft-allowance').textContent = (error as Error).message;
  }
  checkTopic();
}

function allows(allowance: string[], topic: string): boolean {
  return allowance.some((a) => (a.endsWith('.*') ? topic.startsWith(a.slice(0, -1)) && topic.length > a.length - 1 : a === topic));
}

/** The shared name rules, as the name is typed: why it is refused and a name that would do. */
function checkName(): boolean {
  const name = ($('draft-name') as HTMLInputElement).value;
  const problem = name === '' ? null : deployedAppProblem(name);
  const out = $('draft-name-problem');
  out.textContent = problem ? `The name '${name}' ${problem.reason}${problem.suggestion ? `; try '${problem.suggestion}'` : ''}.` : '';
  out.hidden = !problem;
  // With auth off the tenant is typed: no draft without one.
  ($('draft-create') as HTMLButtonElement).disabled = name === '' || !!problem || !checkTopic() || draftTenant() === null || !gridsForm.valid();
  return !problem && name !== '' && gridsForm.valid();
}

function checkTopic(): boolean {
  const topic = ($('draft-topic') as HTMLInputElement).value.trim();
  const problem = topic === '' ? null : topicProblem(topic);
  const out = $('draft-topic-problem');
  out.textContent = problem ? `The topic '${topic}' ${problem.reason}.` : '';
  out.hidden = !problem;
  return !problem && topic !== '';
}

async function createDraft(): Promise<void> {
  if (!checkName()) return;
  const name = ($('draft-name') as HTMLInputElement).value;
  const t = draftTenant();
  const button = $('draft-create') as HTMLButtonElement;
  button.disabled = true;
  $('draft-error').replaceChildren();
  try {
    const draft = await api<DraftResponse>('POST', '/v1/drafts', draftBody(name));
    const owner = /^\s*tenant:\s*(\S+)/m.exec(draft.files['aerogrid.yaml'])?.[1] ?? t ?? '';
    await openEditor({ tenant: owner, name, deployed: false }, draft.files,
      `New app ${owner}/${name} from ${draft.template}${draft.generated ? ', app.py a stub for the declared grids' : ''}: not deployed yet`);
    $('draft-section').hidden = true;
  } catch (error) {
    $('draft-error').replaceChildren(errorBlock(error));
  } finally {
    checkName();
  }
}

// ---- the editor ----

async function openEditor(app: { tenant: string; name: string; deployed: boolean }, files: ConnectorFiles, meta: string): Promise<void> {
  const { CodeEditor } = await loadEditor();
  editing = app;
  $('editor-section').hidden = false;
  $('editor-title').textContent = `${app.tenant}/${app.name}`;
  $('editor-meta').textContent = meta;
  editor ??= new CodeEditor($('code'), 'app.py');
  specEditor ??= new CodeEditor($('spec'), 'aerogrid.yaml');
  editor.text = files['app.py'];
  specEditor.text = files['aerogrid.yaml'];
  $('problems').replaceChildren();
  $('problems-summary').textContent = '';
  $('try-results').replaceChildren();
  $('deploy-status').textContent = '';
  $('deploy-status').dataset.state = '';
  ($('deploy') as HTMLButtonElement).disabled = false;
  $('editor-section').scrollIntoView({ block: 'start' });
}

function files(): ConnectorFiles {
  return { 'aerogrid.yaml': specEditor!.text, 'app.py': editor!.text };
}

async function validate(): Promise<void> {
  const button = $('validate') as HTMLButtonElement;
  button.disabled = true;
  $('problems-summary').textContent = 'Validating...';
  try {
    const result = await api<{ valid: boolean; problems: Problem[] }>('POST', CONSOLE_API.validate, { files: files() });
    editor!.mark(result.problems.filter((p) => p.file === 'app.py'));
    specEditor!.mark(result.problems.filter((p) => p.file === 'aerogrid.yaml'));
    const errors = result.problems.filter((p) => p.severity === 'error').length;
    const warnings = result.problems.length - errors;
    $('problems-summary').textContent = result.valid
      ? `Valid${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}.`
      : `${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}: marked where they are.`;
    $('problems-summary').dataset.valid = String(result.valid);
    $('problems').replaceChildren(...result.problems.map(problemItem));
  } catch (error) {
    $('problems-summary').textContent = '';
    $('problems').replaceChildren(errorBlock(error));
  } finally {
    button.disabled = false;
  }
}

function problemItem(p: Problem): HTMLElement {
  const li = el('li', p.severity);
  li.dataset.file = p.file;
  li.dataset.line = String(p.line);
  li.append(el('code', '', `${p.file}:${p.line}:${p.column}`), el('span', 'message', ` ${p.message}`));
  if (p.fix) li.append(el('div', 'fix', `fix: ${p.fix}`));
  const where = p.file === 'app.py' ? editor : p.file === 'aerogrid.yaml' ? specEditor : null;
  if (where && p.line > 0) li.addEventListener('click', () => where.goTo(p.line, p.column));
  return li;
}

// ---- "Try it" ----

/** The first topic aerogrid.yaml reads (`spec.topics`), for a try on its latest records. */
function specTopic(): string | null {
  return /^\s*topics:\s*\n\s*-\s*['"]?([^'"\s#]+)/m.exec(files()['aerogrid.yaml'])?.[1] ?? null;
}

/** Runs app.py offline on the pasted records, or (fromTopic) on the latest records of its topic. */
async function tryIt(fromTopic = false): Promise<void> {
  const button = $(fromTopic ? 'try-topic' : 'try') as HTMLButtonElement;
  button.disabled = true;
  const out = $('try-results');
  const topic = fromTopic ? specTopic() : null;
  out.replaceChildren(el('div', 'muted', fromTopic ? `Reading the latest records of ${topic} and running app.py on them...` : 'Running app.py on the records...'));
  try {
    if (fromTopic && !topic) throw new Error('aerogrid.yaml names no topic (spec.topics) to take records from');
    const result = await api<TryResponse & { topic?: string; sandboxed?: boolean }>('POST', CONSOLE_API.try, fromTopic
      ? { files: files(), fromTopic: { topic, count: 20 } }
      : { files: files(), records: ($('try-records') as HTMLTextAreaElement).value, keyed: ($('try-keyed') as HTMLInputElement).checked });
    out.replaceChildren(el('div', 'muted', `${result.records} record${result.records === 1 ? '' : 's'}${result.topic ? ` of ${result.topic}` : ''}, run offline${result.sandboxed === false ? '' : ' in the sandbox'}: nothing deployed, no offset moved.`));
    for (const name of Object.keys(result.grids).sort(collator.compare)) {
      const grid = result.grids[name]!;
      const table = new GridTable(name, { tag: 'div', className: 'grid', heading: 'h3' });
      table.snapshot({ columns: grid.columns, seq: 0, rows: grid.rows as any });
      out.append(table.box);
    }
    out.append(deadLetters(result.deadLetters));
    if (result.output) {
      const pre = el('pre', 'output', result.output);
      pre.id = 'try-output';
      out.append(pre);
    }
  } catch (error) {
    out.replaceChildren(errorBlock(error));
    // app.py does not load: the Python error marked at its line, as Validate marks a problem.
    if (error instanceof ApiError && error.code === 'load_failed' && error.where?.line && (error.where.file ?? 'app.py') === 'app.py') {
      editor!.mark([{ file: 'app.py', line: error.where.line, column: error.where.column ?? 1, severity: 'error', message: error.message, ...(error.fix ? { fix: error.fix } : {}), code: 'load_failed' }]);
    }
  } finally {
    button.disabled = false;
  }
}

function deadLetters(list: TryResponse['deadLetters']): HTMLElement {
  const box = el('div', 'dead-letters');
  box.id = 'try-dead-letters';
  box.append(el('h3', '', list.length ? `Dead-lettered: ${list.length}` : 'No record dead-lettered'));
  if (!list.length) return box;
  const table = el('table');
  const head = el('tr');
  for (const h of ['#', 'key', 'value', 'reason', 'why']) head.append(el('th', '', h));
  table.append(el('thead'), el('tbody'));
  table.tHead!.append(head);
  const show = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  for (const d of list) {
    const tr = el('tr');
    tr.dataset.index = String(d.index);
    tr.append(el('td', 'num', String(d.index + 1)), el('td', '', show(d.key)), el('td', '', show(d.value)), el('td', 'reason', d.reason), el('td', 'message', d.message));
    table.tBodies[0]!.append(tr);
  }
  box.append(table);
  return box;
}

// ---- "Deploy", followed until the app is live ----

async function deploy(): Promise<void> {
  if (!editing) return;
  const button = $('deploy') as HTMLButtonElement;
  const status = $('deploy-status');
  button.disabled = true;
  status.dataset.state = 'committing';
  status.textContent = 'Validating, rendering and committing to the GitOps repo...';
  const key = `${editing.tenant}/${editing.name}`;
  try {
    const r = await api<DeployResponse>('POST', appPath(CONSOLE_API.deploy, editing.tenant, editing.name), { files: files() });
    pending = { key, commit: r.commit, changed: r.changed, release: r.release };
    editing.deployed = true;
    status.dataset.state = 'waiting';
    status.textContent = `${r.changed ? `Release ${r.release} committed` : `Nothing changed: still release ${r.release}`} (${r.commit.slice(0, 12)}); waiting for the app to run...`;
    followDeploy();
  } catch (error) {
    status.dataset.state = 'failed';
    status.replaceChildren(errorBlock(error));
    button.disabled = false;
    // Refused as invalid: the problems, marked where they are, as Validate shows them.
    if (error instanceof ApiError && error.code === 'invalid') void validate();
  }
}

/** Each change of the apps list: a pending deploy is done once its app runs that commit and serves. */
export function onApps(list: Map<string, DirectoryApp>): void {
  apps = list;
  followDeploy();
}

function followDeploy(): void {
  if (!pending) return;
  const a = apps.get(pending.key);
  const status = $('deploy-status');
  if (!a) return;
  const atCommit = !pending.changed || a.revision === pending.commit;
  if (!atCommit) return;
  if (a.status === 'running' && a.ws) {
    status.dataset.state = 'live';
    status.textContent = `Release ${pending.release} of ${pending.key} is live: its grids are below.`;
    ($('deploy') as HTMLButtonElement).disabled = false;
    const key = pending.key;
    pending = null;
    host.select(key);
    return;
  }
  status.textContent = `Release ${pending.release} committed (${pending.commit.slice(0, 12)}); the app is ${a.status}${a.message ? `: ${a.message}` : ''}...`;
  if (a.status === 'failing') ($('deploy') as HTMLButtonElement).disabled = false;
}

// ---- "Edit", "Releases", restore and delete ----

/** "Edit" on a deployed app: its source, as its GitOps folder holds it, in the editor. */
export async function editApp(a: { tenant: string; name: string }, release?: number): Promise<void> {
  try {
    const path = appPath(CONSOLE_API.source, a.tenant, a.name) + (release ? `?release=${release}` : '');
    const source = await api<SourceResponse & { deployed?: boolean }>('GET', path);
    $('draft-section').hidden = true;
    await openEditor({ tenant: a.tenant, name: a.name, deployed: source.deployed !== false }, source.files,
      `${release ? `release ${release}` : `deployed${source.release ? `, release ${source.release}` : ''}`} · ${source.revision.slice(0, 12)}: Deploy makes a new release`);
  } catch (error) {
    host.notice(`Edit ${a.tenant}/${a.name}: ${(error as Error).message}`, true);
  }
}

/** "Releases": the app's numbered releases, newest first, with rollback (or restore, deleted). */
export async function showReleases(t: string, name: string): Promise<void> {
  const section = $('releases-section');
  section.hidden = false;
  section.dataset.app = `${t}/${name}`;
  $('releases-title').textContent = `Releases of ${t}/${name}`;
  const body = $('releases');
  body.replaceChildren(el('div', 'muted', 'Loading...'));
  try {
    const r = await api<ReleasesResponse>('GET', appPath(CONSOLE_API.releases, t, name));
    $('releases-meta').textContent = r.deleted ? 'deleted: Restore brings back its last release' : `${r.releases.length} release${r.releases.length === 1 ? '' : 's'}`;
    const parts: HTMLElement[] = [];
    if (r.deleted && developer) {
      const restore = el('button', '', `Restore ${name}`);
      restore.type = 'button';
      restore.id = 'restore';
      restore.addEventListener('click', () => void restoreApp(t, name, restore));
      parts.push(restore);
    }
    const table = el('table');
    const head = el('tr');
    for (const h of ['release', 'action', 'by', 'at', 'commit', '']) head.append(el('th', '', h));
    table.append(el('thead'), el('tbody'));
    table.tHead!.append(head);
    r.releases.forEach((rel, i) => {
      const tr = el('tr');
      tr.dataset.release = String(rel.number);
      const actions = el('td', 'actions');
      const view = el('button', '', 'Source');
      view.type = 'button';
      view.dataset.release = String(rel.number);
      view.addEventListener('click', () => void editApp({ tenant: t, name }, rel.number));
      if (developer) actions.append(view);
      if (developer && !r.deleted && i > 0) {
        const back = el('button', '', `Roll back to ${rel.number}`);
        back.type = 'button';
        back.dataset.rollback = String(rel.number);
        back.addEventListener('click', () => void rollbackTo(t, name, rel.number, back));
        actions.append(back);
      }
      const what = rel.action === 'rollback' && rel.rollbackTo ? `rollback to ${rel.rollbackTo}` : rel.action;
      const code = el('td');
      code.append(el('code', '', rel.commit.slice(0, 12)));
      tr.append(el('td', 'num', String(rel.number)), el('td', '', what), el('td', '', rel.by), el('td', 'muted', new Date(rel.at).toLocaleString()), code, actions);
      table.tBodies[0]!.append(tr);
    });
    parts.push(table);
    body.replaceChildren(...parts);
  } catch (error) {
    $('releases-meta').textContent = '';
    body.replaceChildren(errorBlock(error));
  }
}

async function rollbackTo(t: string, name: string, release: number, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    const r = await api<{ commit: string; release?: number; changed?: boolean }>('POST', `${appPath('/v1/apps/:tenant/:app/rollback', t, name)}?release=${release}`);
    host.notice(`${t}/${name} rolled back to release ${release}: ${String(r.commit).slice(0, 12)}`);
    await showReleases(t, name);
  } catch (error) {
    host.notice(`Roll back ${t}/${name}: ${(error as Error).message}`, true);
    button.disabled = false;
  }
}

async function restoreApp(t: string, name: string, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    const r = await api<{ commit: string; release: number }>('POST', appPath(CONSOLE_API.restore, t, name));
    host.notice(`${t}/${name} restored as release ${r.release} had it: ${r.commit.slice(0, 12)}`);
    await showReleases(t, name);
  } catch (error) {
    host.notice(`Restore ${t}/${name}: ${(error as Error).message}`, true);
    button.disabled = false;
  }
}

/** Asks for the app's name, typed, before a delete; resolves whether it was. */
export function confirmDelete(a: { tenant: string; name: string }): Promise<boolean> {
  const dialog = $('delete-dialog') as HTMLDialogElement;
  const input = $('delete-name') as HTMLInputElement;
  const ok = $('delete-confirm') as HTMLButtonElement;
  $('delete-app').textContent = `${a.tenant}/${a.name}`;
  $('delete-expected').textContent = a.name;
  input.value = '';
  ok.disabled = true;
  input.oninput = () => {
    ok.disabled = input.value !== a.name;
  };
  // Buttons, not a dialog form: the page's policy allows no form submission.
  ok.onclick = () => dialog.close('delete');
  $('delete-cancel').onclick = () => dialog.close('cancel');
  input.onkeydown = (e) => {
    if (e.key === 'Enter' && input.value === a.name) dialog.close('delete');
  };
  return new Promise((resolve) => {
    dialog.onclose = () => resolve(dialog.returnValue === 'delete' && input.value === a.name);
    dialog.returnValue = '';
    dialog.showModal();
    input.focus();
  });
}

export function initAuthoring(h: AuthorHost): void {
  host = h;
  gridsForm = new GridsForm($('draft-grids'), () => {
    checkName();
    previewDraft();
  });
  $('new-app').addEventListener('click', () => void openNewApp().then(previewDraft));
  $('draft-template').addEventListener('change', () => {
    onTemplate();
    previewDraft();
  });
  $('draft-name').addEventListener('input', () => {
    checkName();
    previewDraft();
  });
  $('draft-topic').addEventListener('input', () => {
    $('draft-topic').dataset.touched = '1';
    checkName();
    previewDraft();
  });
  $('draft-tenant').addEventListener('change', () => void loadTopics().then(previewDraft));
  $('draft-tenant').addEventListener('input', () => void checkName());
  $('draft-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void createDraft();
  });
  $('draft-cancel').addEventListener('click', () => {
    $('draft-section').hidden = true;
  });
  $('validate').addEventListener('click', () => void validate());
  $('try').addEventListener('click', () => void tryIt());
  $('try-topic').addEventListener('click', () => void tryIt(true));
  $('deploy').addEventListener('click', () => void deploy());
  $('editor-close').addEventListener('click', () => {
    $('editor-section').hidden = true;
    editing = null;
  });
  // The releases of an app by name: also of a deleted one, which the apps list no longer shows.
  $('lookup-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = ($('lookup-name') as HTMLInputElement).value.trim();
    const [t, a] = name.includes('/') ? name.split('/', 2) as [string, string] : [tenant ?? '', name];
    if (!t) return host.notice('With auth off, name the app as tenant/app.', true);
    if (a) void showReleases(t, a);
  });
  $('releases-close').addEventListener('click', () => {
    $('releases-section').hidden = true;
  });
}
