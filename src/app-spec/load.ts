// Reading aerogrid.yaml: YAML with positions, then the JSON Schema (ajv), then the rules a schema
// cannot say well, every problem with its file:line:column and a fix. No Python here: see
// src/connector/validate.ts for the checks against app.py.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseDocument, LineCounter, isMap, isSeq, isScalar, type Node as YamlNode } from 'yaml';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { CliError, ExitCode } from '../errors.js';
import { packageRoot } from '../paths.js';
import { deployedTenantProblem, dns1123Problem, GRID_NAME_RULE, gridProblem, isReservedTenant, tenantTopicPrefix, TOPIC_PREFIX, topicProblem, type NameProblem } from '@aerogrid/protocol/names';
import { deadLetterTopicProblem } from '@aerogrid/protocol/kafka-names';
import { closest, entrypointProblem } from './names.js';
import { displayFile, displayPath, type Segment } from './display.js';
import { deadLetterTopic, SCHEMA_FILE, SPEC_FILE, SPEC_MAX_BYTES, specTooLarge, withDefaults, type AppSpec, type AppSpecFile, type Problem } from './types.js';

export { displayFile, displayPath, type Segment };

export interface Position { line: number; column: number; endLine?: number; endColumn?: number }

/** aerogrid.yaml read and checked on its own (without looking at app.py). */
export interface SpecCheck {
  file: string;
  problems: Problem[];
  /** The parsed value when the YAML could be read (even if it breaks the schema). */
  value?: unknown;
  /** Set when the file has no errors: the spec with its defaults. */
  spec?: AppSpec;
  /** Where a path of the document is (its value, or its key). */
  locate(path: Segment[], key?: boolean): Position;
}

function genericPath(path: Segment[]): string {
  return displayPath(path.map((s) => (typeof s === 'number' ? -1 : s))).replace(/\[-1\]/g, '[]');
}

/** How each field is fixed; keyed by generic path. */
const FIELD_HINTS: Record<string, string> = {
  'apiVersion': 'the first line should be `apiVersion: aerogrid.dev/v1`',
  'kind': 'write `kind: App`',
  'metadata': 'add `metadata:` with `name:` (the app) and `tenant:` (the owning team)',
  'metadata.name': 'the name given to aerogrid.App(...) in app.py, e.g. `name: ordersapp`',
  'metadata.tenant': 'the team that owns the app, e.g. `tenant: sales`',
  'metadata.description': 'one line of text, e.g. `description: Units sold per product`',
  'spec': 'add `spec:` with `topics:` and `grids:` (see `aerogrid init` for a complete example)',
  'spec.entrypoint': 'the Python file to run, relative to this folder, e.g. `entrypoint: app.py`',
  'spec.topics': 'list the topics app.py reads, e.g. `topics: [orders]`',
  'spec.topics[]': 'a Kafka topic name, e.g. `- orders`',
  'spec.grids': 'list the grids app.py creates, e.g. `grids: [{name: product_sum, columns: [units_sold]}]`',
  'spec.grids[]': 'each grid is a mapping, e.g. `- name: product_sum` with `columns: [units_sold]` under it',
  'spec.grids[].name': 'the name given to app.Grid(...) in app.py, e.g. `name: product_sum`',
  'spec.grids[].columns': 'the columns given to app.Grid(..., columns=[...]), e.g. `columns: [units_sold]`',
  'spec.grids[].columns[]': 'a column name, e.g. `- units_sold`',
  'spec.grids[].description': 'one line of text',
  'spec.replicas': '`replicas: 1` runs the app, `replicas: 2` adds a hot standby, `replicas: 0` stops it',
  'spec.resources': 'e.g. `resources: {cpu: 250m, memory: 256Mi}`',
  'spec.resources.cpu': 'a CPU quantity, e.g. `cpu: 250m` (a quarter core), `cpu: 0.5` or `cpu: 1`',
  'spec.resources.memory': 'a memory quantity, e.g. `memory: 256Mi` or `memory: 1Gi`',
  'spec.access': 'e.g. `access: {groups: [sales-analysts]}`',
  'spec.access.groups': 'a list of group names from your sign-in provider, e.g. `groups: [sales-analysts]`',
  'spec.access.groups[]': 'a group name, e.g. `- sales-analysts`',
  'spec.deadLetter': 'e.g. `deadLetter: {policy: dlq, retention: 7d}`',
  'spec.deadLetter.topic': 'a Kafka topic name starting with aerogrid.<tenant>., e.g. `topic: aerogrid.sales.ordersapp.dlq` (the default)',
  'spec.deadLetter.policy': '`policy: dlq` sets a bad record aside on the dead-letter topic and goes on (the default); `policy: stop` stops the app at the first one',
  'spec.deadLetter.retention': 'a number and a unit, h (hours) or d (days), e.g. `retention: 7d`',
  'spec.gitops': 'the GitOps repo as git reaches it, e.g. `gitops: git@github.com:acme/gitops.git` or a path such as `gitops: ../gitops.git`',
};

