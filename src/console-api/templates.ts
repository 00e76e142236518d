// What the page offers before any code: the templates `aerogrid init` knows, the topics a tenant may
// read (its onboarding record in the GitOps repo), and a new app's files, rendered by init's own code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { renderConnector } from '../connector/scaffold.js';
import { listTemplates } from '../connector/templates.js';
import { listTenants } from '../gitops/tenants.js';
import { checkTenant } from '../repo-layout/names.js';
import { packageRoot } from '../paths.js';
import type { ConnectorFiles, TemplateInfo } from '@aerogrid/protocol/console-api';
import { draftGridProblems, normaliseDraftGrids, type DraftGrid } from '@aerogrid/protocol/draft-grids';
import { declaredGridsApp, withDeclaredGrids } from './draft-grids.js';
import { ApiError } from './errors.js';
import { fileNameProblem, SPEC_FILE } from './limits.js';

/** The placeholder app name of a template's files (the contract's TemplateInfo). */
export const TEMPLATE_APP_NAME = 'myapp';
/** The tenant a template's files name when no caller has one (auth off): init's default. */
const DEFAULT_TENANT = 'my-team';

/** The contract's TemplateInfo for each template, its files rendered by init's code for `myapp` of `tenant`. */
export function templates(tenant = DEFAULT_TENANT): Array<TemplateInfo & { title: string; topic: string }> {
  return listTemplates().map(({ name, title, description, topic }) => {
    const { files } = draft({ template: name, name: TEMPLATE_APP_NAME, tenant });
    return { name, title, description, topic, files: files as unknown as ConnectorFiles };
  });
}

/** The topics `tenant` may read ('orders.*': every topic starting 'orders.'); 404 for a tenant not onboarded. */
export async function tenantTopics(repo: string, tenant: string): Promise<{ tenant: string; topics: string[] }> {
  checkTenant(tenant);
  const record = (await listTenants(repo)).find((t) => t.tenant === tenant);
  if (!record) throw new ApiError(404, 'not_found', `no tenant '${tenant}' in the GitOps repo; an admin onboards it with aerogrid tenant add ${tenant} --topics <topics>`);
  return { tenant, topics: record.topics };
}

let version: string | undefined;
function cliVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

export interface DraftRequest {
  template: string; name: string; tenant: string; topic?: string;
  /** The grids the form declared, as the body gives them (checked here); none or []: the template's grids and code. */
  grids?: unknown;
}

/** A draft's answer; `generated`: app.py was written for the declared grids, not taken from the template. */
export interface DraftAnswer { template: string; files: Record<string, string>; yaml: string; grids: unknown; generated: boolean }

/**
 * A new app's connector files (aerogrid.yaml and its code), exactly as `aerogrid init` would write
 * them: the same input checks (names by the CLI's rules, before anything else) and the same templates.
 */
export function draft(request: DraftRequest): DraftAnswer {
  const template = listTemplates().find((t) => t.name === request.template);
  const topic = request.topic ?? template?.topic ?? '';
  const { files } = renderConnector({
    name: request.name,
    tenant: request.tenant,
    topic,
    template: request.template,
    cliVersion: cliVersion(),
  });
  // The connector itself; init's README, tests and pipelines belong to a repo, not to the page.
  const connector = Object.fromEntries([...files].filter(([name]) => !fileNameProblem(name)));
  if (connector[SPEC_FILE] === undefined) throw new ApiError(500, 'internal', `template '${request.template}' has no ${SPEC_FILE}`);
  const declared = declaredGrids(request.grids);
  if (declared) {
    connector[SPEC_FILE] = withDeclaredGrids(connector[SPEC_FILE], declared, topic);
    connector['app.py'] = declaredGridsApp(request.name, topic, declared);
  }
  const yaml = connector[SPEC_FILE];
  const grids = (parseYaml(yaml) as { spec?: { grids?: unknown } }).spec?.grids ?? [];
  return { template: request.template, files: connector, yaml, grids, generated: !!declared };
}

/**
 * A body's `grids`, checked after init's checks of the name, tenant and topic, with the page's own
 * rules (@aerogrid/protocol/draft-grids): never trusted because the page checked them. 422 with
 * every problem, as init says what it refused; undefined when none are declared.
 */
function declaredGrids(value: unknown): DraftGrid[] | undefined {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return undefined;
  const problems = draftGridProblems(value);
  if (problems.length > 0) {
    throw new ApiError(422, 'invalid', `Nothing was created: ${problems.map((p) => p.message).join('; ')}.`, problems.find((p) => p.fix)?.fix);
  }
  return normaliseDraftGrids(value);
}
