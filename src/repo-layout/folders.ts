// Where things live in a GitOps repo. Every path is built from checked names only.
import { checkApp, checkTenant } from './names.js';

export const BASE_VERSION = 'v1';
export const BASE_DIR = `bases/connector/${BASE_VERSION}`;
/** A tenant's namespace and guard-rails, versioned on its own: tenants' folders name the version. */
export const TENANT_BASE_DIR = 'bases/tenant/v1';

/** The app's folder: tenants may change it (through `aerogrid deploy`). */
export function appDir(tenant: string, app: string): string {
  return `tenants/${checkTenant(tenant)}/apps/${checkApp(app)}`;
}

/** The tenant's guard-rails and Argo CD objects: admin-owned. */
export function platformTenantDir(tenant: string): string {
  return `platform/tenants/${checkTenant(tenant)}`;
}

export const PLATFORM_KUSTOMIZATION = 'platform/kustomization.yaml';

/** The platform's settings (`aerogrid platform init`): read by the CLI, not applied. */
export const PLATFORM_FILE = 'platform/platform.yaml';
/** The platform's own components (namespace aerogrid-system). */
export const SYSTEM_DIR = 'platform/system';
/** The Argo CD bootstrap an admin applies once. */
export const BOOTSTRAP_DIR = 'bootstrap';
