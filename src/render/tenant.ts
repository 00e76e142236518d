// Renders a tenant's admin-owned folder, platform/tenants/<tenant>/: a kustomization over the
// versioned tenant base (bases/tenant/v1: the namespace and its guard-rails, i.e. Pod Security
// labels, quota, limits, default-deny network policy, JWT authentication paired with policies
// denying requests without a token or with another tenant's, the sidecars' token and Kafka
// settings) that puts the base into the tenant's namespace and patches in the tenant's values; the
// tenant's Argo CD AppProject and ApplicationSet; and tenant.yaml, what `tenant add` was given.
// Tenants cannot edit any of it: their AppProject only lets them sync the app kinds into their own
// namespace. Values from input reach the files as quoted scalars (`q`) or checked names, built as
// objects and written by the yaml package, never spliced into YAML text.
import { Document, Scalar, parse } from 'yaml';
import { CliError, ExitCode } from '../errors.js';
import { checkTenant, checkTopic } from '../repo-layout/names.js';
import { TENANT_BASE_DIR, platformTenantDir } from '../repo-layout/folders.js';
import type { Files } from './app.js';

export interface TenantOptions {
  tenant: string;
  /** Topics the tenant's apps may read: names, or 'prefix*'. */
  topics: string[];
  /** The GitOps repo as Argo CD reaches it. */
  repoUrl: string;
  /** Kafka bootstrap servers as the pods reach them. */
  kafka: string;
  oidc?: { issuer: string; audience: string; jwksUri?: string; tenantClaim?: string };
  /** Default: the tenant base's (4 CPUs, 8Gi, 40 pods). */
  quota?: { cpu: string; memory: string; pods: number };
  argocdNamespace?: string;
}

export interface TenantRecord {
  tenant: string;
  topics: string[];
  kafka: string;
  repoUrl: string;
  issuer?: string;
  audience?: string;
  tenantClaim?: string;
}

/** The claim that names a user's tenant, unless the tenant was given another (URL-style names are fine). */
export const DEFAULT_TENANT_CLAIM = 'tenant';

/**
 * A tenant claim as it can be written into the mesh's `when.key: request.auth.claims[<claim>]`:
 * letters, digits and . _ - : / (URL-style names such as https://aerogrid.dev/tenant). Quotes,
 * brackets and whitespace would change the expression.
 */
const TENANT_CLAIM = /^[A-Za-z0-9._:\/-]{1,256}$/;

/** The tenant claim, or a CliError (exit 2) saying why it cannot be written into the mesh policy. */
export function checkTenantClaim(value: string): string {
  if (TENANT_CLAIM.test(value)) return value;
  const bad = [...new Set([...value].filter((ch) => !/[A-Za-z0-9._:\/-]/.test(ch)))].map((ch) => JSON.stringify(ch)).join(', ');
  throw new CliError(`--tenant-claim ${JSON.stringify(value)} cannot be written into the mesh policy's when.key (request.auth.claims[...])${value ? `: it holds ${bad || 'over 256 characters'}` : ': it is empty'}.`, {
    exitCode: ExitCode.usage,
    hint: 'Name the claim with letters, digits and . _ - : / only, e.g. --tenant-claim tenant or --tenant-claim https://aerogrid.dev/tenant (a top-level claim of the access token).',
  });
}

export const TENANT_FILE = 'tenant.yaml';
const IN_CLUSTER = 'https://kubernetes.default.svc';
/** What a tenant's AppProject lets Argo CD create: exactly the kinds of the connector base. */
const APP_KINDS = [['apps', 'Deployment'], ['', 'Service'], ['', 'ConfigMap'], ['policy', 'PodDisruptionBudget'], ['security.istio.io', 'AuthorizationPolicy'], ['gateway.networking.k8s.io', 'HTTPRoute']];
/** The name the tenant base gives its Namespace, replaced by the tenant's. */
const BASE_NAMESPACE = 'tenant';

/** A value from input, written double-quoted whatever it holds. */
const q = (value: string) => Object.assign(new Scalar(value), { type: Scalar.QUOTE_DOUBLE });

function yamlFile(comment: string, value: unknown): string {
  const doc = new Document(value);
  doc.commentBefore = comment.split('\n').map((line) => ` ${line}`).join('\n');
  return doc.toString({ lineWidth: 0 });
}

/**
 * A patch of the tenant base, in the file named after the base file it patches: a strategic merge
 * patch (an object naming its target), or JSON patch operations with `target` where a value sits
 * inside a list.
 */
interface Patch { file: string; comment: string; value: unknown; target?: { kind: string; name: string } }

