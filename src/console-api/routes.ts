// The console's HTTP API (docs/console-api.md), routed by the directory's server: which path is
// which endpoint, what role it needs in which tenant, and the body it reads. Every check is made
// here, on the server, before anything is read from disk, written or run.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { authorise, READ, requestedBy, WRITE, type Principal } from './access.js';
import { readJsonBody } from './body.js';
import { ApiError } from './errors.js';
import { connectorFiles, declaredApp } from './files.js';
import { createLogStreams } from './logs.js';
import type { LogPlace } from '../live/logs.js';
import { CONSOLE_API } from '@aerogrid/protocol/console-api';
import { checkApp, checkTenant } from '../repo-layout/names.js';

export interface ConsoleApiOptions {
  /** The GitOps repo the directory commits to. */
  repo: string;
  /** The Kafka a try may sample a topic's latest records from (none: records must be pasted). */
  broker?: string;
  /** Where an app's log lines are (its runner's log file, or the cluster); undefined: no such app. */
  logs?: (tenant: string, app: string) => LogPlace | undefined;
}

/** A JSON answer, which the server writes. */
export interface ConsoleApiAnswer { status: number; body: unknown }
/**
 * An answer the handler writes itself (a stream): the server hands it the response and its own
 * headers (CORS) to add; whatever it throws before writing the headers is answered as any error.
 */
export interface ConsoleApiStream { stream(res: ServerResponse, headers: OutgoingHttpHeaders): Promise<void> }

/** One endpoint: the caller is known (null with auth off); the body is not read yet. */
export type ConsoleApiHandler = (req: IncomingMessage, principal: Principal | null) => Promise<ConsoleApiAnswer | ConsoleApiStream>;

export interface ConsoleApi {
  /** The endpoint for `path`, or undefined when the path is not the console API's. */
  route(path: string): { methods: string[]; handle: ConsoleApiHandler } | undefined;
}

/** CONSOLE_API's per-app paths: /v1/apps/<tenant>/<app>/<part>. */
const APP_PART = /^\/v1\/apps\/([^/]+)\/([^/]+)\/(source|releases|restore|deploy|logs)$/;

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ApiError(400, 'bad_request', 'the path is not valid percent-encoding');
  }
}

function text(value: unknown, field: string, optional = false): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value === '') throw new ApiError(400, 'bad_request', `'${field}' must be a non-empty string`);
  return value;
}

