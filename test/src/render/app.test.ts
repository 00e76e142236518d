// Rendering and the checks every render passes: real `kubectl kustomize` builds of the app and
// tenant folders, schema validation with unknown keys rejected, Pod Security "restricted".
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAppSpec, type AppSpec } from '../../../src/connector/deployable.js';
import { appDir, platformTenantDir } from '../../../src/repo-layout/folders.js';
import { renderApp } from '../../../src/render/app.js';
import { appPublicUrls } from '../../../src/render/route.js';
import { renderPlatform } from '../../../src/platform/render.js';
import { checkFolder, kustomize, resourceProblems, type Resource } from '../../../src/render/check.js';
import { podSecurityProblems } from '../../../src/render/pod-security.js';
import { renderPlatformKustomization, renderTenant } from '../../../src/render/tenant.js';
import { packageRoot } from '../../../src/paths.js';
import { appYaml, skeleton, tempDir } from '../../helpers/gitops.js';

async function writeAll(root: string, files: Map<string, string>): Promise<void> {
  for (const [p, t] of files) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), t);
  }
}

async function renderInto(root: string, yaml: string, code = 'print("v1")\n', change: (spec: AppSpec) => AppSpec = (s) => s): Promise<Resource[]> {
  const spec = change(await parseAppSpec(yaml, '.'));
  await writeAll(root, renderApp(spec, new Map([['app.py', code]]), yaml));
  return checkFolder(join(root, appDir(spec.tenant, spec.name)), { namespace: spec.tenant });
}

const byKind = (resources: Resource[], kind: string) => resources.filter((r) => r.kind === kind);

