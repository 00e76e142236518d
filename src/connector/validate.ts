// `aerogrid validate`: aerogrid.yaml against its schema and rules, app.py compiled and read (its
// syntax tree, never run), and the two compared. Every problem at once; nothing is written.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { packageRoot } from '../paths.js';
import { pythonCommand } from './python.js';
import { displayFile, displayPath, type Segment } from '../app-spec/display.js';
import type { SpecCheck } from '../app-spec/load.js';
import { entrypointProblem } from '../app-spec/names.js';
import { readContainerLimits, resourcesOverLimits } from '../repo-layout/limits.js';
import { CODE_MAX_BYTES, codeTooLarge, DEFAULTS, isCodeFile, SPEC_FILE, SPEC_MAX_BYTES, specTooLarge, type AppSpec, type Problem } from '../app-spec/types.js';

export interface Declared { name: string | null; line: number; column: number; endColumn?: number }
export interface DeclaredGrid extends Declared { columns: string[] | null }

/** What app.py declares, read from its syntax tree by src/connector/inspect_app.py. */
export interface AppInspection {
  syntaxError: { line: number; column: number; message: string; text?: string } | null;
  apps: Declared[];
  topics: Declared[];
  grids: DeclaredGrid[];
  streams: Array<{ line: number; column: number }>;
  importsAerogrid: boolean;
  /** Record fields typed with a name that resolves to nothing (a typo such as `flaot`), with a did-you-mean. */
  typeProblems?: Array<{ line: number; column: number; endColumn?: number; message: string; hint: string }>;
  /** `grid[key] = {'col': ...}` writing a literal column the grid does not declare. */
  columnProblems?: Array<{ grid: string; name: string; columns: string[]; suggestion: string | null; line: number; column: number; endColumn?: number }>;
}

export interface ValidationResult {
  dir: string;
  valid: boolean;
  errors: number;
  warnings: number;
  /** The spec with defaults, when aerogrid.yaml itself has no errors. */
  spec?: AppSpec;
  problems: Problem[];
  /** Set when python3 could not be run, so app.py was not checked. */
  pythonMissing?: boolean;
}

/** The problem code of a topic named by an expression: a warning for validate, an error for deploy. */
export const DYNAMIC_TOPIC = 'dynamic-topic';

/** The problem code of spec.resources over the tenant's LimitRange. */
export const OVER_LIMIT = 'over-limit';

const inspectScript = join(packageRoot, 'src', 'connector', 'inspect_app.py');

/** Runs inspect_app.py on one file. Resolves to 'missing' when Python cannot be started. */
export function inspectApp(file: string, python = pythonCommand(dirname(file))): Promise<AppInspection | 'missing'> {
  return new Promise((resolvePromise, reject) => {
    execFile(python, ['-I', '-S', '-B', inspectScript, file], {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') { resolvePromise('missing'); return; }
      if (error) { reject(new CliError(`Reading ${displayFile(file)} with Python failed: ${stderr.trim() || error.message}`, { exitCode: ExitCode.failure })); return; }
      try {
        resolvePromise(JSON.parse(stdout) as AppInspection);
      } catch {
        reject(new CliError(`Reading ${displayFile(file)} with Python gave no result: ${stderr.trim()}`));
      }
    });
  });
}

export async function validateConnector(dirArg: string): Promise<ValidationResult> {
  return (await readConnector(dirArg)).result;
}

/**
 * validateConnector, with the aerogrid.yaml text it read and checked (undefined without one), for
 * a caller that goes on with the connector (deploy) and must not read the file again.
 */