/** Keys users put one level wrong, and where they belong. */
const HOME_OF_KEY: Record<string, string> = {
  name: 'metadata', tenant: 'metadata', description: 'metadata',
  entrypoint: 'spec', topics: 'spec', grids: 'spec', replicas: 'spec', resources: 'spec', access: 'spec', deadLetter: 'spec', gitops: 'spec',
  policy: 'spec.deadLetter', retention: 'spec.deadLetter',
};

const PATTERN_REASONS: Record<string, string> = {
  'spec.resources.cpu': 'is not a CPU quantity',
  'spec.resources.memory': 'is not a memory quantity',
  'spec.deadLetter.retention': 'is not a duration',
};

type NameKind = 'dns' | 'topic' | 'grid' | 'entrypoint';
const NAME_FIELDS: Record<string, NameKind> = {
  'metadata.name': 'dns',
  'metadata.tenant': 'dns',
  'spec.topics[]': 'topic',
  'spec.grids[].name': 'grid',
  'spec.deadLetter.topic': 'topic',
  'spec.entrypoint': 'entrypoint',
};

function nameProblem(kind: NameKind, value: string): NameProblem | undefined {
  switch (kind) {
    case 'dns': return dns1123Problem(value);
    case 'topic': return topicProblem(value);
    case 'grid': return gridProblem(value);
    case 'entrypoint': return entrypointProblem(value);
  }
}