describe('app rendering', () => {
  let root: string;
  beforeAll(async () => {
    root = await tempDir('render');
    await cp(skeleton, root, { recursive: true });
  });

  it('builds a pod with the runtime and the sidecar as a native sidecar, in the tenant namespace, named after the app', async () => {
    const resources = await renderInto(root, appYaml({ name: 'ordersapp', tenant: 'sales', topics: ['orders'], cpu: '500m' }));
    const [deployment] = byKind(resources, 'Deployment') as any[];
    expect(deployment.metadata).toMatchObject({ name: 'ordersapp-connector', namespace: 'sales' });
    const pod = deployment.spec.template.spec;
    expect(pod.containers.map((c: any) => c.name)).toEqual(['runtime']);
    expect(pod.initContainers).toEqual([expect.objectContaining({ name: 'sidecar', restartPolicy: 'Always' })]);
    expect(pod.containers[0].resources.limits).toEqual({ cpu: '500m', memory: '256Mi' });
    expect(podSecurityProblems(pod)).toEqual([]);
    // Kafka credentials reach the sidecar only.
    const secretsOf = (c: any) => (c.env ?? []).filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.valueFrom.secretKeyRef.name);
    expect(secretsOf(pod.initContainers[0])).toEqual(Array(4).fill('aerogrid-kafka-credentials'));
    expect(secretsOf(pod.containers[0])).toEqual([]);
    expect(JSON.stringify(pod.containers[0])).not.toContain('secret');
    const settings = byKind(resources, 'ConfigMap').find((c) => c.metadata.name.startsWith('ordersapp-app-settings')) as any;
    // The sidecar names its consumer group (aerogrid.sales.ordersapp) after the tenant and the app.
    expect(settings.data).toMatchObject({ AEROGRID_TENANT: 'sales', AEROGRID_APP: 'ordersapp' });
    for (const unread of ['AEROGRID_GROUP', 'AEROGRID_TOPICS', 'AEROGRID_DEAD_LETTER_RETENTION']) expect(settings.data).not.toHaveProperty(unread);
    // The sidecar gets the spec's dead-letter policy and topic (AEROGRID_DEAD_LETTER, AEROGRID_DEAD_LETTER_TOPIC).
    expect(settings.data).toMatchObject({ AEROGRID_DEAD_LETTER: 'dlq', AEROGRID_DEAD_LETTER_TOPIC: 'aerogrid.sales.ordersapp.dlq' });
    // spec.deadLetter.retention (7d by default) reaches the sidecar, which creates the topic with it.
    expect(settings.data.AEROGRID_DEAD_LETTER_RETENTION_MS).toBe(String(7 * 24 * 3600 * 1000));
    expect(pod.initContainers[0].envFrom).toContainEqual({ configMapRef: { name: settings.metadata.name } });
    expect(byKind(resources, 'Service').map((s) => s.metadata.name)).toEqual(['ordersapp-connector']);
    expect(byKind(resources, 'PodDisruptionBudget')).toEqual([]);
  });

  it('carries the code in a generated ConfigMap whose name changes with the code, so the pods roll', async () => {
    const yaml = appYaml({ name: 'rolling', tenant: 'sales', topics: ['orders'] });
    const codeMapOf = (resources: Resource[]) => (byKind(resources, 'Deployment')[0] as any).spec.template.spec.volumes.find((v: any) => v.name === 'code').configMap.name;
    const first = await renderInto(root, yaml, 'print("v1")\n');
    const second = await renderInto(root, yaml, 'print("v2")\n');
    expect(codeMapOf(first)).toMatch(/^rolling-code-/);
    expect(codeMapOf(second)).not.toBe(codeMapOf(first));
    const cm = byKind(second, 'ConfigMap').find((c) => c.metadata.name === codeMapOf(second)) as any;
    expect(cm.data['app.py']).toBe('print("v2")\n');
  });

  it('adds a PodDisruptionBudget only with 2 or more replicas', async () => {
    // aerogrid.yaml allows 0 or 1 today; the renderer and the base keep the budget for more.
    const resources = await renderInto(root, appYaml({ name: 'twin', tenant: 'sales', topics: ['orders'] }), undefined, (s) => ({ ...s, replicas: 2 as unknown as 1 }));
    expect(byKind(resources, 'PodDisruptionBudget').map((p) => p.metadata.name)).toEqual(['twin-connector']);
    expect((byKind(resources, 'Deployment')[0] as any).spec.replicas).toBe(2);
  });

  it('passes a dead-letter policy and topic set in aerogrid.yaml to the sidecar', async () => {
    const yaml = appYaml({ name: 'strict', tenant: 'sales', topics: ['orders'] }) + '  deadLetter: {policy: stop, topic: aerogrid.sales.strict-rejects}\n';
    const resources = await renderInto(root, yaml);
    const settings = byKind(resources, 'ConfigMap').find((c) => c.metadata.name.startsWith('strict-app-settings')) as any;
    expect(settings.data).toMatchObject({ AEROGRID_DEAD_LETTER: 'stop', AEROGRID_DEAD_LETTER_TOPIC: 'aerogrid.sales.strict-rejects' });
  });

  it('limits viewers to the declared groups, and tells the sidecar the same groups', async () => {
    const resources = await renderInto(root, appYaml({ name: 'guarded', tenant: 'sales', topics: ['orders'], groups: ['traders', 'risk'] }));
    const policy = byKind(resources, 'AuthorizationPolicy')[0] as any;
    expect(policy.metadata.namespace).toBe('sales');
    expect(policy.spec.rules[0].from).toEqual([{ source: { requestPrincipals: ['*'] } }]);
    expect(policy.spec.rules[0].when).toEqual([{ key: 'request.auth.claims[groups]', values: ['traders', 'risk'] }]);
    // Only the probes and the WebSocket (token in its first message, checked by the sidecar) go without a header token.
    expect(policy.spec.rules[1].to[0].operation.paths).toEqual(['/healthz', '/readyz', '/v1/ws']);
    const settings = byKind(resources, 'ConfigMap').find((c) => c.metadata.name.startsWith('guarded-app-settings')) as any;
    expect(settings.data.AEROGRID_VIEWER_GROUPS).toBe('traders,risk');
    const sidecar = (byKind(resources, 'Deployment')[0] as any).spec.template.spec.initContainers.find((c: any) => c.name === 'sidecar');
    expect(sidecar.envFrom).toContainEqual({ configMapRef: { name: 'aerogrid-auth', optional: true } });
    const runtime = (byKind(resources, 'Deployment')[0] as any).spec.template.spec.containers.find((c: any) => c.name === 'runtime');
    expect(JSON.stringify(runtime.envFrom)).not.toContain('aerogrid-auth');
  });

  it('routes https://<host>/apps/<tenant>/<app>/ to the app\'s Service on the platform Gateway, prefix cut off', async () => {
    const resources = await renderInto(root, appYaml({ name: 'routed', tenant: 'sales', topics: ['orders'] }));
    const [route] = byKind(resources, 'HTTPRoute') as any[];
    expect(route.metadata).toMatchObject({ name: 'routed-connector', namespace: 'sales' });
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'aerogrid-system', name: 'aerogrid', sectionName: 'https' }]);
    // No host of its own: the Gateway listener's (platform init --host) holds for every route.
    expect(route.spec.hostnames).toBeUndefined();
    expect(route.spec.rules).toEqual([{
      matches: [{ path: { type: 'PathPrefix', value: '/apps/sales/routed/' } }],
      filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }],
      backendRefs: [{ group: '', kind: 'Service', name: 'routed-connector', port: 80 }],
    }]);
    // The backend is the Service the app really has.
    expect(byKind(resources, 'Service').map((s) => s.metadata.name)).toContain(route.spec.rules[0].backendRefs[0].name);
  });

  it('gives two tenants\' apps of one name routes that never collide', async () => {
    const sales = byKind(await renderInto(root, appYaml({ name: 'twin', tenant: 'sales', topics: ['orders'] })), 'HTTPRoute') as any[];
    const risk = byKind(await renderInto(root, appYaml({ name: 'twin', tenant: 'risk', topics: ['orders'] })), 'HTTPRoute') as any[];
    const paths = [...sales, ...risk].map((r) => r.spec.rules[0].matches[0].path.value);
    expect(paths).toEqual(['/apps/sales/twin/', '/apps/risk/twin/']);
    expect(appPublicUrls('aerogrid.example.com', 'risk', 'twin')).toEqual({ url: 'https://aerogrid.example.com/apps/risk/twin', ws: 'wss://aerogrid.example.com/apps/risk/twin/v1/ws' });
  });

  it('checks the route against the Gateway API schema, unknown keys rejected', async () => {
    const route = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'sales' }, spec: { parentRefs: [{ name: 'aerogrid', sectionNme: 'https' }], rules: [{ matches: [{ path: { type: 'Prefix', value: '/' } }] }] } } as Resource;
    const problems = await resourceProblems([route]);
    expect(problems.join('\n')).toMatch(/unknown key 'sectionNme'/);
    expect(problems.join('\n')).toMatch(/type/);
  });

  it('rejects names that would escape their folder or namespace before anything is written', async () => {
    await expect(parseAppSpec(appYaml({ name: '../../platform', tenant: 'sales', topics: ['orders'] }), '.')).rejects.toThrow(/not a valid name/);
    await expect(parseAppSpec(appYaml({ name: 'ok', tenant: 'Sales', topics: ['orders'] }), '.')).rejects.toThrow(/Tenant 'Sales'/);
    await expect(parseAppSpec(appYaml({ name: 'ok', tenant: 'kube-system', topics: ['orders'] }), '.')).rejects.toThrow(/reserved/);
    await expect(parseAppSpec(appYaml({ name: 'ok', tenant: 'sales', topics: ['a/b'] }), '.')).rejects.toThrow(/not a valid Kafka topic/);
    await expect(parseAppSpec(appYaml({ name: 'ok', tenant: 'default', topics: ['orders'] }), '.')).rejects.toThrow(/Tenant 'default' is reserved/);
    expect(() => appDir('sales', '..')).toThrow();
    expect(() => platformTenantDir('a/b')).toThrow();
  });
});