export async function readConnector(dirArg: string): Promise<{ result: ValidationResult; specText: string | undefined }> {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) {
    throw new CliError(`There is no folder ${dirArg}.`, { exitCode: ExitCode.notFound, hint: 'give the connector folder (the one holding aerogrid.yaml and app.py), or create one with `aerogrid init <name>`' });
  }
  if (!statSync(dir).isDirectory()) {
    throw new CliError(`${dirArg} is a file, not a connector folder.`, { exitCode: ExitCode.notFound, hint: `give the folder that holds aerogrid.yaml and app.py (\`aerogrid validate ${displayFile(resolve(dir, '..'))}\`?)` });
  }
  const specAbs = join(dir, SPEC_FILE);
  const specFile = displayFile(specAbs);
  const problems: Problem[] = [];

  // 1. aerogrid.yaml: parse it (cheap), so that the entrypoint is known and Python can start.
  let specText: string | undefined;
  if (existsSync(specAbs)) {
    const size = statSync(specAbs).size;
    // Not read at all when over the cap: the message needs only its size.
    if (size > SPEC_MAX_BYTES) problems.push(specTooLarge(specFile, size));
    else specText = await readFile(specAbs, 'utf8');
  } else {
    problems.push({ file: specFile, line: 0, column: 0, severity: 'error', code: 'missing-spec', message: `${SPEC_FILE} does not exist`, hint: `every connector needs one: \`aerogrid init\` creates it; docs/spec.md describes its fields` });
  }

  // Start Python on the likely entrypoint at once, so that it runs while the YAML library loads;
  // the result is used only if the parsed spec names the same file.
  const guess = specText === undefined ? DEFAULTS.entrypoint : guessEntrypoint(specText);
  let early: { entrypoint: string; inspection: Promise<AppInspection | 'missing'> } | undefined;
  if (guess && !entrypointProblem(guess) && usableFile(dir, join(dir, guess))) {
    early = { entrypoint: guess, inspection: inspectApp(join(dir, guess)) };
    early.inspection.catch(() => undefined); // awaited below, or dropped
  }
  const [{ checkSpecText, sortProblems }, { parse: parseYaml }] = await Promise.all([import('../app-spec/load.js'), import('yaml')]);
  const rawEntrypoint = specText === undefined ? undefined : entrypointFromText(specText, parseYaml);

  // 2. The entrypoint, only if it is a safe path inside the folder.
  let entrypoint: string | undefined = DEFAULTS.entrypoint;
  let entryProblemAt: Segment[] | undefined;
  if (rawEntrypoint !== undefined) {
    entrypoint = typeof rawEntrypoint === 'string' && !entrypointProblem(rawEntrypoint) ? rawEntrypoint : undefined;
    entryProblemAt = ['spec', 'entrypoint'];
  }
  let inspection: Promise<AppInspection | 'missing'> | undefined;
  const entryAbs = entrypoint ? join(dir, entrypoint) : undefined;
  const entryShown = entryAbs ? displayFile(entryAbs) : '';
  const fileProblems: Array<{ code: string; message: string; hint: string }> = [];
  if (entryAbs && entrypoint) {
    if (!existsSync(entryAbs)) {
      fileProblems.push({ code: 'entrypoint-missing', message: `the entrypoint ${entrypoint} does not exist in ${displayFile(dir) || '.'}`, hint: entryProblemAt ? `create ${entrypoint}, or set spec.entrypoint to the Python file that holds the app` : `create ${entrypoint} (\`aerogrid init\` writes a working one), or set spec.entrypoint in ${SPEC_FILE}` });
    } else if (!isInside(dir, entryAbs)) {
      fileProblems.push({ code: 'unsafe-path', message: `the entrypoint ${entrypoint} resolves outside the connector folder (through a symbolic link)`, hint: 'keep the app\'s code inside the connector folder: replace the link with the file itself' });
    } else if (!statSync(entryAbs).isFile()) {
      fileProblems.push({ code: 'entrypoint-missing', message: `the entrypoint ${entrypoint} is not a file`, hint: 'point spec.entrypoint at the Python file that holds the app' });
    } else {
      inspection = early?.entrypoint === entrypoint ? early.inspection : inspectApp(entryAbs);
      inspection.catch(() => undefined); // awaited below
    }
  }

  // 3. The spec against its schema and rules (while Python reads app.py).
  let checked: SpecCheck | undefined;
  if (specText !== undefined) {
    checked = await checkSpecText(specText, specFile);
    problems.push(...checked.problems);
  }
  if (checked?.spec) problems.push(...(await limitProblems(checked)));
  for (const p of fileProblems) {
    const at = entryProblemAt && checked ? checked.locate(entryProblemAt) : { line: 0, column: 0 };
    problems.push({ file: entryProblemAt ? specFile : entryShown, severity: 'error', ...at, ...(entryProblemAt ? { path: 'spec.entrypoint' } : {}), ...p });
  }

  // The code that would ship (deploy puts it in one ConfigMap): its size, without reading it.
  let codeBytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && isCodeFile(entry.name, entrypoint ?? DEFAULTS.entrypoint)) codeBytes += statSync(join(dir, entry.name)).size;
  }
  if (codeBytes > CODE_MAX_BYTES) problems.push({ file: displayFile(dir) || '.', line: 0, column: 0, severity: 'error', code: 'too-large', ...codeTooLarge(codeBytes) });

  // 4. app.py on its own, then against the spec.
  let pythonMissing = false;
  if (inspection) {
    const app = await inspection;
    if (app === 'missing') {
      pythonMissing = true;
      problems.push({ file: entryShown, line: 0, column: 0, severity: 'error', code: 'python-missing', message: `${pythonCommand(dir)} was not found, so ${entryShown} was not checked`, hint: 'install Python 3.9 or newer (e.g. `apt-get install python3`), or set AEROGRID_PYTHON to its path' });
    } else {
      problems.push(...crossCheck(app, entryShown, entrypoint ?? DEFAULTS.entrypoint, checked));
    }
  }

  const sorted = sortProblems(problems);
  const errors = sorted.filter((p) => p.severity === 'error').length;
  const result: ValidationResult = {
    dir,
    valid: errors === 0,
    errors,
    warnings: sorted.length - errors,
    // The spec also when only its limits are over (deploy judges them by the GitOps repo's own).
    ...(checked?.spec && sorted.every((p) => p.severity !== 'error' || p.code === OVER_LIMIT) ? { spec: checked.spec } : {}),
    problems: sorted,
    ...(pythonMissing ? { pythonMissing } : {}),
  };
  return { result, specText };
}

