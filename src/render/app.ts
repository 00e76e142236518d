// Renders an app's folder in the GitOps repo: a kustomization over the versioned connector base,
// the code as a configMapGenerator (new code, new ConfigMap name, so the pods roll), a replicas
// patch, the resources and access patches, the app's route (route.ts) and the connector's own aerogrid.yaml.
import { ENV, retentionMs } from '@aerogrid/protocol/environment';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { CODE_MAX_BYTES, codeTooLarge, isCodeFile, type AppSpec } from '../app-spec/types.js';
import { BASE_DIR, appDir } from '../repo-layout/folders.js';
import { renderRoute, ROUTE_FILE } from './route.js';

export const REPLICAS_FILE = 'replicas.yaml';
export const CODE_DIR = 'code';

export type Files = Map<string, string>;

/** The connector's code that runs: the top-level .py files, without tests. */
export async function collectCode(dir: string, spec: AppSpec): Promise<Files> {
  const code: Files = new Map();
  let total = 0;
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isFile() || !isCodeFile(entry.name, spec.entrypoint)) continue;
    const text = await readFile(join(dir, entry.name), 'utf8');
    total += Buffer.byteLength(text);
    code.set(entry.name, text);
  }
  if (!code.has(spec.entrypoint)) {
    throw new CliError(`The entrypoint ${spec.entrypoint} is not in ${dir}.`, { exitCode: ExitCode.notFound, hint: 'Set spec.entrypoint in aerogrid.yaml to the app\'s Python file.' });
  }
  if (total > CODE_MAX_BYTES) {
    const { message, hint } = codeTooLarge(total);
    throw new CliError(`In ${dir}, ${message}.`, { exitCode: ExitCode.invalid, hint: `${hint[0]!.toUpperCase()}${hint.slice(1)}.` });
  }
  return code;
}

export function replicasPatch(replicas: number): string {
  return `# Desired replicas: 1 runs the app, 0 stops it (\`aerogrid start|stop\`).
apiVersion: apps/v1
kind: Deployment
metadata:
  name: connector
spec:
  replicas: ${replicas}
`;
}

/** Reads the replicas from an app folder's replicas.yaml. */
export function parseReplicas(text: string): number | undefined {
  const match = /^\s*replicas:\s*(\d+)\s*$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

function yamlString(value: string): string {
  return JSON.stringify(value);
}

/** Every file of the app's folder, keyed by path relative to the GitOps repo's root. */
export function renderApp(spec: AppSpec, code: Files, specText: string): Files {
  const dir = appDir(spec.tenant, spec.name);
  const files: Files = new Map();
  const codeFiles = [...code.keys()];
  const settings: Record<string, string> = {
    [ENV.app]: spec.name,
    [ENV.tenant]: spec.tenant,
    [ENV.entrypoint]: spec.entrypoint,
    // The sidecar reads these (--dead-letter, --dead-letter-topic, --dead-letter-retention-ms as environment).
    [ENV.deadLetter]: spec.deadLetter.policy,
    [ENV.deadLetterTopic]: spec.deadLetter.topic,
    [ENV.deadLetterRetentionMs]: String(retentionMs(spec.deadLetter.retention)),
    // Who may view the grids (--viewer-groups): the sidecar checks it on the WebSocket's token.
    [ENV.viewerGroups]: spec.access.groups.join(','),
  };
  files.set(`${dir}/kustomization.yaml`, `# Rendered by \`aerogrid deploy\` from the connector's aerogrid.yaml; change that, not this.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ${spec.tenant}
namePrefix: ${spec.name}-
resources:
  - ../../../../${BASE_DIR}
  - ${ROUTE_FILE}
${spec.replicas >= 2 ? `components:\n  - ../../../../${BASE_DIR}/pdb\n` : ''}labels:
  - includeSelectors: true
    pairs:
      app.kubernetes.io/name: ${spec.name}
      app.kubernetes.io/part-of: aerogrid
      aerogrid.dev/tenant: ${spec.tenant}
      aerogrid.dev/app: ${spec.name}
configMapGenerator:
  # The code that runs; a change gives the ConfigMap a new name, which rolls the pods.
  - name: code
    files:
${codeFiles.map((f) => `      - ${f}=${CODE_DIR}/${f}`).join('\n')}
  - name: app-settings
    literals:
${Object.entries(settings).map(([k, v]) => `      - ${yamlString(`${k}=${v}`)}`).join('\n')}
patches:
  - path: ${REPLICAS_FILE}
  - path: resources.yaml
  - path: access.yaml
`);
  files.set(`${dir}/${REPLICAS_FILE}`, replicasPatch(spec.replicas));
  files.set(`${dir}/resources.yaml`, `# The Python runtime's CPU and memory (aerogrid.yaml spec.resources), as request and limit.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: connector
spec:
  template:
    spec:
      containers:
        - name: runtime
          resources:
            requests: {cpu: ${yamlString(spec.resources.cpu)}, memory: ${yamlString(spec.resources.memory)}}
            limits: {cpu: ${yamlString(spec.resources.cpu)}, memory: ${yamlString(spec.resources.memory)}}
`);
  // The tenant claim is checked for the whole namespace (bases/tenant/v1/authorization-policy.yaml).
  const groups = spec.access.groups;
  const when = groups.length > 0 ? `\n      when:\n        - key: request.auth.claims[groups]\n          values: [${groups.map(yamlString).join(', ')}]` : '';
  files.set(`${dir}/access.yaml`, `# Who may view the grids: signed-in users of tenant ${spec.tenant}${groups.length ? ' in the groups of aerogrid.yaml spec.access.groups' : ''}.
# The WebSocket carries its token in its first message: the sidecar checks it (and the groups) itself.
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: connector
spec:
  rules:
    - from:
        - source:
            requestPrincipals: ["*"]
      to:
        - operation:
            ports: ["8080"]${when}
    - to:
        - operation:
            ports: ["8080"]
            paths: ["/healthz", "/readyz", "/v1/ws"]
            methods: ["GET"]
`);
  files.set(`${dir}/${ROUTE_FILE}`, renderRoute(spec.tenant, spec.name));
  files.set(`${dir}/aerogrid.yaml`, specText);
  for (const [name, text] of code) files.set(`${dir}/${CODE_DIR}/${name}`, text);
  return files;
}
