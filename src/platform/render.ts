// What `aerogrid platform init` writes into the GitOps repo, all admin-owned:
//   platform/platform.yaml   the platform's settings (host, repo URL); read by the CLI, not applied
//   platform/system/         namespace aerogrid-system: the Gateway on the platform host, the policy
//                            that keeps tenants' routes under /apps/<tenant>/, and the directory and
//                            console (`aerogrid serve --run argocd`) with read-only RBAC and its route
//   bootstrap/               what an admin applies once (kubectl apply -k bootstrap/): the platform
//                            AppProject and the root Application syncing platform/, with the repo URL
// Values from input reach the files as quoted scalars, written by the yaml package.
import { Document, Scalar } from 'yaml';
import { BOOTSTRAP_DIR, PLATFORM_FILE, SYSTEM_DIR } from '../repo-layout/folders.js';
import type { Files } from '../render/app.js';
import { GATEWAY_LISTENER, GATEWAY_NAME, PLATFORM_NAMESPACE } from '../render/route.js';
import { checkHost } from './host.js';

export const DIRECTORY_NAME = 'aerogrid-directory';
export const DIRECTORY_IMAGE = 'aerogrid/cli:0.1.0';
const IN_CLUSTER = 'https://kubernetes.default.svc';
const MANAGED = { 'app.kubernetes.io/managed-by': 'aerogrid' };

export interface PlatformOptions {
  host: string;
  /** The GitOps repo as Argo CD clones it. */
  repoUrl: string;
  /** The GatewayClass of the cluster's Gateway API implementation (istio by default). */
  gatewayClass?: string;
  argocdNamespace?: string;
}

const q = (value: string) => Object.assign(new Scalar(value), { type: Scalar.QUOTE_DOUBLE });

function yamlFile(comment: string, ...values: unknown[]): string {
  return values.map((value, i) => {
    const doc = new Document(value);
    if (i === 0) doc.commentBefore = comment.split('\n').map((line) => ` ${line}`).join('\n');
    return doc.toString({ lineWidth: 0 });
  }).join('---\n');
}

const restrictedContainer = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

