/** The connector spec, aerogrid.yaml (apiVersion aerogrid.dev/v1, kind App). See docs/spec.md. */
import { appKafkaNames } from '@aerogrid/protocol/kafka-names';

export const API_VERSION = 'aerogrid.dev/v1';
export const KIND = 'App';
/** The largest aerogrid.yaml read: 256 KiB, far above any real spec (it describes, it holds no data). */
export const SPEC_MAX_BYTES = 256 * 1024;
/**
 * The most an app's code files may hold together: 768 KiB. The code ships as one ConfigMap, and
 * Kubernetes caps a ConfigMap at 1 MiB (keys and the object's own fields included).
 */
export const CODE_MAX_BYTES = 768 * 1024;

/** Whether a file at the top of the connector folder ships as code: a .py file, not a test (unless it is the entrypoint). */
export function isCodeFile(name: string, entrypoint: string): boolean {
  if (!name.endsWith('.py')) return false;
  if (/^test_.*\.py$|_test\.py$|^conftest\.py$/.test(name) && name !== entrypoint) return false;
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*\.py$/.test(name);
}

/** The message and fix for code over CODE_MAX_BYTES. */
export function codeTooLarge(total: number): { message: string; hint: string } {
  return {
    message: `the connector's code files are ${formatBytes(total)} together; they may be at most ${formatBytes(CODE_MAX_BYTES)}`,
    hint: 'the code ships as one Kubernetes ConfigMap, which holds at most 1 MiB: keep data files out of the connector folder and read large data from Kafka instead',
  };
}

/** The problem of an aerogrid.yaml over SPEC_MAX_BYTES (found from its size alone: it need not be read). */
export function specTooLarge(file: string, bytes: number): Problem {
  return { file, severity: 'error', line: 1, column: 1, code: 'too-large', path: '', message: `${file} is ${formatBytes(bytes)}; an aerogrid.yaml may be at most ${formatBytes(SPEC_MAX_BYTES)}`, hint: 'keep aerogrid.yaml to the app\'s description (topics, grids, resources); data belongs in Kafka, not in the spec' };
}

/** 256 KiB, 3.2 MiB, 812 bytes. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${Math.round((n / 1024) * 10) / 10} KiB`;
  return `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;
}

export const SPEC_FILE = 'aerogrid.yaml';
/** The JSON Schema, relative to the package root. */
export const SCHEMA_FILE = 'schemas/aerogrid-app.v1.schema.json';

/** What the sidecar does with a record the app cannot process: dead-letter it and go on, or stop. */
export { DEAD_LETTER_POLICIES, type DeadLetterPolicy } from '@aerogrid/protocol/environment';
import type { DeadLetterPolicy } from '@aerogrid/protocol/environment';

export interface GridSpec {
  name: string;
  columns?: string[];
  description?: string;
}

/** aerogrid.yaml as written (optional fields may be absent). */
export interface AppSpecFile {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: { name: string; tenant: string; description?: string };
  spec: {
    entrypoint?: string;
    topics: string[];
    grids: GridSpec[];
    replicas?: 0 | 1 | 2;
    resources?: { cpu?: string | number; memory?: string };
    access?: { groups?: string[] };
    deadLetter?: { topic?: string; policy?: DeadLetterPolicy; retention?: string };
    gitops?: string;
  };
}

/** aerogrid.yaml with every default filled in: what the platform runs. */
export interface AppSpec {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  name: string;
  tenant: string;
  description: string;
  entrypoint: string;
  topics: string[];
  grids: GridSpec[];
  /** 2: one instance writes, the other stands by (docs/protocol.md §1 "One writer per app"). */
  replicas: 0 | 1 | 2;
  resources: { cpu: string; memory: string };
  access: { groups: string[] };
  deadLetter: { topic: string; policy: DeadLetterPolicy; retention: string };
  /** The GitOps repo (a git URL, or a path relative to the connector folder), when the spec names one. */
  gitops?: string;
}

export const DEFAULTS = {
  entrypoint: 'app.py',
  replicas: 1,
  cpu: '250m',
  memory: '256Mi',
  retention: '7d',
  deadLetterPolicy: 'dlq',
} as const;

/** The default dead-letter topic, `aerogrid.<tenant>.<app>.dlq` (the sidecar's default too). */
export function deadLetterTopic(tenant: string, name: string): string {
  return appKafkaNames(tenant, name).deadLetters;
}


export function withDefaults(file: AppSpecFile): AppSpec {
  const s = file.spec;
  return {
    apiVersion: file.apiVersion,
    kind: file.kind,
    name: file.metadata.name,
    tenant: file.metadata.tenant,
    description: file.metadata.description ?? '',
    entrypoint: s.entrypoint ?? DEFAULTS.entrypoint,
    topics: [...s.topics],
    grids: s.grids.map((g) => ({ ...g })),
    replicas: s.replicas ?? DEFAULTS.replicas,
    resources: { cpu: String(s.resources?.cpu ?? DEFAULTS.cpu), memory: s.resources?.memory ?? DEFAULTS.memory },
    access: { groups: [...(s.access?.groups ?? [])] },
    deadLetter: {
      topic: s.deadLetter?.topic ?? deadLetterTopic(file.metadata.tenant, file.metadata.name),
      policy: s.deadLetter?.policy ?? DEFAULTS.deadLetterPolicy,
      retention: s.deadLetter?.retention ?? DEFAULTS.retention,
    },
    ...(s.gitops !== undefined ? { gitops: s.gitops } : {}),
  };
}

/** One thing wrong with a connector, where it is, and how to fix it. */
export interface Problem {
  /** The file, as the user would type it (relative to the working directory when inside it). */
  file: string;
  /** 1-based; 0 when the problem is about the file as a whole and it has no lines. */
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  severity: 'error' | 'warning';
  /** A stable identifier: yaml-syntax, unknown-key, wrong-type, bad-name, ... (docs/spec.md lists them). */
  code: string;
  /** Where in aerogrid.yaml, as a dotted path (spec.grids[0].name), when the problem is in it. */
  path?: string;
  message: string;
  /** How to fix it. */
  hint?: string;
}