/**
 * spec.resources against the tenant base this CLI installs (`aerogrid tenant add`): the most one
 * container may ask for. Deploy checks the GitOps repo's own LimitRange again.
 */
async function limitProblems(checked: SpecCheck): Promise<Problem[]> {
  const limits = await readContainerLimits(join(packageRoot, 'gitops'));
  if (!limits || !checked.spec) return [];
  const over = resourcesOverLimits(checked.spec.resources, limits);
  if (over.length === 0) return [];
  return [{
    file: checked.file, severity: 'error', ...checked.locate(['spec', 'resources']), path: 'spec.resources', code: OVER_LIMIT,
    message: `spec.resources asks for more than a tenant's container may use: ${over.join('; ')} (the tenant's LimitRange allows cpu ${limits.cpu}, memory ${limits.memory})`,
    hint: `ask for at most \`resources: {cpu: ${limits.cpu}, memory: ${limits.memory}}\`; an admin sets the limit in the GitOps repo's bases/tenant/v1/limit-range.yaml`,
  }];
}

/** The entrypoint as written in aerogrid.yaml (undefined when absent or unreadable); the full check reports problems. */
function entrypointFromText(text: string, parseYaml: (text: string, options: object) => unknown): unknown {
  try {
    const value = parseYaml(text, { uniqueKeys: false }) as { spec?: { entrypoint?: unknown } } | null;
    return value && typeof value === 'object' && value.spec && typeof value.spec === 'object' ? value.spec.entrypoint : undefined;
  } catch {
    return undefined;
  }
}