describe('reading aerogrid.yaml for the GitOps side', () => {
  const yaml = (extra = '') => appYaml({ name: 'reader', tenant: 'sales', topics: ['orders'], groups: ['traders'] }) + extra;

  it('gives the spec\'s own defaults and shape', async () => {
    expect(await parseAppSpec(yaml(), '.')).toMatchObject({
      name: 'reader', tenant: 'sales', entrypoint: 'app.py', replicas: 1, resources: { cpu: '250m', memory: '256Mi' },
      access: { groups: ['traders'] }, deadLetter: { topic: 'aerogrid.sales.reader.dlq', policy: 'dlq', retention: '7d' },
    });
  });

  it('applies the spec\'s rules, with file:line:column, and the platform\'s', async () => {
    await expect(parseAppSpec(yaml('  deadLetter: {topic: aerogrid.billing.reader.dlq}\n'), '.'))
      .rejects.toThrow(/aerogrid\.yaml:13:\d+: spec\.deadLetter\.topic 'aerogrid\.billing\.reader\.dlq' is outside tenant sales's topics/);
    await expect(parseAppSpec(yaml('  replica: 0\n'), '.')).rejects.toThrow(/unknown key 'replica' in spec/);
    await expect(parseAppSpec(yaml().replace('entrypoint: app.py', 'entrypoint: src/app.py'), '.')).rejects.toThrow(/must be a \.py file at the top of the connector folder/);
  });
});

describe('the checks', () => {
  it('reject an unknown key, a wrong type and a pod that breaks Pod Security "restricted"', async () => {
    const root = await tempDir('broken-base');
    await cp(skeleton, root, { recursive: true });
    const deployment = join(root, 'bases/connector/v1/deployment.yaml');
    const text = await readFile(deployment, 'utf8');
    await writeFile(deployment, text
      .replace('revisionHistoryLimit: 3', 'revisionHistoryLimit: 3\n  progressDeadlineSecond: 60')
      .replace('allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n            capabilities:\n              drop: ["ALL"]\n          volumeMounts:\n            - {name: code',
        'allowPrivilegeEscalation: true\n            readOnlyRootFilesystem: true\n            capabilities:\n              drop: ["ALL"]\n          volumeMounts:\n            - {name: code')
      .replace('terminationGracePeriodSeconds: 30', 'terminationGracePeriodSeconds: "thirty"'));
    const yaml = appYaml({ name: 'broken', tenant: 'sales', topics: ['orders'] });
    const spec = await parseAppSpec(yaml, '.');
    await writeAll(root, renderApp(spec, new Map([['app.py', 'pass\n']]), yaml));
    const error = await checkFolder(join(root, appDir('sales', 'broken')), { namespace: 'sales' }).catch((e) => e);
    expect(error.message).toContain("spec: unknown key 'progressDeadlineSecond'");
    expect(error.message).toMatch(/terminationGracePeriodSeconds must be integer/);
    expect(error.message).toContain("container 'runtime' must set securityContext.allowPrivilegeEscalation: false");
  });

  it('flag a pod with host access or a privileged container', () => {
    const problems = podSecurityProblems({
      hostNetwork: true,
      volumes: [{ name: 'h', hostPath: { path: '/' } }],
      containers: [{ name: 'c', securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } }],
    });
    expect(problems).toEqual(expect.arrayContaining([
      'hostNetwork must not be true',
      expect.stringContaining("volume 'h' uses hostPath"),
      "container 'c' must not be privileged",
      "container 'c' must run as non-root (securityContext.runAsNonRoot: true on the pod or container)",
      expect.stringContaining('adds capability SYS_ADMIN'),
    ]));
  });

  it('report a resource that lands outside the expected namespace', async () => {
    const problems = await resourceProblems([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'other' } }], { namespace: 'sales' });
    expect(problems).toEqual(["ConfigMap/x: is in namespace 'other', not 'sales'"]);
  });
});

