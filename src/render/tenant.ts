// Renders a tenant's admin-owned files: platform/tenants/<tenant>/ holds the namespace and its
// guard-rails (Pod Security labels, quota, limits, default-deny network policy, JWT
// authentication paired with policies denying requests without a token or with another tenant's,
// the sidecars' token settings), the Kafka settings with the topics the tenant may read, and its
// Argo CD AppProject and ApplicationSet. Tenants cannot edit any of it:
// their AppProject only lets them sync the app kinds into their own namespace.
import { checkTenant, checkTopic } from '../gitops/names.js';
import { platformTenantDir } from '../gitops/layout.js';
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

export const TENANT_FILE = 'tenant.yaml';
const IN_CLUSTER = 'https://kubernetes.default.svc';
/** What a tenant's AppProject lets Argo CD create: exactly the kinds of the connector base. */
const APP_KINDS = [['apps', 'Deployment'], ['', 'Service'], ['', 'ConfigMap'], ['policy', 'PodDisruptionBudget'], ['security.istio.io', 'AuthorizationPolicy']];

const q = (s: string) => JSON.stringify(s);

export function renderTenant(options: TenantOptions): Files {
  const t = checkTenant(options.tenant);
  const topics = options.topics.map((topic) => checkTopic(topic, { pattern: true }));
  const dir = platformTenantDir(t);
  const argocd = options.argocdNamespace ?? 'argocd';
  const quota = options.quota ?? { cpu: '4', memory: '8Gi', pods: 40 };
  const kafkaPorts = [...new Set(options.kafka.split(',').map((b) => Number(b.trim().split(':').pop())).filter((p) => Number.isInteger(p) && p > 0))];
  const files: Files = new Map();
  const labels = `    aerogrid.dev/tenant: ${t}\n    app.kubernetes.io/managed-by: aerogrid`;
  const tenantClaim = options.oidc?.tenantClaim ?? DEFAULT_TENANT_CLAIM;

  files.set(`${dir}/${TENANT_FILE}`, `# Tenant ${t}: what \`aerogrid tenant add\` was given. Read by \`aerogrid deploy\` and \`tenant list\`; not applied to the cluster.
apiVersion: aerogrid.dev/v1
kind: Tenant
metadata:
  name: ${t}
spec:
  topics: [${topics.map(q).join(', ')}]
  kafka: ${q(options.kafka)}
  repoUrl: ${q(options.repoUrl)}
${options.oidc ? `  issuer: ${q(options.oidc.issuer)}\n  audience: ${q(options.oidc.audience)}\n  tenantClaim: ${q(tenantClaim)}\n` : ''}`);

  files.set(`${dir}/kustomization.yaml`, `# Admin-owned: the guard-rails and Argo CD objects of tenant ${t}. Written by \`aerogrid tenant add\`.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - namespace.yaml
  - resource-quota.yaml
  - limit-range.yaml
  - network-policy.yaml
  - request-authentication.yaml
  - authorization-policy.yaml
  - kafka.yaml
  - auth.yaml
  - app-project.yaml
  - application-set.yaml
`);

  files.set(`${dir}/namespace.yaml`, `apiVersion: v1
kind: Namespace
metadata:
  name: ${t}
  labels:
${labels}
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
    pod-security.kubernetes.io/warn: restricted
    pod-security.kubernetes.io/audit: restricted
    istio-injection: enabled
`);

  files.set(`${dir}/resource-quota.yaml`, `apiVersion: v1
kind: ResourceQuota
metadata:
  name: tenant-quota
  namespace: ${t}
  labels:
${labels}
spec:
  hard:
    requests.cpu: ${q(quota.cpu)}
    requests.memory: ${q(quota.memory)}
    limits.cpu: ${q(quota.cpu)}
    limits.memory: ${q(quota.memory)}
    pods: ${q(String(quota.pods))}
    configmaps: "200"
    services: ${q(String(quota.pods))}
    services.loadbalancers: "0"
    services.nodeports: "0"
    persistentvolumeclaims: "0"
`);

  files.set(`${dir}/limit-range.yaml`, `apiVersion: v1
kind: LimitRange
metadata:
  name: tenant-limits
  namespace: ${t}
  labels:
${labels}
spec:
  limits:
    - type: Container
      default: {cpu: 500m, memory: 256Mi}
      defaultRequest: {cpu: 100m, memory: 128Mi}
      max: {cpu: "2", memory: 2Gi}
`);

  files.set(`${dir}/network-policy.yaml`, `# Deny everything, then allow what a connector needs: DNS, Kafka, the mesh's control plane, and
# requests from the mesh's ingress gateway (its pods only, not all of istio-system) to the sidecar's port.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: ${t}
  labels:
${labels}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: connector-allowances
  namespace: ${t}
  labels:
${labels}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/part-of: aerogrid
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: istio-system
          podSelector:
            matchLabels:
              istio: ingressgateway
      ports:
        - {port: 8080, protocol: TCP}
  egress:
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: kube-system
          podSelector:
            matchLabels:
              k8s-app: kube-dns
      ports:
        - {port: 53, protocol: UDP}
        - {port: 53, protocol: TCP}
    - ports:
${kafkaPorts.map((p) => `        - {port: ${p}, protocol: TCP}`).join('\n')}
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: istio-system
      ports:
        - {port: 15012, protocol: TCP}
`);

  const jwtRules = options.oidc
    ? `
    - issuer: ${q(options.oidc.issuer)}
${options.oidc.jwksUri ? `      jwksUri: ${q(options.oidc.jwksUri)}\n` : ''}      audiences: [${q(options.oidc.audience)}]
      forwardOriginalToken: true`
    : ' []';
  files.set(`${dir}/request-authentication.yaml`, `# Which tokens are valid in the namespace. Always paired with authorization-policy.yaml: on its
# own a RequestAuthentication lets requests without any token through.
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: tenant-jwt
  namespace: ${t}
  labels:
${labels}
spec:
  jwtRules:${jwtRules}
`);

  // Browsers cannot set headers on a WebSocket: the add-in sends its token in the first message,
  // which the sidecar verifies itself (with the same issuer, audience and tenant claim, auth.yaml).
  const unguarded = '["/healthz", "/readyz", "/v1/ws"]';
  files.set(`${dir}/authorization-policy.yaml`, `# Deny every request without a verified token (probes and the token-in-first-message WebSocket
# excepted), and every token of another tenant; the apps' own policies allow their viewers on top.
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: require-jwt
  namespace: ${t}
  labels:
${labels}
spec:
  action: DENY
  rules:
    - from:
        - source:
            notRequestPrincipals: ["*"]
      to:
        - operation:
            notPaths: ${unguarded}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: tenant-only
  namespace: ${t}
  labels:
${labels}
spec:
  action: DENY
  rules:
    - from:
        - source:
            requestPrincipals: ["*"]
      when:
        - key: request.auth.claims[${tenantClaim}]
          notValues: [${q(t)}]
`);

  // The sidecars verify tokens too (defence in depth, and the WebSocket's first message): they
  // read these, and refuse to listen beyond loopback without them.
  const authSettings: Record<string, string> = options.oidc
    ? {
        AEROGRID_OIDC_ISSUER: options.oidc.issuer,
        AEROGRID_OIDC_AUDIENCE: options.oidc.audience,
        ...(options.oidc.jwksUri ? { AEROGRID_JWKS_URI: options.oidc.jwksUri } : {}),
        AEROGRID_TENANT_CLAIM: tenantClaim,
      }
    : {};
  files.set(`${dir}/auth.yaml`, `# How the tenant's sidecars verify access tokens${options.oidc ? '' : ': not set (aerogrid tenant add --oidc-issuer ... --oidc-audience ...)'}.
apiVersion: v1
kind: ConfigMap
metadata:
  name: aerogrid-auth
  namespace: ${t}
  labels:
${labels}
data:${Object.keys(authSettings).length ? '' : ' {}'}
${Object.entries(authSettings).map(([k, v]) => `  ${k}: ${q(v)}`).join('\n')}
`);

  files.set(`${dir}/kafka.yaml`, `# Kafka as the sidecars reach it, and what the tenant may read (consumer groups aerogrid.${t}.*).
apiVersion: v1
kind: ConfigMap
metadata:
  name: aerogrid-kafka
  namespace: ${t}
  labels:
${labels}
data:
  AEROGRID_BROKER: ${q(options.kafka)}
  AEROGRID_ALLOWED_TOPICS: ${q(topics.join(','))}
`);

  files.set(`${dir}/app-project.yaml`, `# The tenant's Argo CD project: its own namespace only, only the kinds an app is made of, no
# cluster-scoped objects. Quotas, network and auth policies stay out of the tenant's reach.
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: ${t}
  namespace: ${argocd}
  labels:
${labels}
spec:
  description: ${q(`AeroGrid apps of tenant ${t}`)}
  sourceRepos: [${q(options.repoUrl)}]
  destinations:
    - server: ${IN_CLUSTER}
      namespace: ${t}
  clusterResourceWhitelist: []
  namespaceResourceWhitelist:
${APP_KINDS.map(([group, kind]) => `    - {group: ${q(group!)}, kind: ${kind}}`).join('\n')}
`);

  files.set(`${dir}/application-set.yaml`, `# One Argo CD Application per folder under tenants/${t}/apps/. The project is fixed here, never
# taken from the folder, so an app cannot leave its tenant.
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: ${t}-apps
  namespace: ${argocd}
  labels:
${labels}
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - git:
        repoURL: ${q(options.repoUrl)}
        revision: main
        directories:
          - path: tenants/${t}/apps/*
  template:
    metadata:
      name: '${t}-{{.path.basename}}'
      labels:
        aerogrid.dev/tenant: ${t}
        aerogrid.dev/app: '{{.path.basename}}'
    spec:
      project: ${t}
      source:
        repoURL: ${q(options.repoUrl)}
        targetRevision: main
        path: '{{.path.path}}'
      destination:
        server: ${IN_CLUSTER}
        namespace: ${t}
      syncPolicy:
        automated:
          prune: true
          selfHeal: true
        syncOptions: ["CreateNamespace=false"]
        retry:
          limit: 5
          backoff: {duration: 5s, factor: 2, maxDuration: 3m}
`);
  return files;
}

/** platform/kustomization.yaml listing every tenant (the root Argo CD app syncs it). */
export function renderPlatformKustomization(tenants: string[]): string {
  return `# Admin-owned: every tenant's guard-rails and Argo CD objects. Synced by Argo CD's root app.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:${tenants.length ? '' : ' []'}
${[...tenants].sort().map((t) => `  - tenants/${checkTenant(t)}`).join('\n')}
`;
}

export async function parseTenantRecord(text: string): Promise<TenantRecord> {
  const { parse } = await import('yaml');
  const doc = parse(text) as any;
  const spec = doc?.spec ?? {};
  return {
    tenant: doc?.metadata?.name, topics: spec.topics ?? [], kafka: spec.kafka, repoUrl: spec.repoUrl,
    ...(spec.issuer ? { issuer: spec.issuer } : {}),
    ...(spec.audience ? { audience: spec.audience } : {}),
    ...(spec.tenantClaim ? { tenantClaim: spec.tenantClaim } : {}),
  };
}