/** A quick guess at the entrypoint from the raw text (undefined when unsure). */
function guessEntrypoint(text: string): string | undefined {
  const found = [...text.matchAll(/^[ \t]+entrypoint:[ \t]*(?:'([^'\n]*)'|"([^"\\\n]*)"|([^\s#'"][^\s#]*))[ \t]*(?:#.*)?$/gm)];
  if (found.length === 0) return /^[ \t]*entrypoint\b/m.test(text) ? undefined : DEFAULTS.entrypoint;
  if (found.length > 1) return undefined;
  const m = found[0]!;
  return m[1] ?? m[2] ?? m[3];
}

function usableFile(dir: string, file: string): boolean {
  return existsSync(file) && isInside(dir, file) && statSync(file).isFile();
}

function isInside(dir: string, file: string): boolean {
  try {
    const realDir = realpathSync(dir);
    const real = realpathSync(file);
    return real.startsWith(realDir + sep);
  } catch {
    return false;
  }
}

function crossCheck(app: AppInspection, appFile: string, appName: string, checked: SpecCheck | undefined): Problem[] {
  const out: Problem[] = [];
  const specFile = checked?.file ?? SPEC_FILE;
  const inApp = (at: { line: number; column: number; endColumn?: number }, code: string, message: string, hint: string, severity: Problem['severity'] = 'error') =>
    out.push({ file: appFile, line: at.line, column: at.column, ...(at.endColumn ? { endLine: at.line, endColumn: at.endColumn } : {}), severity, code, message, hint });
  const inSpec = (path: Segment[], code: string, message: string, hint: string) =>
    out.push({ file: specFile, severity: 'error', ...(checked ? checked.locate(path) : { line: 1, column: 1 }), path: displayPath(path), code, message, hint });
  // A section of aerogrid.yaml that is itself wrong is not compared (its error says enough).
  const broken = (prefix: string) => (checked?.problems ?? []).some((p) => p.severity === 'error' && (p.path === prefix || p.path?.startsWith(`${prefix}.`) || p.path?.startsWith(`${prefix}[`)));

  if (app.syntaxError) {
    const e = app.syntaxError;
    const hint = /not UTF-8/.test(e.message) ? 'save the file as UTF-8 text'
      : /null bytes/.test(e.message) ? 'remove the NUL bytes: the file may be binary, or saved as UTF-16; save it as UTF-8 text'
        : 'fix the Python syntax at this line (an unclosed bracket or quote, a missing \':\', or mixed indentation are the usual causes)';
    inApp(e, 'python-syntax', `${appName} does not compile: ${e.message}${e.text && !/[\u0000-\u0008]/.test(e.text) ? ` (\`${e.text.trim()}\`)` : ''}`, hint);
    return out;
  }
  if (app.apps.length === 0) {
    inApp({ line: 1, column: 1 }, 'no-app', `${appName} creates no aerogrid.App`, app.importsAerogrid
      ? 'create the app at the top of the file: `app = aerogrid.App(\'<name>\', broker=BROKER_URI)`'
      : 'start it with `import aerogrid` and `app = aerogrid.App(\'<name>\', broker=BROKER_URI)`');
    return out;
  }
  if (app.apps.length > 1) {
    const second = app.apps[1]!;
    inApp(second, 'duplicate', `${appName} creates ${app.apps.length} aerogrid.App objects; a connector is one app`, 'keep one `app = aerogrid.App(...)` and declare every topic and grid on it');
  }

  for (const t of app.typeProblems ?? []) inApp(t, 'unknown-type', t.message, t.hint);
  for (const c of app.columnProblems ?? []) {
    inApp(c, 'column-undeclared', `${appName} writes column '${c.name}' to grid '${c.grid}', which does not declare it (its columns: ${c.columns.join(', ') || 'none'}); the write fails when it runs`,
      c.suggestion ? `did you mean '${c.suggestion}'? Or add '${c.name}' to the grid's columns, in app.Grid('${c.grid}', columns=[...]) and in spec.grids of ${SPEC_FILE}`
        : `add '${c.name}' to the grid's columns, in app.Grid('${c.grid}', columns=[...]) and in spec.grids of ${SPEC_FILE}, or write one of: ${c.columns.join(', ')}`);
  }

  const value = checked?.value as { metadata?: { name?: unknown }; spec?: { topics?: unknown; grids?: unknown } } | undefined;
  const first = app.apps[0]!;
  const specName = value?.metadata?.name;
  if (first.name === null) {
    inApp(first, 'dynamic-name', 'the app\'s name is not a literal string, so it cannot be compared with metadata.name', 'write it literally: aerogrid.App(\'<name>\', ...)', 'warning');
  } else if (typeof specName === 'string' && !broken('metadata.name') && first.name !== specName) {
    inApp(first, 'app-name-mismatch', `${appName} names the app '${first.name}', but ${SPEC_FILE} names it '${specName}' (metadata.name)`, `use one name in both: aerogrid.App('${specName}', ...) in ${appName}, or \`name: ${first.name}\` in ${SPEC_FILE}`);
  }
  if (app.streams.length === 0) {
    inApp(first, 'no-stream', `${appName} has no @app.stream(...) handler, so the app reads nothing`, 'add a handler: `@app.stream(topic)` above `async def handle(records): ...`', 'warning');
  }

  // Topics, both ways. A topic renamed on one side only is one problem, not two.
  const specTopics = Array.isArray(value?.spec?.topics) && !broken('spec.topics') ? (value!.spec!.topics as string[]) : undefined;
  const dynamicTopics = app.topics.filter((t) => t.name === null);
  // A warning here (`aerogrid dev` runs it, reading only spec.topics); deploy refuses it: a topic it
  // cannot name is one it cannot prove the tenant may read.
  for (const t of dynamicTopics) inApp(t, DYNAMIC_TOPIC, 'this topic\'s name is not a literal string or a module-level constant, so it cannot be checked against spec.topics (deploy refuses it)', 'write the name literally: app.topic(\'<topic>\', ...)', 'warning');
  if (specTopics) {
    const seen = new Set<string>();
    const undeclared: Declared[] = [];
    for (const t of app.topics) {
      if (t.name === null) continue;
      if (seen.has(t.name)) {
        inApp(t, 'duplicate', `${appName} declares topic '${t.name}' twice`, 'declare each topic once and use the same object in every @app.stream');
        continue;
      }
      seen.add(t.name);
      if (!specTopics.includes(t.name)) undeclared.push(t);
    }
    const unused = dynamicTopics.length ? [] : specTopics.map((name, i) => ({ name, i })).filter(({ name }) => !seen.has(name));
    undeclared.forEach((t, k) => {
      const partner = unused[k];
      if (partner) {
        inApp(t, 'topic-undeclared', `${appName} reads topic '${t.name}', but ${SPEC_FILE} does not list it (it lists '${partner.name}', which ${appName} never reads)`, `rename '${partner.name}' to '${t.name}' in spec.topics, or read '${partner.name}' here`);
      } else {
        inApp(t, 'topic-undeclared', `${appName} reads topic '${t.name}', but ${SPEC_FILE} does not list it in spec.topics`, `add \`- ${t.name}\` under spec.topics in ${SPEC_FILE}`);
      }
    });
    for (const { name, i } of unused.slice(undeclared.length)) {
      inSpec(['spec', 'topics', i], 'topic-unused', `spec.topics lists '${name}', but ${appName} never reads it (no app.topic('${name}', ...))`, `remove it from spec.topics, or read it in ${appName}: \`app.topic('${name}', value_type=dict)\``);
    }
  }

  // Grids, both ways, and their columns.
  const specGrids = Array.isArray(value?.spec?.grids) && !broken('spec.grids') ? (value!.spec!.grids as Array<{ name: string; columns?: string[] }>) : undefined;
  const dynamicGrids = app.grids.filter((g) => g.name === null);
  for (const g of dynamicGrids) inApp(g, 'dynamic-name', 'this grid\'s name is not a literal string or a module-level constant, so it cannot be checked against spec.grids', 'write the name literally: app.Grid(\'<grid>\', columns=[...])', 'warning');
  if (specGrids) {
    const seen = new Set<string>();
    const undeclared: DeclaredGrid[] = [];
    for (const g of app.grids) {
      if (g.name === null) continue;
      if (seen.has(g.name)) {
        inApp(g, 'duplicate', `${appName} creates grid '${g.name}' twice`, 'create each grid once, at module level');
        continue;
      }
      seen.add(g.name);
      const index = specGrids.findIndex((s) => s.name === g.name);
      if (index < 0) { undeclared.push(g); continue; }
      const declared = specGrids[index]!.columns;
      if (declared && g.columns && JSON.stringify(declared) !== JSON.stringify(g.columns)) {
        inSpec(['spec', 'grids', index, 'columns'], 'columns-mismatch', `grid '${g.name}' has columns [${declared.join(', ')}] in ${SPEC_FILE} but [${g.columns.join(', ')}] in ${appName} (line ${g.line})`, `make them the same: \`columns: [${g.columns.join(', ')}]\``);
      }
    }
    const unused = dynamicGrids.length ? [] : specGrids.map((s, i) => ({ name: s.name, i })).filter(({ name }) => !seen.has(name));
    undeclared.forEach((g, k) => {
      const cols = g.columns ? `, columns: [${g.columns.join(', ')}]` : '';
      const partner = unused[k];
      if (partner) {
        inApp(g, 'grid-undeclared', `${appName} uses grid '${g.name}', but ${SPEC_FILE} does not declare it (it declares '${partner.name}', which ${appName} never creates)`, `rename '${partner.name}' to '${g.name}' in spec.grids, or create '${partner.name}' here`);
      } else {
        inApp(g, 'grid-undeclared', `${appName} uses grid '${g.name}', but ${SPEC_FILE} does not declare it in spec.grids`, `add \`- {name: ${g.name}${cols}}\` under spec.grids in ${SPEC_FILE}`);
      }
    });
    for (const { name, i } of unused.slice(undeclared.length)) {
      inSpec(['spec', 'grids', i, 'name'], 'grid-unused', `spec.grids declares '${name}', but ${appName} never creates it (no app.Grid('${name}', ...))`, `remove it from spec.grids, or create it in ${appName}`);
    }
  }
  return out;
}