export function renderPlatform(options: PlatformOptions): Files {
  const host = checkHost(options.host);
  const gatewayClass = options.gatewayClass ?? 'istio';
  const argocd = options.argocdNamespace ?? 'argocd';
  const files: Files = new Map();
  const ns = PLATFORM_NAMESPACE;

  files.set(PLATFORM_FILE, yamlFile('The platform: written by `aerogrid platform init`; read by the CLI (tenant add, serve). Not applied.', {
    apiVersion: 'aerogrid.dev/v1', kind: 'Platform', metadata: { name: 'aerogrid' },
    spec: { host: q(host), repoUrl: q(options.repoUrl), gatewayClass: q(gatewayClass), argocdNamespace: q(argocd) },
  }));

  files.set(`${SYSTEM_DIR}/kustomization.yaml`, yamlFile('Admin-owned: the platform\'s own namespace and components. Written by `aerogrid platform init`.', {
    apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization',
    resources: ['namespace.yaml', 'gateway.yaml', 'tenant-routes.yaml', 'directory.yaml'],
  }));

  files.set(`${SYSTEM_DIR}/namespace.yaml`, yamlFile('The platform\'s namespace: the Gateway and the directory. Pod Security "restricted" like every tenant\'s.', {
    apiVersion: 'v1', kind: 'Namespace',
    metadata: {
      name: ns,
      labels: {
        ...MANAGED,
        'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted',
      },
    },
  }));

  files.set(`${SYSTEM_DIR}/gateway.yaml`, yamlFile(`The platform's one entry from outside: HTTPS on ${host}. Routes attach from the namespaces the
platform manages (tenants and aerogrid-system) only. The certificate is the Secret aerogrid-tls
in ${ns} (e.g. from cert-manager).`, {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway',
    metadata: { name: GATEWAY_NAME, namespace: ns },
    spec: {
      gatewayClassName: q(gatewayClass),
      listeners: [{
        name: GATEWAY_LISTENER, hostname: q(host), port: 443, protocol: 'HTTPS',
        tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'aerogrid-tls' }] },
        allowedRoutes: { kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }], namespaces: { from: 'Selector', selector: { matchLabels: MANAGED } } },
      }],
    },
  }));

  // CEL over the route and its namespace: a tenant's route stays under /apps/<tenant>/, names no
  // host of its own and attaches to the platform Gateway only.
  const inTenantPaths = "object.spec.rules.all(r, has(r.matches) && size(r.matches) > 0 && r.matches.all(m, has(m.path) && m.path.type == 'PathPrefix' && m.path.value.startsWith('/apps/' + namespaceObject.metadata.name + '/')))";
  const onPlatformGateway = `object.spec.parentRefs.all(p, p.name == '${GATEWAY_NAME}' && has(p.namespace) && p.namespace == '${ns}')`;
  files.set(`${SYSTEM_DIR}/tenant-routes.yaml`, yamlFile(`A tenant's HTTPRoutes stay inside its own part of the platform host: paths under
/apps/<tenant>/, no host names of their own, the platform Gateway only. A folder pushed by hand
cannot take another tenant's traffic.`, {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy',
    metadata: { name: 'aerogrid-tenant-routes' },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        namespaceSelector: { matchExpressions: [{ key: 'aerogrid.dev/tenant', operator: 'Exists' }] },
        resourceRules: [{ apiGroups: ['gateway.networking.k8s.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['httproutes'] }],
      },
      validations: [
        { expression: inTenantPaths, messageExpression: "'a route in namespace ' + namespaceObject.metadata.name + ' may only match path prefixes under /apps/' + namespaceObject.metadata.name + '/'" },
        { expression: '!has(object.spec.hostnames) || size(object.spec.hostnames) == 0', message: 'a tenant route names no host names: it takes the platform Gateway\'s' },
        { expression: onPlatformGateway, message: `a tenant route attaches to the platform Gateway ${ns}/${GATEWAY_NAME} only` },
      ],
    },
  }, {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: 'aerogrid-tenant-routes' },
    spec: { policyName: 'aerogrid-tenant-routes', validationActions: ['Deny'] },
  }));

  const labels = { 'app.kubernetes.io/name': DIRECTORY_NAME, 'app.kubernetes.io/part-of': 'aerogrid' };
  files.set(`${SYSTEM_DIR}/directory.yaml`, yamlFile(`The directory and web console in the cluster (aerogrid serve --run argocd): the apps with their live
state from the Kubernetes API, read-only (Argo CD Applications, Deployments); stop, start and
delete stay GitOps commits. Served at https://${host}/. Its OIDC settings come from the ConfigMap
aerogrid-directory-auth (AEROGRID_OIDC_ISSUER, AEROGRID_OIDC_AUDIENCE, AEROGRID_TENANT_CLAIM),
its push access to the GitOps repo from the Secret aerogrid-directory-git (optional).`,
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DIRECTORY_NAME, namespace: ns } },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: DIRECTORY_NAME },
    rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] }],
  }, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: DIRECTORY_NAME },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: DIRECTORY_NAME },
    subjects: [{ kind: 'ServiceAccount', name: DIRECTORY_NAME, namespace: ns }],
  }, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: DIRECTORY_NAME, namespace: argocd },
    rules: [{ apiGroups: ['argoproj.io'], resources: ['applications'], verbs: ['get', 'list', 'watch'] }],
  }, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: DIRECTORY_NAME, namespace: argocd },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: DIRECTORY_NAME },
    subjects: [{ kind: 'ServiceAccount', name: DIRECTORY_NAME, namespace: ns }],
  }, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: DIRECTORY_NAME, namespace: ns, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: DIRECTORY_NAME,
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: 'directory',
            image: DIRECTORY_IMAGE,
            args: ['serve', '--run', 'argocd', '--host', '0.0.0.0', '--port', '8080', '--platform-host', q(host), '--gitops', q(options.repoUrl), '--argocd-namespace', q(argocd)],
            env: [{ name: 'AEROGRID_HOME', value: '/tmp/aerogrid' }],
            envFrom: [{ configMapRef: { name: 'aerogrid-directory-auth', optional: true } }, { secretRef: { name: 'aerogrid-directory-git', optional: true } }],
            ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
            readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5 },
            livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
            securityContext: restrictedContainer,
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } }],
        },
      },
    },
  }, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: DIRECTORY_NAME, namespace: ns, labels },
    spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
  }, {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: DIRECTORY_NAME, namespace: ns },
    spec: {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: ns, name: GATEWAY_NAME, sectionName: GATEWAY_LISTENER }],
      // The apps' longer prefixes (/apps/<tenant>/<app>/) win over this one.
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ group: '', kind: 'Service', name: DIRECTORY_NAME, port: 80 }] }],
    },
  }));

  for (const [path, text] of renderBootstrap(options.repoUrl, argocd)) files.set(path, text);
  return files;
}