export function createConsoleApi(options: ConsoleApiOptions): ConsoleApi {
  const { repo } = options;
  const noTenant = (tenant: string) => `no tenant '${tenant}'`;
  const noApp = (tenant: string, name: string) => `no app '${tenant}/${name}'`;
  const logs = createLogStreams((tenant, app) => {
    if (!options.logs) throw new ApiError(503, 'logs_unavailable', 'this directory reads no app\'s logs', 'aerogrid serve --run local (or --run argocd) serves them');
    return options.logs(tenant, app);
  });

  /** The connector of a body, and the tenant it names (checked against the caller before anything else). */
  const connectorOf = async (req: IncomingMessage, principal: Principal | null) => {
    // The role first, in the caller's own tenant: a viewer's body is never read.
    authorise(principal, WRITE, undefined, 'not found');
    const body = await readJsonBody(req);
    const files = connectorFiles(body.files);
    const declared = declaredApp(files);
    authorise(principal, WRITE, declared.tenant, declared.tenant ? noTenant(declared.tenant) : 'not found');
    return { body, files, declared };
  };

  const routes: Record<string, { methods: string[]; handle: ConsoleApiHandler }> = {
    [CONSOLE_API.templates]: {
      methods: ['GET'],
      handle: async (_req, principal) => {
        authorise(principal, READ, undefined, 'not found');
        return { status: 200, body: (await import('./templates.js')).templates(principal?.tenant) };
      },
    },
    [CONSOLE_API.topics]: {
      methods: ['GET'],
      handle: async (req, principal) => {
        // The caller's tenant; with auth off (no caller), the one `?tenant=` names.
        const tenant = principal?.tenant ?? text(new URL(req.url ?? '/', 'http://localhost').searchParams.get('tenant') ?? undefined, 'tenant (?tenant=, with auth off)')!;
        authorise(principal, READ, tenant, noTenant(tenant));
        return { status: 200, body: await (await import('./templates.js')).tenantTopics(repo, tenant) };
      },
    },
    [CONSOLE_API.drafts]: {
      methods: ['POST'],
      handle: async (req, principal) => {
        authorise(principal, WRITE, undefined, 'not found');
        const body = await readJsonBody(req);
        const tenant = text(body.tenant ?? principal?.tenant, 'tenant')!;
        authorise(principal, WRITE, tenant, noTenant(tenant));
        const topics = body.topics === undefined ? [] : body.topics;
        if (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string')) throw new ApiError(400, 'bad_request', "'topics' must be a list of topic names");
        if (topics.length > 1) throw new ApiError(422, 'invalid', `the templates read one topic; give one (not ${topics.length}) and add more to app.py and aerogrid.yaml after`);
        const { draft } = await import('./templates.js');
        return {
          status: 200,
          body: draft({ template: text(body.template, 'template')!, name: text(body.name, 'name')!, tenant, ...(topics[0] ? { topic: topics[0] as string } : {}), grids: body.grids }),
        };
      },
    },
    [CONSOLE_API.validate]: {
      methods: ['POST'],
      handle: async (req, principal) => {
        const { files } = await connectorOf(req, principal);
        return { status: 200, body: await (await import('./validate.js')).validateFiles(files) };
      },
    },
    [CONSOLE_API.try]: {
      methods: ['POST'],
      handle: async (req, principal) => {
        const { body, files, declared } = await connectorOf(req, principal);
        const { sampleRecords, tryConnector } = await import('./try-run.js');
        if (body.fromTopic !== undefined) {
          if (body.records !== undefined) throw new ApiError(400, 'bad_request', "give 'records' or 'fromTopic', not both");
          const tenant = text(declared.tenant ?? principal?.tenant, 'metadata.tenant of aerogrid.yaml')!;
          const sampled = await (await import('./samples.js')).latestRecords({ repo, ...(options.broker ? { broker: options.broker } : {}) }, tenant, body.fromTopic);
          return { status: 200, body: await tryConnector(files, sampled.records, sampled.topic) };
        }
        const records = sampleRecords(body.records, body.keyed);
        return { status: 200, body: await tryConnector(files, records, text(body.topic, 'topic', true)) };
      },
    },
  };

  return {
    route: (path) => {
      const fixed = routes[path];
      if (fixed) return fixed;
      const part = APP_PART.exec(path);
      if (!part) return undefined;
      const what = part[3] as 'source' | 'releases' | 'restore' | 'deploy' | 'logs';
      return {
        methods: what === 'restore' || what === 'deploy' ? ['POST'] : ['GET'],
        handle: async (req, principal) => {
          const [tenant, name] = [decoded(part[1]!), decoded(part[2]!)];
          authorise(principal, what === 'releases' || what === 'logs' ? READ : WRITE, tenant, noApp(tenant, name));
          // The CLI's name rules, before any path or body is made of them (422 with its message).
          checkTenant(tenant);
          checkApp(name);
          if (what === 'logs') return logs.answer(req, principal, tenant, name);
          const deployed = await import('./deployed.js');
          if (what === 'deploy') {
            const { files, declared } = await connectorOf(req, principal);
            if (declared.tenant !== tenant || declared.name !== name) {
              throw new ApiError(422, 'invalid', `aerogrid.yaml names the app '${declared.tenant ?? '?'}/${declared.name ?? '?'}' (metadata.tenant/metadata.name), but this is the deploy of '${tenant}/${name}'`, `deploy it at /v1/apps/${declared.tenant ?? '<tenant>'}/${declared.name ?? '<app>'}/deploy, or change metadata in aerogrid.yaml`);
            }
            return { status: 201, body: await deployed.deployFiles(repo, files, requestedBy(principal)) };
          }
          if (what === 'releases') return { status: 200, body: await deployed.releasesOf(repo, tenant, name) };
          if (what === 'source') {
            const release = new URL(req.url ?? '/', 'http://localhost').searchParams.get('release') ?? undefined;
            return { status: 200, body: await deployed.appSource(repo, tenant, name, release) };
          }
          return { status: 202, body: await deployed.restoreApp(repo, tenant, name, requestedBy(principal)) };
        },
      };
    },
  };
}