export function renderTenant(options: TenantOptions): Files {
  const t = checkTenant(options.tenant);
  const topics = options.topics.map((topic) => checkTopic(topic, { pattern: true }));
  const tenantClaim = checkTenantClaim(options.oidc?.tenantClaim ?? DEFAULT_TENANT_CLAIM);
  const dir = platformTenantDir(t);
  const files: Files = new Map();

  files.set(`${dir}/${TENANT_FILE}`, yamlFile(`Tenant ${t}: what \`aerogrid tenant add\` was given. Read by \`aerogrid deploy\` and \`tenant list\`; not applied to the cluster.`, {
    apiVersion: 'aerogrid.dev/v1',
    kind: 'Tenant',
    metadata: { name: t },
    spec: {
      topics: topics.map(q),
      kafka: q(options.kafka),
      repoUrl: q(options.repoUrl),
      ...(options.oidc ? { issuer: q(options.oidc.issuer), audience: q(options.oidc.audience), tenantClaim: q(tenantClaim) } : {}),
    },
  }));

  const patches = basePatches(t, topics, tenantClaim, options);
  for (const patch of patches) files.set(`${dir}/${patch.file}`, yamlFile(patch.comment, patch.value));
  // The base's objects name no namespace: they go into the tenant's. The Argo CD objects name
  // Argo CD's, which a plain `namespace:` field would overwrite; `unsetOnly` keeps it.
  const namespaceTransformer = new Document({
    apiVersion: 'builtin', kind: 'NamespaceTransformer', metadata: { name: 'tenant-namespace', namespace: t }, unsetOnly: true,
  }).toString();
  files.set(`${dir}/kustomization.yaml`, yamlFile(`Admin-owned: the guard-rails (the tenant base with tenant ${t}'s values) and the Argo CD objects of tenant ${t}.\nWritten by \`aerogrid tenant add\`.`, {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [`../../../${TENANT_BASE_DIR}`, 'app-project.yaml', 'application-set.yaml'],
    labels: [{ pairs: { 'aerogrid.dev/tenant': t, 'app.kubernetes.io/managed-by': 'aerogrid' } }],
    patches: patches.map((p) => ({ path: p.file, ...(p.target ? { target: p.target } : {}) })),
    transformers: [namespaceTransformer],
  }));

  const argo = argoCdObjects(t, options.repoUrl, options.argocdNamespace ?? 'argocd');
  files.set(`${dir}/app-project.yaml`, yamlFile(`The tenant's Argo CD project: its own namespace only, only the kinds an app is made of, no
cluster-scoped objects. Quotas, network and auth policies stay out of the tenant's reach.`, argo.appProject));
  files.set(`${dir}/application-set.yaml`, yamlFile(`One Argo CD Application per folder under tenants/${t}/apps/. The project is fixed here, never
taken from the folder, so an app cannot leave its tenant.`, argo.applicationSet));
  return files;
}

/** The tenant's values, as patches of the tenant base; the quota and the OIDC settings only when given. */
function basePatches(t: string, topics: string[], tenantClaim: string, options: TenantOptions): Patch[] {
  const { oidc, quota } = options;
  const kafkaPorts = [...new Set(options.kafka.split(',').map((b) => Number(b.trim().split(':').pop())).filter((p) => Number.isInteger(p) && p > 0))];
  return [
    {
      file: 'namespace.yaml', comment: 'The namespace is named after the tenant.',
      target: { kind: 'Namespace', name: BASE_NAMESPACE },
      value: [{ op: 'replace', path: '/metadata/name', value: t }],
    },
    ...(quota ? [{
      file: 'resource-quota.yaml', comment: `The quota of tenant ${t}, in place of the base's default.`,
      value: {
        apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'tenant-quota' },
        spec: {
          hard: {
            'requests.cpu': q(quota.cpu), 'requests.memory': q(quota.memory),
            'limits.cpu': q(quota.cpu), 'limits.memory': q(quota.memory),
            pods: q(String(quota.pods)), services: q(String(quota.pods)),
          },
        },
      },
    }] : []),
    {
      file: 'network-policy.yaml', comment: 'Egress to the ports of the tenant\'s Kafka bootstrap servers (the base\'s second egress rule).',
      target: { kind: 'NetworkPolicy', name: 'connector-allowances' },
      value: [{ op: 'replace', path: '/spec/egress/1/ports', value: kafkaPorts.map((port) => ({ port, protocol: 'TCP' })) }],
    },
    ...(oidc ? [{
      file: 'request-authentication.yaml', comment: `The tokens valid in tenant ${t}'s namespace: its OIDC issuer's, for its audience.`,
      value: {
        apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'tenant-jwt' },
        spec: {
          jwtRules: [{
            issuer: q(oidc.issuer),
            ...(oidc.jwksUri ? { jwksUri: q(oidc.jwksUri) } : {}),
            audiences: [q(oidc.audience)],
            forwardOriginalToken: true,
          }],
        },
      },
    }] : []),
    {
      file: 'authorization-policy.yaml', comment: 'Tokens whose tenant claim does not name this tenant are denied (tenant-only\'s rule).',
      target: { kind: 'AuthorizationPolicy', name: 'tenant-only' },
      value: [{ op: 'replace', path: '/spec/rules/0/when', value: [{ key: q(`request.auth.claims[${tenantClaim}]`), notValues: [t] }] }],
    },
    {
      file: 'kafka.yaml', comment: `Kafka as tenant ${t}'s sidecars reach it, and the topics it may read (consumer groups aerogrid.${t}.*).`,
      value: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aerogrid-kafka' }, data: { AEROGRID_BROKER: q(options.kafka), AEROGRID_ALLOWED_TOPICS: q(topics.join(',')) } },
    },
    ...(oidc ? [{
      file: 'auth.yaml', comment: `How tenant ${t}'s sidecars verify access tokens: the same issuer, audience and tenant claim as the mesh.`,
      value: {
        apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aerogrid-auth' },
        data: {
          AEROGRID_OIDC_ISSUER: q(oidc.issuer),
          AEROGRID_OIDC_AUDIENCE: q(oidc.audience),
          ...(oidc.jwksUri ? { AEROGRID_JWKS_URI: q(oidc.jwksUri) } : {}),
          AEROGRID_TENANT_CLAIM: q(tenantClaim),
        },
      },
    }] : []),
  ];
}

