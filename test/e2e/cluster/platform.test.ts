// The platform on a real Kubernetes control plane (kube-apiserver, controller manager, scheduler
// and etcd built from the Go module proxy), a real Argo CD (application-controller,
// applicationset-controller, repo-server) syncing a real bare git repo, and kwok as the kubelets:
// pods "run" and Deployments become Available without containers (stand-in: no container runtime
// here). Two more stand-ins: the git webhook (webhookStandIn: Argo CD is told of each push instead
// of polling for minutes) and a Gateway controller that only marks Gateways and HTTPRoutes
// Accepted (scripts/k8s/gateway-stand-in.mjs: no Gateway implementation can run here). kwok's node
// serves one stand-in file as every container's log (no container writes one).
import { mkdir, readFile, writeFile, cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../../helpers/cli.js';
import { cliEnv, gitIn, stopServe, tempDir, writeConnector, directoryUrl } from '../../helpers/gitops.js';
import { call, watch } from '../../helpers/directory.js';
import { startTestIssuer, type TestIssuer } from '../../helpers/oidc.js';
import { waitFor } from '../../helpers/wait.js';
import { application, getJson, kubeconfig, kubectl, syncedHealthy, untilApplication, watchListBookmark, webhookStandIn } from './kube.js';
import { execFileSync } from 'node:child_process';

const HOST = 'aerogrid.test';

describe('the platform on a real control plane and Argo CD (kwok kubelets, a stand-in Gateway controller)', () => {
  let home: string;
  let repo: string;
  let env: NodeJS.ProcessEnv;
  let nudger: NodeJS.Timeout;
  let nudging = false;
  const connectors: Record<string, string> = {};

  const cli = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const result = await runCli(args, { env: { ...env, ...extra } });
    if (result.code !== 0) throw new Error(`aerogrid ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
    return result;
  };
  const clone = async () => {
    const dir = await tempDir('cluster-clone');
    gitIn(dir, ['clone', '--quiet', repo, '.']);
    return dir;
  };
  const push = (dir: string, message: string) => {
    gitIn(dir, ['add', '-A']);
    gitIn(dir, ['commit', '--quiet', '-m', message]);
    gitIn(dir, ['push', '--quiet', 'origin', 'HEAD:main']);
    return gitIn(dir, ['rev-parse', 'HEAD']).trim();
  };
  const deployment = (tenant: string, app: string) => getJson(['get', 'deployment', '-n', tenant, `${app}-connector`]);
  const connector = async (tenant: string, app: string, topic: string, factor = 1) => {
    const dir = connectors[`${tenant}/${app}`] ??= await tempDir(`cluster-${tenant}-${app}`);
    await writeConnector(dir, { name: app, tenant, topics: [topic], factor });
    return dir;
  };

  beforeAll(async () => {
    home = await tempDir('cluster-home');
    repo = join(await tempDir('cluster-remote'), 'gitops.git');
    await mkdir(repo, { recursive: true });
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', repo]);
    env = { ...cliEnv(home), KUBECONFIG: kubeconfig(), AEROGRID_ARGOCD_URL: '', AEROGRID_GITOPS: repo };
    nudger = setInterval(() => {
      if (nudging) return;
      nudging = true;
      void webhookStandIn().catch(() => undefined).finally(() => { nudging = false; });
    }, 2000);
  });
  afterAll(() => clearInterval(nudger));

  // kwok's and the controllers' client-go list through streaming watches. On an etcd without watch
  // progress requests (Debian's 3.4) the initial events never end, the informers fall back to
  // relists, and a rolled-out pod sat Pending 20-40 s before its kubelet saw it.
  it('the API server serves streaming watch lists to the kubelets and controllers: the initial events end with their bookmark', async () => {
    const bookmark = await watchListBookmark('/api/v1/namespaces/kube-system/pods');
    expect(bookmark.metadata?.annotations?.['k8s.io/initial-events-end']).toBe('true');
  });

  it('platform init on an empty bare repo, tenant add for two tenants and deploy of three apps: the ApplicationSets create the Applications, they reach Synced/Healthy, the Deployments are Available, the namespaces enforce Pod Security restricted', async () => {
    await cli(['platform', 'init', '--host', HOST, '--gitops', repo, '--repo-url', repo]);
    const bootstrap = await clone();
    await kubectl(['apply', '--server-side', '-k', join(bootstrap, 'bootstrap')]);
    await cli(['tenant', 'add', 'sales', '--topics', 'orders', '--kafka', 'kafka.kafka.svc:9092']);
    await cli(['tenant', 'add', 'risk', '--topics', 'trades', '--kafka', 'kafka.kafka.svc:9092']);
    await untilApplication('aerogrid-platform', 'Synced/Healthy', syncedHealthy);
    // The platform's own components run (kwok) in the platform namespace.
    expect((await getJson(['get', 'deployment', '-n', 'aerogrid-system', 'aerogrid-directory']))?.status?.availableReplicas).toBe(1);

    // One deploy waits through the Kubernetes API (kubeconfig), as a CI job would.
    const waited = await runCli(['deploy', await connector('sales', 'ledger', 'orders'), '--wait', '--timeout', '180', '--json'], { env });
    expect(waited.code, waited.stderr).toBe(0);
    await cli(['deploy', await connector('sales', 'twin', 'orders')]);
    await cli(['deploy', await connector('risk', 'twin', 'trades')]);
    for (const name of ['sales-ledger', 'sales-twin', 'risk-twin']) {
      const app = await untilApplication(name, 'Synced/Healthy', syncedHealthy);
      expect(app.spec.project).toBe(name.split('-')[0]);
    }
    for (const [tenant, app] of [['sales', 'ledger'], ['sales', 'twin'], ['risk', 'twin']] as const) {
      expect((await deployment(tenant, app))?.status?.availableReplicas, `${tenant}/${app}`).toBe(1);
      const [route] = (await getJson(['get', 'httproute', '-n', tenant]))!.items.filter((r: any) => r.metadata.name === `${app}-connector`);
      expect(route.spec.rules[0].matches[0].path.value).toBe(`/apps/${tenant}/${app}/`);
    }
    const status = JSON.parse((await cli(['status', 'sales/ledger', '--json'])).stdout);
    expect(status.live).toMatchObject({ source: 'kubernetes', state: 'live', sync: 'Synced', health: 'Healthy' });

    for (const tenant of ['sales', 'risk']) {
      expect((await getJson(['get', 'namespace', tenant])).metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    }
    await expect(kubectl(['run', 'root-pod', '-n', 'sales', '--image', 'busybox', '--restart=Never', '--overrides', JSON.stringify({ spec: { securityContext: { runAsUser: 0 } } })])).rejects.toThrow(/violates PodSecurity "restricted:latest"/);
  });

  it('a tampered pod spec pushed to an app folder is refused by Pod Security admission; Argo CD reports the app not Healthy while the previous pods keep running', async () => {
    const dir = await clone();
    const file = join(dir, 'tenants/sales/apps/ledger/resources.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('          resources:', '          securityContext: {privileged: true, allowPrivilegeEscalation: true}\n          resources:'));
    const revision = push(dir, 'tamper: a privileged runtime container');
    await untilApplication('sales-ledger', 'synced to the tampered revision, not Healthy', (a) => a.status?.sync?.revision === revision && a.status?.health?.status !== 'Healthy');
    const failed = await waitFor('a ReplicaSet refused by admission', async () => {
      const sets = (await getJson(['get', 'replicasets', '-n', 'sales', '-l', 'aerogrid.dev/app=ledger']))?.items ?? [];
      return sets.flatMap((s: any) => s.status?.conditions ?? []).find((c: any) => c.type === 'ReplicaFailure' && /violates PodSecurity/.test(c.message));
    }, 60_000, 500);
    expect(failed.message).toMatch(/privileged/);
    // status says so at once, not "starting" until the Deployment's 600 s progress deadline.
    const status = JSON.parse((await cli(['status', 'sales/ledger', '--json'])).stdout);
    expect(status.live).toMatchObject({ state: 'failed', message: expect.stringMatching(/violates PodSecurity/) });
    expect((await deployment('sales', 'ledger'))?.status?.availableReplicas).toBe(1);
    expect((await application('sales-ledger')).status.health.status).not.toBe('Healthy');
    // Undo through GitOps: the app is Healthy again.
    await cli(['rollback', 'sales/ledger', '1']); // release 1: the deploy before the tampering push
    await untilApplication('sales-ledger', 'Healthy again after the rollback', (a) => syncedHealthy(a) && a.status?.sync?.revision === gitIn(repo, ['rev-parse', 'main']).trim());
  });

  it('deploy --wait stops at once, naming the reason, when the cluster refuses the app\'s pods (the tenant\'s quota is used up)', async () => {
    // Two replicas at 2 CPUs each (runtime 2 + sidecar 0.5 in limits) next to risk/twin do not
    // fit the tenant's default quota of 4 CPUs: the second pod is refused. Validation cannot know
    // what else the tenant runs.
    const dir = await tempDir('cluster-risk-wide');
    await writeConnector(dir, { name: 'wide', tenant: 'risk', topics: ['trades'], cpu: '2', replicas: 2 });
    const waited = await runCli(['deploy', dir, '--wait', '--timeout', '120'], { env });
    expect(waited.code).toBe(1);
    // The refusal, not a timeout with "health Progressing".
    expect(waited.stderr).toMatch(/the cluster refused pods of risk\/wide: .*exceeded quota: tenant-quota/);
    expect(waited.stderr).not.toMatch(/is not live after/);
    const status = JSON.parse((await cli(['status', 'risk/wide', '--json'])).stdout);
    expect(status.live).toMatchObject({ state: 'failed', message: expect.stringMatching(/exceeded quota/) });
    await cli(['delete', 'risk/wide', '--confirm', 'wide']);
  });

  it('logs reads both containers of a cluster app through the API server and the node (kwok serves a stand-in log file: no container runs)', async () => {
    const all = await cli(['logs', 'sales/ledger']);
    const prefixes = new Set([...all.stdout.matchAll(/^\[pod\/ledger-connector-[^/]+\/([a-z]+)\] kwok stand-in/gm)].map((m) => m[1]));
    expect([...prefixes].sort()).toEqual(['runtime', 'sidecar']);
    const runtime = await cli(['logs', 'sales/ledger', '--container', 'runtime']);
    expect(runtime.stdout).toMatch(/kwok stand-in/);
    expect(runtime.stdout).not.toMatch(/\/sidecar\]/);
    // Another tenant's namespace holds no such app.
    const other = await runCli(['logs', 'risk/ledger'], { env });
    expect(other.code).toBe(4);
  });

  it('stop scales the Deployment to 0 and start back; rollback makes the previous version\'s code ConfigMap live again; delete prunes the app', async () => {
    await cli(['stop', 'sales/twin']);
    await waitFor('sales/twin scaled to 0', async () => (await deployment('sales', 'twin'))?.spec?.replicas === 0 || undefined, 120_000, 500);
    await cli(['start', 'sales/twin']);
    await waitFor('sales/twin available again', async () => (await deployment('sales', 'twin'))?.status?.availableReplicas === 1 || undefined, 120_000, 500);

    const codeOf = async () => (await deployment('risk', 'twin'))!.spec.template.spec.volumes.find((v: any) => v.name === 'code').configMap.name as string;
    const v1 = await codeOf();
    await cli(['deploy', await connector('risk', 'twin', 'trades', 2)]);
    const v2 = await waitFor('the new code ConfigMap live', async () => { const name = await codeOf(); return name !== v1 ? name : undefined; }, 120_000, 500);
    await cli(['rollback', 'risk/twin']);
    await waitFor('the previous version\'s code ConfigMap live again', async () => (await codeOf()) === v1 || undefined, 120_000, 500);
    expect(await getJson(['get', 'configmap', '-n', 'risk', v1])).toBeDefined();
    expect(v2).not.toBe(v1);

    await cli(['delete', 'sales/twin', '--confirm', 'twin']);
    await waitFor('sales/twin pruned', async () => !(await application('sales-twin')) && !(await deployment('sales', 'twin')) ? true : undefined, 120_000, 500);
  });

  it('a direct push for a tenant that was never onboarded creates nothing, and a kind outside the AppProject is refused by Argo CD', async () => {
    const dir = await clone();
    await cp(join(dir, 'tenants/sales/apps/ledger'), join(dir, 'tenants/ghost/apps/ledger'), { recursive: true });
    const kustomization = join(dir, 'tenants/ghost/apps/ledger/kustomization.yaml');
    await writeFile(kustomization, (await readFile(kustomization, 'utf8')).replaceAll('sales', 'ghost'));
    const policy = join(dir, 'tenants/sales/apps/ledger/network-policy.yaml');
    await writeFile(policy, 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: open\nspec:\n  podSelector: {}\n  ingress: [{}]\n  policyTypes: [Ingress]\n');
    const ledger = join(dir, 'tenants/sales/apps/ledger/kustomization.yaml');
    await writeFile(ledger, (await readFile(ledger, 'utf8')).replace('  - route.yaml\n', '  - route.yaml\n  - network-policy.yaml\n'));
    push(dir, 'by hand: an app for a tenant never onboarded, and a NetworkPolicy in an app folder');

    const refused = await untilApplication('sales-ledger', 'its sync refused for the NetworkPolicy', (a) => JSON.stringify(a.status ?? {}).includes('not permitted in project'));
    expect(JSON.stringify(refused.status)).toMatch(/NetworkPolicy.*not permitted in project|not permitted in project.*NetworkPolicy/);
    expect(await getJson(['get', 'networkpolicy', '-n', 'sales', 'ledger-open'])).toBeUndefined();
    // Several webhook rounds later, still no Application and no namespace for the ghost tenant.
    await webhookStandIn();
    await new Promise((r) => setTimeout(r, 8000));
    expect(await application('ghost-ledger')).toBeUndefined();
    expect(await getJson(['get', 'namespace', 'ghost'])).toBeUndefined();

    await rm(join(dir, 'tenants/ghost'), { recursive: true, force: true });
    await rm(policy);
    await writeFile(ledger, (await readFile(ledger, 'utf8')).replace('  - network-policy.yaml\n', ''));
    push(dir, 'undo the hand-made changes');
    await untilApplication('sales-ledger', 'Synced/Healthy after the undo', syncedHealthy);
  });

  it('every rendered route and policy is accepted by the API server with the Gateway API, Istio and Argo CD CRDs (server-side apply), and the route policy refuses a tenant route outside its own path', async () => {
    const dir = await clone();
    for (const folder of ['platform', 'tenants/sales/apps/ledger', 'tenants/risk/apps/twin']) {
      const built = await kubectl(['kustomize', join(dir, folder)]);
      const applied = await kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-'], built);
      expect(applied, folder).toMatch(/serverside-applied \(server dry run\)/);
      for (const kind of folder === 'platform' ? ['gateway.gateway.networking.k8s.io/aerogrid', 'requestauthentication.security.istio.io/tenant-jwt', 'authorizationpolicy.security.istio.io/tenant-only', 'applicationset.argoproj.io/sales-apps', 'validatingadmissionpolicy.admissionregistration.k8s.io/aerogrid-tenant-routes'] : ['httproute.gateway.networking.k8s.io/', 'authorizationpolicy.security.istio.io/']) {
        expect(applied, `${folder}: ${kind}`).toContain(kind);
      }
    }
    const hijack = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'hijack', namespace: 'sales' }, spec: { parentRefs: [{ name: 'aerogrid', namespace: 'aerogrid-system' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/apps/risk/twin/' } }], backendRefs: [{ name: 'ledger-connector', port: 80 }] }] } };
    await expect(kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(hijack))).rejects.toThrow(/may only match path prefixes under \/apps\/sales\//);
  });

  describe('the directory in cluster mode (serve --run argocd)', () => {
    let issuer: TestIssuer;
    let serve: CliProcess;
    beforeAll(async () => {
      issuer = await startTestIssuer();
      serve = startCli(['serve', '--run', 'argocd', '--port', '0', '--poll', '1000'], { env: { ...env, ...issuer.env() } });
      await waitFor('serve --run argocd to start', () => /Serving /.test(serve.output()) || serve.child.exitCode !== null, 60_000);
      if (serve.child.exitCode !== null) throw new Error(`serve exited (${serve.child.exitCode}):\n${serve.output()}`);
    });
    afterAll(async () => { await stopServe(serve); await issuer?.close(); });

    it('lists each tenant\'s apps with the live state from the API server, scoped by the token\'s tenant, and sends ready when a deployed app\'s Deployment becomes Available', async () => {
      const base = directoryUrl(serve);
      const sales = await issuer.token({ sub: 'sam', tenant: 'sales', roles: ['viewer'] });
      const risk = await issuer.token({ sub: 'rita', tenant: 'risk', roles: ['developer'] });
      const listed = await waitFor('the directory to list sales/ledger running', async () => {
        const r = await call(`${base}/v1/apps`, { token: sales });
        return r.body?.apps?.find((a: any) => a.name === 'ledger' && a.status === 'running') ? r : undefined;
      }, 60_000, 500);
      expect(listed.body.tenant).toBe('sales');
      expect(listed.body.apps.map((a: any) => `${a.tenant}/${a.name}`)).toEqual(['sales/ledger']);
      expect(listed.body.apps[0]).toMatchObject({ ready: true, url: `https://${HOST}/apps/sales/ledger`, ws: `wss://${HOST}/apps/sales/ledger/v1/ws` });

      const watcher = await watch(base, { token: risk });
      await watcher.next('the list', (m) => m.type === 'apps');
      await cli(['deploy', await connector('risk', 'fresh', 'trades')]);
      const ready = await watcher.next('ready for risk/fresh', (m) => m.type === 'ready' && m.app.name === 'fresh', { timeoutMs: 150_000 });
      expect(ready.app).toMatchObject({ tenant: 'risk', url: `https://${HOST}/apps/risk/fresh`, status: 'running' });
      expect((await deployment('risk', 'fresh'))?.status?.availableReplicas).toBe(1);
      expect(watcher.messages.some((m) => m.app?.tenant === 'sales')).toBe(false);
      watcher.close();
    });
  });
});