describe('tenant rendering', () => {
  it('builds the namespace, guard-rails and Argo CD objects, all valid, and scoped to the tenant', async () => {
    const root = await tempDir('tenant');
    await cp(skeleton, root, { recursive: true });
    await writeAll(root, renderTenant({ tenant: 'sales', topics: ['orders', 'prices.*'], repoUrl: 'https://github.com/acme/gitops.git', kafka: 'kafka.kafka.svc:9092', oidc: { issuer: 'https://acme.eu.auth0.com/', audience: 'https://aerogrid.acme.com', tenantClaim: 'https://aerogrid.dev/tenant' } }));
    await writeFile(join(root, 'platform/kustomization.yaml'), renderPlatformKustomization(['sales']));
    const resources = await checkFolder(join(root, 'platform'));
    const kinds = resources.map((r) => r.kind).sort();
    expect(kinds).toEqual(['AppProject', 'ApplicationSet', 'AuthorizationPolicy', 'AuthorizationPolicy', 'ConfigMap', 'ConfigMap', 'LimitRange', 'Namespace', 'NetworkPolicy', 'NetworkPolicy', 'RequestAuthentication', 'ResourceQuota']);
    const ns = resources.find((r) => r.kind === 'Namespace') as any;
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const project = resources.find((r) => r.kind === 'AppProject') as any;
    expect(project.spec.destinations).toEqual([{ server: 'https://kubernetes.default.svc', namespace: 'sales' }]);
    expect(project.spec.clusterResourceWhitelist).toEqual([]);
    expect(project.spec.namespaceResourceWhitelist.map((k: any) => k.kind)).not.toContain('NetworkPolicy');
    const appset = resources.find((r) => r.kind === 'ApplicationSet') as any;
    expect(appset.spec.template.spec.project).toBe('sales');
    expect(appset.spec.generators[0].git.directories).toEqual([{ path: 'tenants/sales/apps/*' }]);
    expect(appset.spec.template.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    const deny = resources.find((r) => r.kind === 'NetworkPolicy' && r.metadata.name === 'default-deny') as any;
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    // Only the platform's namespace (its Gateway and the directory) reaches the sidecars.
    const allow = resources.find((r) => r.kind === 'NetworkPolicy' && r.metadata.name === 'connector-allowances') as any;
    expect(allow.spec.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'aerogrid-system' } } }],
      ports: [{ port: 8080, protocol: 'TCP' }],
    }]);
    // The JWT rules never stand alone: one policy denies requests without a token, one denies another tenant's.
    const jwt = resources.find((r) => r.kind === 'RequestAuthentication') as any;
    expect(jwt.spec.jwtRules).toEqual([{ issuer: 'https://acme.eu.auth0.com/', audiences: ['https://aerogrid.acme.com'], forwardOriginalToken: true }]);
    const policies = Object.fromEntries(resources.filter((r) => r.kind === 'AuthorizationPolicy').map((r: any) => [r.metadata.name, r.spec]));
    expect(policies['require-jwt']).toEqual({ action: 'DENY', rules: [{ from: [{ source: { notRequestPrincipals: ['*'] } }], to: [{ operation: { notPaths: ['/healthz', '/readyz', '/v1/ws'] } }] }] });
    expect(policies['tenant-only']).toEqual({ action: 'DENY', rules: [{ from: [{ source: { requestPrincipals: ['*'] } }], when: [{ key: 'request.auth.claims[https://aerogrid.dev/tenant]', notValues: ['sales'] }] }] });
    const configs = Object.fromEntries(resources.filter((r) => r.kind === 'ConfigMap').map((r: any) => [r.metadata.name, r.data]));
    expect(configs['aerogrid-kafka'].AEROGRID_ALLOWED_TOPICS).toBe('orders,prices.*');
    // The sidecars verify the same tokens themselves.
    expect(configs['aerogrid-auth']).toEqual({
      AEROGRID_OIDC_ISSUER: 'https://acme.eu.auth0.com/', AEROGRID_OIDC_AUDIENCE: 'https://aerogrid.acme.com', AEROGRID_TENANT_CLAIM: 'https://aerogrid.dev/tenant',
    });
  });

  it('keeps the Argo CD bootstrap and the platform\'s components valid', async () => {
    const root = await tempDir('bootstrap');
    await cp(skeleton, root, { recursive: true });
    await writeAll(root, renderPlatform({ host: 'aerogrid.example.com', repoUrl: 'https://github.com/acme/gitops.git' }));
    const system = await checkFolder(join(root, 'platform/system'));
    expect(system.map((r) => r.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Gateway', 'HTTPRoute', 'Namespace', 'Role', 'RoleBinding', 'Service', 'ServiceAccount', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
    const resources = await kustomize(join(root, 'bootstrap'));
    expect(resources.map((r) => r.kind).sort()).toEqual(['AppProject', 'Application']);
    expect(await resourceProblems(resources)).toEqual([]);
  });
});