const NAME_RULES: Record<NameKind, string> = {
  dns: 'it becomes Kubernetes and Kafka names, so it must be a DNS-1123 label: lowercase letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters',
  topic: 'Kafka topic names hold letters, digits, \'.\', \'_\' and \'-\', at most 249 characters',
  grid: GRID_NAME_RULE,
  entrypoint: 'the entrypoint is a .py file inside the connector folder, given relative to it (e.g. app.py or src/app.py)',
};

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping (key: value pairs)';
  if (typeof value === 'string') return `the text ${JSON.stringify(value)}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `the whole number ${value}` : `the number ${value}`;
  if (typeof value === 'boolean') return `${value} (a yes/no value)`;
  return typeof value;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'text', integer: 'a whole number', number: 'a number', object: 'a mapping (key: value pairs)', array: 'a list', boolean: 'true or false',
};

function valueAt(root: unknown, path: Segment[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function parsePointer(pointer: string): Segment[] {
  if (!pointer) return [];
  return pointer.slice(1).split('/').map((raw) => {
    const s = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(s) ? Number(s) : s;
  });
}

let compiled: ValidateFunction | undefined;

/**
 * The schema's validator: the one compiled ahead of time (validator.generated.ts) when it was made
 * from this very schema, else compiled now with ajv (slower to start, same result).
 */
async function schemaValidator(): Promise<ValidateFunction> {
  if (compiled) return compiled;
  const schemaText = await readFile(join(packageRoot, SCHEMA_FILE), 'utf8');
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256').update(schemaText).digest('hex');
  try {
    const generated = await import('./validator.generated.js') as unknown as { schemaHash: string; validate: ValidateFunction };
    if (generated.schemaHash === hash) return (compiled = generated.validate);
  } catch { /* fall back to compiling */ }
  const [mod, { AJV_OPTIONS }] = await Promise.all([import('ajv'), import('./generate-validator.js')]);
  // ajv is CommonJS: its class is module.exports (and module.exports.default).
  const AjvClass = ((mod as unknown as { default: { default?: unknown } }).default.default ?? mod.default) as unknown as new (opts: object) => { compile(schema: object): ValidateFunction };
  compiled = new AjvClass(AJV_OPTIONS).compile(JSON.parse(schemaText) as object);
  return compiled;
}

/** The JSON Schema of aerogrid.yaml, as published in the package. */
export function schemaPath(): string {
  return join(packageRoot, SCHEMA_FILE);
}

/** Checks the text of an aerogrid.yaml. `file` is only used in the problems it reports. */
export async function checkSpecText(text: string, file: string): Promise<SpecCheck> {
  const bytes = Buffer.byteLength(text, 'utf8');
  // Refused before parsing: a spec this size is no connector's, and it would be committed.
  if (bytes > SPEC_MAX_BYTES) return { file, problems: [specTooLarge(file, bytes)], locate: () => ({ line: 1, column: 1 }) };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true, strict: true });
  const problems: Problem[] = [];
  const pos = (offset: number) => lineCounter.linePos(offset);

  const locate = (path: Segment[], key = false): Position => {
    let node: unknown = doc.contents;
    let keyNode: YamlNode | undefined;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
        if (!pair) break;
        keyNode = pair.key as YamlNode;
        node = pair.value;
        if (node === null || node === undefined) { node = undefined; break; }
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        keyNode = undefined;
        node = node.items[seg];
      } else break;
    }
    let target: YamlNode | undefined;
    if (key && keyNode) target = keyNode;
    else if ((node as YamlNode | undefined)?.range) target = node as YamlNode;
    else target = keyNode;
    const range = target?.range;
    if (!range) return { line: 1, column: 1 };
    const start = pos(range[0]);
    const end = pos(Math.max(range[0], range[1]));
    return { line: start.line, column: start.col, endLine: end.line, endColumn: end.col };
  };

  const add = (p: Omit<Problem, 'file' | 'severity'> & { severity?: Problem['severity'] }) => problems.push({ file, severity: 'error', ...p });

  const linesWithErrors = new Set<number>();
  for (const error of doc.errors) {
    const [start] = error.linePos ?? [{ line: 1, col: 1 }];
    // One mistake often trips the parser several times on its line: report the first.
    if (linesWithErrors.has(start?.line ?? 1)) continue;
    linesWithErrors.add(start?.line ?? 1);
    const firstLine = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const hint = {
      DUPLICATE_KEY: 'keep each key once: remove or merge the repeated one',
      TAB_AS_INDENT: 'indent with spaces, never tabs',
      MULTIPLE_DOCS: 'keep one document: remove the \'---\' line and what follows it',
      BAD_INDENT: 'line the key up with the keys beside it (same number of spaces)',
      MISSING_CHAR: 'close the quote or bracket that this line opens',
      BLOCK_AS_IMPLICIT_KEY: 'check the indentation, and that each key is followed by \': \'',
      MULTILINE_IMPLICIT_KEY: 'check the indentation, and that each key is followed by \': \' (with a space)',
      UNEXPECTED_TOKEN: 'check the indentation and the punctuation on this line',
    }[error.code as string] ?? 'fix the YAML syntax on this line (indentation, \': \' after keys, matching quotes and brackets)';
    add({ line: start?.line ?? 1, column: start?.col ?? 1, code: 'yaml-syntax', message: `aerogrid.yaml is not valid YAML: ${lowerFirst(firstLine)}`, hint });
  }
  if (doc.errors.length > 0) return { file, problems, locate };

  if (doc.contents === null || (isScalar(doc.contents) && (doc.contents.value === null || doc.contents.value === ''))) {
    add({ line: 1, column: 1, code: 'empty-file', message: 'aerogrid.yaml is empty', hint: 'run `aerogrid init` to create a connector, or see docs/spec.md for the fields (apiVersion, kind, metadata, spec)' });
    return { file, problems, locate };
  }
  for (const warning of doc.warnings) {
    const [start] = warning.linePos ?? [{ line: 1, col: 1 }];
    add({ severity: 'warning', line: start?.line ?? 1, column: start?.col ?? 1, code: 'yaml-warning', message: lowerFirst(warning.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')) });
  }

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    add({ line: 1, column: 1, code: 'yaml-syntax', message: `aerogrid.yaml cannot be read: ${(error as Error).message}`, hint: 'remove YAML aliases (*name) and anchors (&name); write the values out' });
    return { file, problems, locate };
  }

  const validate = await schemaValidator();
  if (!validate(value)) problems.push(...translate(validate.errors ?? [], value, file, locate));
  problems.push(...extraRules(value, file, locate));

  const errors = problems.filter((p) => p.severity === 'error');
  return {
    file,
    problems: sortProblems(problems),
    value,
    locate,
    ...(errors.length === 0 ? { spec: withDefaults(value as AppSpecFile) } : {}),
  };
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

export function sortProblems(problems: Problem[]): Problem[] {
  const rank = (p: Problem) => (p.file.endsWith(SPEC_FILE) ? 0 : 1);
  return problems.sort((a, b) => rank(a) - rank(b) || a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

function translate(errors: ErrorObject[], root: unknown, file: string, locate: SpecCheck['locate']): Problem[] {
  const out: Problem[] = [];
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  const add = (path: Segment[], at: Position, code: string, message: string, hint?: string) =>
    out.push({ file, severity: 'error', ...at, code, path: displayPath(path), message, ...(hint ? { hint } : {}) });

  for (const [pointer, list] of byPath) {
    const path = parsePointer(pointer);
    const generic = genericPath(path);
    const display = displayPath(path);
    const value = valueAt(root, path);
    const fieldHint = FIELD_HINTS[generic];

    const typeError = list.find((e) => e.keyword === 'type');
    if (typeError) {
      const expected = ([] as string[]).concat(typeError.params.type as string | string[]);
      let hint = fieldHint;
      if (generic === 'spec.replicas') hint = 'write `replicas: 1` to run the app, `replicas: 2` for a hot standby, or `replicas: 0` to stop it, without quotes';
      else if (expected.includes('integer') && typeof value === 'string' && /^-?\d+$/.test(value.trim())) hint = `write the number without quotes: \`${String(path.at(-1))}: ${value.trim()}\``;
      else if (expected.includes('string') && (typeof value === 'number' || typeof value === 'boolean')) hint = fieldHint && !NAME_FIELDS[generic] ? fieldHint : `put it in quotes: \`${String(path.at(-1))}: "${String(value)}"\``;
      else if (expected.includes('array') && typeof value === 'string') hint = `make it a list: \`${String(path.at(-1))}: [${value}]\``;
      else if (value === null) hint = `fill in a value, or remove the key${fieldHint ? `; ${fieldHint}` : ''}`;
      add(path, locate(path), 'wrong-type', `${display} must be ${expected.map((t) => TYPE_NAMES[t] ?? t).join(' or ')}, but it is ${describeValue(value)}`, hint);
      continue;
    }

    const nameKind = NAME_FIELDS[generic];
    if (nameKind && typeof value === 'string' && list.some((e) => ['pattern', 'minLength', 'maxLength'].includes(e.keyword))) {
      const problem = nameProblem(nameKind, value) ?? { reason: 'is not a valid name' };
      const code = nameKind === 'entrypoint' ? 'unsafe-path' : 'bad-name';
      const fix = problem.suggestion ? `use '${problem.suggestion}' (${NAME_RULES[nameKind]})` : NAME_RULES[nameKind];
      add(path, locate(path), code, `${display} ${JSON.stringify(value)} ${problem.reason}`, fix);
      list.splice(0, list.length, ...list.filter((e) => !['pattern', 'minLength', 'maxLength'].includes(e.keyword)));
    }

    for (const e of list) {
      switch (e.keyword) {
        case 'required': {
          const missing = String(e.params.missingProperty);
          const missingPath = [...path, missing];
          const where = path.length === 0 ? 'aerogrid.yaml' : display;
          add(missingPath, path.length === 0 ? { line: 1, column: 1 } : locate(path, true), 'missing-key', `${where} is missing the required key '${missing}'`, FIELD_HINTS[genericPath(missingPath)]);
          break;
        }
        case 'additionalProperties': {
          const key = String(e.params.additionalProperty);
          const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
          const where = path.length === 0 ? 'at the top level' : `in ${display}`;
          const guess = closest(key, allowed);
          const home = HOME_OF_KEY[key];
          let hint: string;
          if (guess) hint = `did you mean '${guess}'? (allowed ${where}: ${allowed.join(', ')})`;
          else if (home && home !== display) hint = `'${key}' belongs under '${home}:'; indent it there`;
          else hint = `remove it; allowed ${where}: ${allowed.join(', ')}`;
          add([...path, key], locate([...path, key], true), 'unknown-key', `unknown key '${key}' ${where}`, hint);
          break;
        }
        case 'enum': {
          const allowed = ((e.params.allowedValues as unknown[] | undefined) ?? []).map(String);
          add(path, locate(path), 'bad-value', `${display} must be ${allowed.join(' or ')}, not ${JSON.stringify(value)}`, fieldHint);
          break;
        }
        case 'const': {
          const allowed = String(e.params.allowedValue);
          const more = path[0] === 'apiVersion' && typeof value === 'string' && value.startsWith('aerogrid.dev/')
            ? `; this aerogrid reads ${allowed} only` : '';
          add(path, locate(path), 'bad-value', `${display} must be '${allowed}', not ${JSON.stringify(value)}${more}`, `write \`${String(path.at(-1))}: ${allowed}\``);
          break;
        }
        case 'minimum':
        case 'maximum':
          if (generic === 'spec.replicas') {
            add(path, locate(path), 'bad-value', `spec.replicas is ${String(value)}; it must be 0 (stopped), 1 (running) or 2 (running with a hot standby)`, 'one instance of an app writes its grids (they are whole tables) and more than one standby adds nothing: use `replicas: 1` or `replicas: 2`');
          } else {
            add(path, locate(path), 'bad-value', `${display} must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(e.params.limit)}, but it is ${String(value)}`, fieldHint);
          }
          break;
        case 'exclusiveMinimum':
          add(path, locate(path), 'bad-value', `${display} must be more than ${String(e.params.limit)}, but it is ${String(value)}`, fieldHint);
          break;
        case 'minItems':
          add(path, locate(path), 'bad-value', `${display} is an empty list; it needs at least ${String(e.params.limit)} item`, fieldHint);
          break;
        case 'uniqueItems': {
          const i = Number(e.params.i);
          const j = Number(e.params.j);
          const later = Math.max(i, j);
          const dup = Array.isArray(value) ? value[later] : undefined;
          add([...path, later], locate([...path, later]), 'duplicate', `${display} lists ${JSON.stringify(dup)} twice (items ${Math.min(i, j) + 1} and ${later + 1})`, 'remove the repeated item');
          break;
        }
        case 'pattern': {
          let reason = PATTERN_REASONS[generic] ?? 'is not in the expected form';
          if (typeof value === 'string' && /[\u0000-\u001f\u007f]/.test(value)) reason = 'holds a control character (a tab or a line break)';
          add(path, locate(path), 'bad-value', `${display} ${JSON.stringify(value)} ${reason}`, fieldHint);
          break;
        }
        case 'minLength':
          add(path, locate(path), 'bad-value', `${display} is empty`, fieldHint);
          break;
        case 'maxLength':
          add(path, locate(path), 'bad-value', `${display} is too long (${typeof value === 'string' ? value.length : '?'} characters; at most ${String(e.params.limit)})`, fieldHint);
          break;
        default:
          add(path, locate(path), 'bad-value', `${display} ${e.message ?? 'is not valid'}`, fieldHint);
      }
    }
  }
  return out;
}