/**
 * The tenant's AppProject and ApplicationSet. They are written whole rather than patched into a
 * base: they live in Argo CD's namespace, not the tenant's, and nearly every field names the tenant
 * or its repo, so a base would be patched almost entirely. Written here, `project` is plainly the
 * checked tenant name, never templated.
 */
function argoCdObjects(t: string, repoUrl: string, argocd: string): { appProject: unknown; applicationSet: unknown } {
  return {
    appProject: {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: { name: t, namespace: argocd },
      spec: {
        description: q(`AeroGrid apps of tenant ${t}`),
        sourceRepos: [q(repoUrl)],
        destinations: [{ server: IN_CLUSTER, namespace: t }],
        clusterResourceWhitelist: [],
        namespaceResourceWhitelist: APP_KINDS.map(([group, kind]) => ({ group, kind })),
      },
    },
    applicationSet: {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'ApplicationSet',
      metadata: { name: `${t}-apps`, namespace: argocd },
      spec: {
        goTemplate: true,
        goTemplateOptions: ['missingkey=error'],
        generators: [{ git: { repoURL: q(repoUrl), revision: 'main', directories: [{ path: `tenants/${t}/apps/*` }] } }],
        template: {
          metadata: { name: `${t}-{{.path.basename}}`, labels: { 'aerogrid.dev/tenant': t, 'aerogrid.dev/app': '{{.path.basename}}' } },
          spec: {
            project: t,
            source: { repoURL: q(repoUrl), targetRevision: 'main', path: '{{.path.path}}' },
            destination: { server: IN_CLUSTER, namespace: t },
            syncPolicy: {
              automated: { prune: true, selfHeal: true },
              syncOptions: ['CreateNamespace=false'],
              retry: { limit: 5, backoff: { duration: '5s', factor: 2, maxDuration: '3m' } },
            },
          },
        },
      },
    },
  };
}

/**
 * platform/kustomization.yaml listing every tenant, and the platform's own components
 * (platform/system, from `aerogrid platform init`) when the repo has them. The root Argo CD app
 * syncs it.
 */
export function renderPlatformKustomization(tenants: string[], options: { system?: boolean } = {}): string {
  const resources = [...(options.system ? ['system'] : []), ...[...tenants].sort().map((t) => `tenants/${checkTenant(t)}`)];
  return `# Admin-owned: the platform's components and every tenant's guard-rails and Argo CD objects.
# Synced by Argo CD's root app.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:${resources.length ? '' : ' []'}
${resources.map((r) => `  - ${r}`).join('\n')}
`;
}

export async function parseTenantRecord(text: string): Promise<TenantRecord> {
  const doc = parse(text) as any;
  const spec = doc?.spec ?? {};
  return {
    tenant: doc?.metadata?.name, topics: spec.topics ?? [], kafka: spec.kafka, repoUrl: spec.repoUrl,
    ...(spec.issuer ? { issuer: spec.issuer } : {}),
    ...(spec.audience ? { audience: spec.audience } : {}),
    ...(spec.tenantClaim ? { tenantClaim: spec.tenantClaim } : {}),
  };
}
