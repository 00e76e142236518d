// The route from outside the cluster to an app: one Gateway API HTTPRoute per app, rendered with
// the app, on the platform's Gateway (platform/system/, written by `aerogrid platform init`).
// The tenant is in the path, so two tenants' apps of one name never collide; the route carries no
// host name of its own and takes the Gateway listener's, so changing the platform host touches no
// app folder. Why Gateway API and not an Istio VirtualService: docs/gitops.md, "Routing".
import { checkApp, checkTenant } from '../repo-layout/names.js';

/** The platform's own namespace: the Gateway, the directory and console. */
export const PLATFORM_NAMESPACE = 'aerogrid-system';
/** The platform-owned Gateway every app's route attaches to. */
export const GATEWAY_NAME = 'aerogrid';
export const GATEWAY_LISTENER = 'https';
export const ROUTE_FILE = 'route.yaml';

/** `/apps/<tenant>/<app>/`: where an app is reached under the platform host. */
export function appRoutePath(tenant: string, app: string): string {
  return `/apps/${checkTenant(tenant)}/${checkApp(app)}/`;
}

/** The app's public URL and WebSocket under the platform host (what the directory hands out). */
export function appPublicUrls(host: string, tenant: string, app: string): { url: string; ws: string } {
  const base = `https://${host}${appRoutePath(tenant, app)}`.replace(/\/$/, '');
  return { url: base, ws: `${base.replace(/^https/, 'wss')}/v1/ws` };
}

/**
 * The app's HTTPRoute: `/apps/<tenant>/<app>/...` to its Service with the prefix rewritten to `/`,
 * so the sidecar sees its own paths (/v1/ws, /readyz) and the tenant's AuthorizationPolicies,
 * which the sidecar's proxy checks on the rewritten path, hold as they do inside the mesh.
 * Gateway API carries the WebSocket upgrade on an HTTPRoute without extra settings. The name
 * `connector` becomes `<app>-connector` through the app's namePrefix; the Service it points to
 * is named in full because kustomize does not rewrite HTTPRoute backends.
 */
export function renderRoute(tenant: string, app: string): string {
  const path = appRoutePath(tenant, app);
  return `# The route from https://<platform host>${path} to this app's sidecar (HTTP and WebSocket).
# The host is the platform Gateway's (aerogrid platform init --host); the prefix is cut off.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: connector
spec:
  parentRefs:
    - group: gateway.networking.k8s.io
      kind: Gateway
      namespace: ${PLATFORM_NAMESPACE}
      name: ${GATEWAY_NAME}
      sectionName: ${GATEWAY_LISTENER}
  rules:
    - matches:
        - path: {type: PathPrefix, value: ${JSON.stringify(path)}}
      filters:
        - type: URLRewrite
          urlRewrite:
            path: {type: ReplacePrefixMatch, replacePrefixMatch: /}
      backendRefs:
        - {group: "", kind: Service, name: ${checkApp(app)}-connector, port: 80}
`;
}
