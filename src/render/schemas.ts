// Offline schema validation of rendered resources with the kubernetes-models packages (the
// Kubernetes, Argo CD, Istio and Gateway API OpenAPI schemas compiled to validators). Those validators accept
// unknown keys, so every object is watched while it is validated: a key the validator never read
// is not in the schema, and is reported. An object whose keys are enumerated (a free-form map such
// as labels) or that is not looked into at all (a free-form object) is left alone.

type Validate = (data: unknown) => void;

const models: Record<string, () => Promise<{ validate?: Validate; new (data: any): { validate(): void } }>> = {
  'v1/ConfigMap': async () => (await import('kubernetes-models/v1/ConfigMap')).ConfigMap,
  'v1/Secret': async () => (await import('kubernetes-models/v1/Secret')).Secret,
  'v1/Service': async () => (await import('kubernetes-models/v1/Service')).Service,
  'v1/Namespace': async () => (await import('kubernetes-models/v1/Namespace')).Namespace,
  'v1/ResourceQuota': async () => (await import('kubernetes-models/v1/ResourceQuota')).ResourceQuota,
  'v1/LimitRange': async () => (await import('kubernetes-models/v1/LimitRange')).LimitRange,
  'v1/ServiceAccount': async () => (await import('kubernetes-models/v1/ServiceAccount')).ServiceAccount,
  'apps/v1/Deployment': async () => (await import('kubernetes-models/apps/v1/Deployment')).Deployment,
  'policy/v1/PodDisruptionBudget': async () => (await import('kubernetes-models/policy/v1/PodDisruptionBudget')).PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': async () => (await import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy')).NetworkPolicy,
  'argoproj.io/v1alpha1/Application': async () => (await import('@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application')).Application,
  'argoproj.io/v1alpha1/ApplicationSet': async () => (await import('@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet')).ApplicationSet,
  'argoproj.io/v1alpha1/AppProject': async () => (await import('@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject')).AppProject,
  'gateway.networking.k8s.io/v1/HTTPRoute': async () => (await import('@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute')).HTTPRoute,
  'gateway.networking.k8s.io/v1/Gateway': async () => (await import('@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway')).Gateway,
  'rbac.authorization.k8s.io/v1/ClusterRole': async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole')).ClusterRole,
  'rbac.authorization.k8s.io/v1/Role': async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/Role')).Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding')).RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding')).ClusterRoleBinding,
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy': async () => (await import('kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy')).ValidatingAdmissionPolicy,
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding': async () => (await import('kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding')).ValidatingAdmissionPolicyBinding,
  'security.istio.io/v1/AuthorizationPolicy': async () => (await import('@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy')).AuthorizationPolicy,
  'security.istio.io/v1/RequestAuthentication': async () => (await import('@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication')).RequestAuthentication,
};

/**
 * Keys the schemas hold but the generated validators lost: the Argo CD models' generator strips
 * every "description" from the CRD schema, including AppProject's real spec.description field.
 */
const KNOWN_KEYS: Record<string, string[]> = {
  'argoproj.io/v1alpha1/AppProject': ['spec.description'],
};

let preloading: Promise<unknown> | undefined;

/** Loads every validator (about half a second of module loading), e.g. while kustomize runs. */
export function preloadSchemas(): Promise<unknown> {
  preloading ??= Promise.all(Object.values(models).map((load) => load())).catch(() => undefined);
  return preloading;
}

interface Watch {
  read: Set<PropertyKey>;
  enumerated: boolean;
  path: string;
  target: Record<string, unknown>;
}

/** Wraps `value` so that reads of its keys (at any depth) are recorded in `watches`. */
function watched(value: unknown, path: string, watches: Watch[]): unknown {
  if (!value || typeof value !== 'object') return value;
  const target = value as Record<string, unknown>;
  const watch: Watch = { read: new Set(), enumerated: false, path, target };
  watches.push(watch);
  const children = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, key, receiver) {
      watch.read.add(key);
      const v = Reflect.get(t, key, receiver);
      if (typeof key !== 'string' || !v || typeof v !== 'object') return v;
      if (!children.has(key)) children.set(key, watched(v, Array.isArray(t) ? `${path}[${key}]` : `${path}.${key}`, watches));
      return children.get(key);
    },
    has(t, key) { watch.read.add(key); return Reflect.has(t, key); },
    ownKeys(t) { watch.enumerated = true; return Reflect.ownKeys(t); },
  });
}

function describe(error: any): string[] {
  const errors: any[] = error?.errors ?? error?.details ?? [];
  if (Array.isArray(errors) && errors.length > 0) {
    return errors.map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}${e.params?.missingProperty ? ` '${e.params.missingProperty}'` : ''}${e.params?.allowedValues ? ` (${e.params.allowedValues.join(', ')})` : ''}`);
  }
  return [String(error?.message ?? error)];
}

/** Schema problems of one resource: invalid values, missing fields, unknown keys. */
export async function schemaProblems(resource: { apiVersion: string; kind: string }): Promise<string[]> {
  const load = models[`${resource.apiVersion}/${resource.kind}`];
  if (!load) return [`${resource.apiVersion} ${resource.kind} is not a kind AeroGrid renders (no schema to check it against)`];
  const Model = await load();
  const watches: Watch[] = [];
  // A plain copy with the model's prototype: validators look up their schema through it.
  const copy = Object.setPrototypeOf(JSON.parse(JSON.stringify(resource)), Model.prototype);
  const proxy = watched(copy, '', watches);
  const problems: string[] = [];
  try {
    // The model's validate() checks `this`; call it on the watched object.
    (Model.prototype.validate as () => void).call(proxy);
  } catch (error) {
    problems.push(...describe(error));
  }
  const known = new Set(KNOWN_KEYS[`${resource.apiVersion}/${resource.kind}`] ?? []);
  for (const w of watches) {
    if (w.enumerated || Array.isArray(w.target) || w.read.size === 0) continue;
    for (const key of Object.keys(w.target)) {
      if (w.path === '' && (key === 'apiVersion' || key === 'kind')) continue;
      if (known.has(`${w.path.slice(1)}.${key}`)) continue;
      if (!w.read.has(key)) problems.push(`${w.path ? w.path.slice(1) : '(root)'}: unknown key '${key}'`);
    }
  }
  return problems;
}