/** The Argo CD bootstrap an admin applies once: the platform project and the root app on platform/. */
export function renderBootstrap(repoUrl: string, argocd = 'argocd'): Files {
  const files: Files = new Map();
  files.set(`${BOOTSTRAP_DIR}/kustomization.yaml`, yamlFile(`Argo CD bootstrap, applied once by an admin: kubectl apply -k bootstrap/ (written by aerogrid
platform init). From then on everything comes from the GitOps repo: the root app syncs platform/,
which holds the platform's components and each tenant's guard-rails, AppProject and ApplicationSet.`, {
    apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['platform-project.yaml', 'root-app.yaml'],
  }));
  const kinds = (list: string[][]) => list.map(([group, kind]) => ({ group, kind }));
  files.set(`${BOOTSTRAP_DIR}/platform-project.yaml`, yamlFile(`The admins' project: only platform/ syncs through it. It may create the platform's components,
the tenants' namespaces and guard-rails, and their AppProjects and ApplicationSets; tenants' own
projects may not.`, {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject',
    metadata: { name: 'aerogrid-platform', namespace: argocd },
    spec: {
      description: 'AeroGrid platform (its components, tenants\' namespaces, guard-rails and Argo CD objects)',
      sourceRepos: [q(repoUrl)],
      destinations: [{ server: IN_CLUSTER, namespace: '*' }],
      clusterResourceWhitelist: kinds([
        ['', 'Namespace'], ['rbac.authorization.k8s.io', 'ClusterRole'], ['rbac.authorization.k8s.io', 'ClusterRoleBinding'],
        ['admissionregistration.k8s.io', 'ValidatingAdmissionPolicy'], ['admissionregistration.k8s.io', 'ValidatingAdmissionPolicyBinding'],
      ]),
      namespaceResourceWhitelist: kinds([
        ['', 'ResourceQuota'], ['', 'LimitRange'], ['', 'ConfigMap'], ['', 'ServiceAccount'], ['', 'Service'], ['apps', 'Deployment'],
        ['rbac.authorization.k8s.io', 'Role'], ['rbac.authorization.k8s.io', 'RoleBinding'],
        ['networking.k8s.io', 'NetworkPolicy'], ['security.istio.io', 'RequestAuthentication'], ['security.istio.io', 'AuthorizationPolicy'],
        ['gateway.networking.k8s.io', 'Gateway'], ['gateway.networking.k8s.io', 'HTTPRoute'],
        ['argoproj.io', 'AppProject'], ['argoproj.io', 'ApplicationSet'],
      ]),
    },
  }));
  files.set(`${BOOTSTRAP_DIR}/root-app.yaml`, yamlFile('App of apps: platform/ in the GitOps repo.', {
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Application',
    metadata: { name: 'aerogrid-platform', namespace: argocd },
    spec: {
      project: 'aerogrid-platform',
      source: { repoURL: q(repoUrl), targetRevision: 'main', path: 'platform' },
      destination: { server: IN_CLUSTER },
      syncPolicy: {
        automated: { prune: true, selfHeal: true },
        retry: { limit: 5, backoff: { duration: '5s', factor: 2, maxDuration: '3m' } },
      },
    },
  }));
  return files;
}
