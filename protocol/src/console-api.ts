// The console API (docs/protocol.md §5 "Authoring and management"): what the web console asks of
// `aerogrid serve` beyond the directory, to write, try, deploy and manage an app from a browser.
// Every call is authorised by the server (role and tenant from the access token, docs/protocol.md
// §6); the page only hides what the server would refuse anyway.

/** The paths, relative to the directory's base URL. `:tenant`/`:app` are percent-encoded names. */
export const CONSOLE_API = {
  /** GET: how the console signs users in (no token needed). */
  config: '/v1/console/config',
  /** GET (viewer): the connector templates a new app starts from. */
  templates: '/v1/templates',
  /** GET (viewer): the topics of the caller's tenant's allowance. */
  topics: '/v1/topics',
  /** POST (developer): a new connector's two files from a template, a name and a topic. */
  drafts: '/v1/drafts',
  /** POST (developer): check a connector with the CLI's own validator. */
  validate: '/v1/validate',
  /** POST (developer): run the handler offline on sample records with the SDK's test harness. */
  try: '/v1/try',
  /** POST (developer): the commit `aerogrid deploy` makes (create or update). */
  deploy: '/v1/apps/:tenant/:app/deploy',
  /** GET (developer): the app's aerogrid.yaml and app.py as its GitOps folder holds them. */
  source: '/v1/apps/:tenant/:app/source',
  /** GET (viewer): the app's numbered releases, newest first; also for a deleted app. */
  releases: '/v1/apps/:tenant/:app/releases',
  /** POST (developer): re-deploy the last release of a deleted app. */
  restore: '/v1/apps/:tenant/:app/restore',
  /** GET (viewer): the logs of one container, text/plain; `?container=sidecar|runtime&tail=N&follow=1`. */
  logs: '/v1/apps/:tenant/:app/logs',
} as const;

/** The most a request body may be (a connector's two files and some sample records). */
export const MAX_CONSOLE_BODY_BYTES = 512 * 1024;
/** The most app.py may be. */
export const MAX_APP_CODE_BYTES = 128 * 1024;
/** The most aerogrid.yaml may be. */
export const MAX_APP_SPEC_BYTES = 32 * 1024;
/** The most sample records "Try it" runs, pasted or read from the topic. */
export const MAX_TRY_RECORDS = 1_000;

/** The most grids the New app form declares (POST /v1/drafts `grids`); more are added to the files after. */
export const MAX_DRAFT_GRIDS = 8;
/** The most columns one declared grid has, besides its key. */
export const MAX_DRAFT_COLUMNS = 32;
/** The most fields one declared grid's row key is made of. */
export const MAX_DRAFT_KEY_FIELDS = 4;
/** GET .../logs: the containers a line may come from (each line starts `[sidecar]` or `[runtime]`). */
export const LOG_CONTAINERS = ['sidecar', 'runtime'] as const;
export type LogContainer = (typeof LOG_CONTAINERS)[number];
/** GET .../logs: the last lines given without `?tail=`, and the most `?tail=` may ask for. */
export const DEFAULT_LOG_TAIL = 200;
export const MAX_LOG_TAIL = 2_000;
/** GET .../logs?follow=1: the streams one caller may hold open at once (429 beyond). */
export const MAX_LOG_FOLLOWS_PER_CALLER = 4;
/** The lines the console's logs panel keeps; older ones leave the page. */
export const MAX_LOG_LINES_SHOWN = 2_000;

export type ConsoleRole = 'viewer' | 'developer';

/** GET /v1/console/config: the issuer and audience the directory checks tokens against, and the
 * OIDC client (authorization code + PKCE, public) the console signs in as; null until
 * `serve --oidc-client-id` names one. Auth off: everybody is a developer of every tenant, on loopback only. */
export type ConsoleConfig =
  | { auth: false }
  | { auth: true; issuer: string; audience: string; client_id: string | null; scope: string };

/** GET /v1/templates. */
export interface TemplateInfo {
  name: string;
  description: string;
  /** The template's aerogrid.yaml and app.py, with the placeholder app name `myapp`. */
  files: ConnectorFiles;
}

/** GET /v1/topics. */
export interface TopicsInfo {
  tenant: string;
  topics: string[];
}

/** The two files a console-made connector has. */
export interface ConnectorFiles {
  'aerogrid.yaml': string;
  'app.py': string;
}

/** POST /v1/validate: body { files }. */
export interface ValidateRequest {
  files: ConnectorFiles;
}

/** One problem, as `aerogrid validate --json` reports it: 1-based line and column. */
export interface ConsoleProblem {
  file: keyof ConnectorFiles;
  line: number;
  column: number;
  severity: 'error' | 'warning';
  message: string;
  fix?: string;
}

export interface ValidateResponse {
  valid: boolean;
  problems: ConsoleProblem[];
}

/** POST /v1/try: body { files, records } or { files, fromTopic }. Nothing is deployed, no offset moves. */
export interface TryRequest {
  files: ConnectorFiles;
  /** JSON lines: each line a record value, or {"key": ..., "value": ...} with `keyed: true`. */
  records?: string;
  keyed?: boolean;
  /** Read the latest `count` records of this topic of the allowance, without committing any offset. */
  fromTopic?: { topic: string; count: number };
}

export interface TryResponse {
  /** Each grid after the records, row key → row. */
  grids: Record<string, { columns: string[]; rows: Record<string, Record<string, unknown>> }>;
  /** The records that would be dead-lettered, with why. */
  deadLetters: Array<{ index: number; key: unknown; value: unknown; reason: string; message: string }>;
  /** What the handler printed (cut to a few KiB). */
  output: string;
  records: number;
}

/** POST /v1/apps/:tenant/:app/deploy: body { files }. */
export interface DeployRequest {
  files: ConnectorFiles;
}

export interface DeployResponse {
  commit: string;
  /** The release this deploy made. */
  release: number;
  changed: boolean;
}

/** GET /v1/apps/:tenant/:app/source. */
export interface SourceResponse {
  files: ConnectorFiles;
  release: number | null;
  revision: string;
}

/** GET /v1/apps/:tenant/:app/releases. */
export interface ReleasesResponse {
  tenant: string;
  app: string;
  deleted: boolean;
  /** As `aerogrid releases --json` lists them (src/gitops/releases.ts `Release`). */
  releases: Array<{ number: number; commit: string; at: string; by: string; action: 'deploy' | 'rollback'; sourceCommit?: string; rollbackTo?: number; subject: string }>;
}

/** The error body of every refused call (as the directory's). */
export interface ConsoleError {
  /** `file`, `line`, `column` (1-based): where in the files, when the refusal is about a place (a try's load_failed). */
  error: { code: string; message: string; fix?: string; file?: keyof ConnectorFiles; line?: number; column?: number };
}

/** Fills a CONSOLE_API path. */
export function consolePath(path: string, tenant: string, app: string): string {
  return path.replace(':tenant', encodeURIComponent(tenant)).replace(':app', encodeURIComponent(app));
}