/**
 * Rules the schema cannot state: grid names unique; the dead-letter topic not read by the app, not
 * its changelog, and inside its tenant's topic prefix.
 */
function extraRules(root: unknown, file: string, locate: SpecCheck['locate']): Problem[] {
  const out: Problem[] = [];
  // The platform's own namespaces: the schema's pattern lets them through, deploying would not.
  const tenantValue = (valueAt(root, ['metadata']) as { tenant?: unknown } | undefined)?.tenant;
  if (typeof tenantValue === 'string' && !dns1123Problem(tenantValue) && isReservedTenant(tenantValue)) {
    const path = ['metadata', 'tenant'];
    const problem = deployedTenantProblem(tenantValue)!;
    out.push({ file, severity: 'error', ...locate(path), code: 'bad-name', path: displayPath(path), message: `metadata.tenant ${JSON.stringify(tenantValue)} ${problem.reason}`, hint: `use the team that owns the app, e.g. \`tenant: ${problem.suggestion ?? 'team-sales'}\` (onboarded with \`aerogrid tenant add\`)` });
  }
  const spec = valueAt(root, ['spec']) as Record<string, unknown> | undefined;
  if (!spec || typeof spec !== 'object') return out;
  if (Array.isArray(spec.grids)) {
    const seen = new Map<string, number>();
    spec.grids.forEach((g: unknown, i) => {
      const name = (g as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') return;
      const first = seen.get(name);
      if (first !== undefined) {
        const path = ['spec', 'grids', i, 'name'];
        out.push({ file, severity: 'error', ...locate(path), code: 'duplicate', path: displayPath(path), message: `grid '${name}' is declared twice (spec.grids[${first}] and spec.grids[${i}])`, hint: 'each grid once: remove or rename the second' });
      } else seen.set(name, i);
    });
  }
  const dlq = (spec.deadLetter as { topic?: unknown } | undefined)?.topic;
  if (typeof dlq === 'string' && !topicProblem(dlq)) {
    const meta = valueAt(root, ['metadata']) as { name?: unknown; tenant?: unknown } | undefined;
    const tenant = typeof meta?.tenant === 'string' && !dns1123Problem(meta.tenant) ? meta.tenant : undefined;
    const name = typeof meta?.name === 'string' && !dns1123Problem(meta.name) ? meta.name : undefined;
    const fallback = tenant && name ? `the default \`${deadLetterTopic(tenant, name)}\`` : 'the default `aerogrid.<tenant>.<name>.dlq`';
    const path = ['spec', 'deadLetter', 'topic'];
    const problem = (message: string, hint: string) => out.push({ file, severity: 'error', ...locate(path), code: 'bad-value', path: displayPath(path), message, hint });
    if (Array.isArray(spec.topics) && spec.topics.includes(dlq)) {
      problem(`spec.deadLetter.topic '${dlq}' is also a topic the app reads: its rejected records would come back to it`, `give dead letters their own topic, e.g. ${fallback} (remove the key)`);
    } else if (tenant) {
      // Tenant isolation: an app writes only under aerogrid.<tenant>., never into another tenant's
      // topics, nor into a changelog, dead-letter or internal topic (the rule the sidecar applies too).
      // With a broken app name the app's own dead-letter topic is not known: no follow-on error for it.
      const found = deadLetterTopicProblem(dlq, tenant, name);
      const refused = found?.rule === 'dead-letters' && !name ? null : found;
      if (refused?.rule === 'outside-tenant') {
        const prefix = tenantTopicPrefix(tenant);
        // For the hint, the name without another tenant's prefix: aerogrid.billing.shop.dlq → shop.dlq.
        const rest = (dlq.startsWith(TOPIC_PREFIX) && dlq.slice(TOPIC_PREFIX.length).split('.').slice(1).join('.')) || dlq;
        problem(`spec.deadLetter.topic '${dlq}' ${refused.reason}`, `remove the key to use ${fallback}, or write \`topic: ${prefix}${rest}\``);
      } else if (refused) {
        problem(`spec.deadLetter.topic '${dlq}' ${refused.reason}`, `remove the key to use ${fallback}`);
      }
    }
  }
  const gitops = spec.gitops;
  if (typeof gitops === 'string') {
    const path = ['spec', 'gitops'];
    const leak = gitopsCredential(gitops);
    if (gitops.startsWith('-')) {
      out.push({
        file, severity: 'error', ...locate(path), code: 'bad-value', path: displayPath(path),
        message: 'spec.gitops starts with \'-\', which git would read as an option',
        hint: `give a git URL or a path; a folder whose name starts with '-' is written \`gitops: ./${gitops}\``,
      });
    } else if (leak) {
      // aerogrid.yaml is committed (to the connector's repo and the GitOps repo): no secrets in it.
      out.push({
        file, severity: 'error', ...locate(path), code: 'bad-value', path: displayPath(path),
        message: leak === 'password' ? 'spec.gitops holds a password or token in its URL, and aerogrid.yaml is committed' : `spec.gitops holds a credential in its URL (${leak}), and aerogrid.yaml is committed`,
        hint: `write the URL without it (\`gitops: ${withoutCredential(gitops)}\`) and let git find the credentials (a credential helper, or an SSH key), or set AEROGRID_GITOPS from the environment where a token has to be in the URL`,
      });
    }
  }
  return out;
}

/** Query parameters that carry a credential in git hosts' URLs (access_token, private_token, a token, a key...). */
const TOKEN_PARAM = /^(.*[_-])?(token|access[_-]?token|private[_-]?token|auth|authorization|password|passwd|pwd|secret|key|api[_-]?key|sig|signature|credentials?)$/i;

/**
 * What credential a GitOps URL carries, or undefined: a password (`user:pass@`), a user or token as
 * userinfo (`https://ghp_…@`; only ssh's conventional user is fine, it is no secret), or a
 * token-like query parameter.
 */
export function gitopsCredential(value: string): 'password' | 'a user or token before @' | 'a token in the query' | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(value);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const authority = m[2]!;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    if (userinfo.includes(':')) return 'password';
    if (!(scheme === 'ssh' || scheme === 'git+ssh' || scheme === 'ssh+git')) return 'a user or token before @';
  }
  const q = value.indexOf('?');
  if (q >= 0) {
    const query = value.slice(q + 1).split('#')[0]!;
    if (query.split('&').some((kv) => TOKEN_PARAM.test(decodeURIComponentSafe(kv.split('=')[0]!)))) return 'a token in the query';
  }
  return undefined;
}

