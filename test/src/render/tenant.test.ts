// A tenant's folder builds, with a real `kubectl kustomize`, exactly the objects the template-string
// renderer produced (test/fixtures/gitops/tenant-base/<tenant>.yaml were built from its output): same objects,
// same fields, whatever the order. The tenants differ in every option: OIDC with a JWKS URL, a
// URL-style tenant claim, a quota and Argo CD in another namespace; OIDC with the defaults; no OIDC.
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { platformTenantDir } from '../../../src/repo-layout/folders.js';
import { kustomize, type Resource } from '../../../src/render/check.js';
import { packageRoot } from '../../../src/paths.js';
import { renderTenant, type TenantOptions } from '../../../src/render/tenant.js';
import { skeleton, tempDir } from '../../helpers/gitops.js';

const cases: Record<string, TenantOptions> = {
  sales: {
    tenant: 'sales', topics: ['orders', 'prices.*'], repoUrl: 'https://github.com/acme/gitops.git',
    kafka: 'kafka-0.kafka.svc:9092,kafka-1.kafka.svc:9093',
    oidc: { issuer: 'https://acme.eu.auth0.com/', audience: 'api://aerogrid "prod" #1', jwksUri: 'https://acme.eu.auth0.com/.well-known/jwks.json', tenantClaim: 'https://aerogrid.dev/tenant' },
    quota: { cpu: '1500m', memory: '3Gi', pods: 12 }, argocdNamespace: 'gitops',
  },
  risk: {
    tenant: 'risk', topics: ['risk.*', 'trades'], repoUrl: 'git@github.com:acme/gitops.git', kafka: 'b1:9092,b2:9092',
    oidc: { issuer: 'https://login.example.com/realms/acme', audience: 'aerogrid' },
  },
  ops: { tenant: 'ops', topics: ['metrics'], repoUrl: '/srv/gitops.git', kafka: '127.0.0.1:19092' },
};

const key = (r: Resource) => `${r.apiVersion} ${r.kind} ${r.metadata.namespace ?? ''} ${r.metadata.name}`;
const sorted = (resources: Resource[]) => [...resources].sort((a, b) => key(a).localeCompare(key(b)));

describe('a tenant folder', () => {
  for (const [tenant, options] of Object.entries(cases)) {
    it(`builds the objects the template renderer built (${tenant})`, async () => {
      const root = await tempDir(`tenant-base-${tenant}`);
      await cp(skeleton, root, { recursive: true });
      for (const [path, text] of renderTenant(options)) {
        await mkdir(dirname(join(root, path)), { recursive: true });
        await writeFile(join(root, path), text);
      }
      const built = await kustomize(join(root, platformTenantDir(tenant)));
      const fixture = await readFile(join(packageRoot, 'test', 'fixtures', 'gitops', 'tenant-base', `${tenant}.yaml`), 'utf8');
      const expected = parseAllDocuments(fixture).map((d) => d.toJS()) as Resource[];
      expect(expected).toHaveLength(12);
      expect(sorted(built)).toEqual(sorted(expected));
    });
  }
});