function decodeURIComponentSafe(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}

function withoutCredential(value: string): string {
  const noUser = value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
  const q = noUser.indexOf('?');
  if (q < 0) return noUser;
  const [query, hash] = noUser.slice(q + 1).split('#');
  const kept = query!.split('&').filter((kv) => kv && !TOKEN_PARAM.test(decodeURIComponentSafe(kv.split('=')[0]!)));
  return noUser.slice(0, q) + (kept.length ? `?${kept.join('&')}` : '') + (hash !== undefined ? `#${hash}` : '');
}

export interface LoadedSpec {
  /** The spec with defaults filled in. */
  spec: AppSpec;
  /** The aerogrid.yaml it came from. */
  file: string;
  /** Warnings (the spec has no errors). */
  warnings: Problem[];
}

/**
 * Reads `<dir>/aerogrid.yaml` for commands that run a connector (`aerogrid dev`, `aerogrid deploy`).
 * Returns undefined when the folder has no aerogrid.yaml. Throws a CliError (exit 3) listing
 * every problem when it is invalid. Does not look at app.py: `aerogrid validate` does that.
 */
export async function loadSpec(dir: string): Promise<LoadedSpec | undefined> {
  const file = resolve(dir, SPEC_FILE);
  if (!existsSync(file)) return undefined;
  const shown = displayFile(file);
  const size = (await stat(file)).size;
  // Over the cap it is not read: its size says enough.
  if (size > SPEC_MAX_BYTES) throw invalidSpecError(shown, [specTooLarge(shown, size)], dir);
  const checked = await checkSpecText(await readFile(file, 'utf8'), shown);
  if (!checked.spec) throw invalidSpecError(shown, checked.problems, dir);
  return { spec: checked.spec, file, warnings: checked.problems };
}

/** The CliError (exit 3) for an aerogrid.yaml with errors: every one, at file:line:column, with its fix. */
export function invalidSpecError(shown: string, problems: Problem[], dir: string): CliError {
  const errors = problems.filter((p) => p.severity === 'error');
  return new CliError(`${shown} is not valid:\n${errors.map((p) => `  ${p.file}:${p.line}:${p.column}: ${p.message}${p.hint ? `\n      fix: ${p.hint}` : ''}`).join('\n')}`, {
    exitCode: ExitCode.invalid,
    hint: `fix the problems above; \`aerogrid validate ${dir}\` checks app.py as well`,
  });
}
