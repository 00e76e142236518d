// Broken specs and connectors: each gets its own precise message at file:line:column, a fix,
// a non-zero exit, and nothing is written. Each case starts from a valid orders-sum connector
// (name shop, tenant sales, topic orders) and breaks one thing.
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { ANSI, snapshot, tempDir } from '../../helpers/files.js';

let base: string;
let pristine: string;
let spec: string;
let app: string;

beforeAll(async () => {
  base = tempDir();
  const r = await runCli(['init', 'shop', '--template', 'orders-sum', '--tenant', 'sales', '--topic', 'orders', '--no-git'], { cwd: base });
  expect(r.code, r.stderr).toBe(0);
  pristine = join(base, 'shop');
  spec = readFileSync(join(pristine, 'aerogrid.yaml'), 'utf8');
  app = readFileSync(join(pristine, 'app.py'), 'utf8');
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** The text with `from` replaced by `to` (which must be there). */
function swap(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`test setup: ${String(from)} not found`);
  return out;
}

interface Case {
  name: string;
  /** Builds the broken connector in dir (a copy of the valid one). */
  setup: (dir: string) => void;
  code: string;
  file: string;
  line: number;
  column: number;
  message: RegExp;
  hint?: RegExp;
  exit?: number;
}

const writeSpec = (f: (s: string) => string) => (dir: string) => writeFileSync(join(dir, 'aerogrid.yaml'), f(spec));
const writeApp = (f: (s: string) => string) => (dir: string) => writeFileSync(join(dir, 'app.py'), f(app));

const cases: Case[] = [
  {
    name: 'bad YAML: an unclosed flow list',
    setup: writeSpec((s) => swap(s, 'columns: [units_sold]', 'columns: [units_sold')),
    code: 'yaml-syntax', file: 'aerogrid.yaml', line: 15, column: 3,
    message: /not valid YAML/, hint: /.+/,
  },
  {
    name: 'bad YAML: a tab used for indentation',
    setup: writeSpec((s) => swap(s, '  tenant: sales', '\ttenant: sales')),
    code: 'yaml-syntax', file: 'aerogrid.yaml', line: 6, column: 1,
    message: /not valid YAML: tabs? /i, hint: /spaces, never tabs/,
  },
  {
    name: 'bad YAML: a key given twice',
    setup: writeSpec((s) => swap(s, '  tenant: sales\n', '  tenant: sales\n  tenant: ops\n')),
    code: 'yaml-syntax', file: 'aerogrid.yaml', line: 7, column: 3,
    message: /not valid YAML: .*unique/i, hint: /each key once/,
  },
  {
    name: 'an empty file',
    setup: (dir) => writeFileSync(join(dir, 'aerogrid.yaml'), ''),
    code: 'empty-file', file: 'aerogrid.yaml', line: 1, column: 1,
    message: /aerogrid\.yaml is empty/, hint: /aerogrid init/,
  },
  {
    name: 'a file of comments only',
    setup: (dir) => writeFileSync(join(dir, 'aerogrid.yaml'), '# nothing here yet\n\n'),
    code: 'empty-file', file: 'aerogrid.yaml', line: 1, column: 1,
    message: /is empty/,
  },
  {
    name: 'a list instead of a mapping at the top',
    setup: (dir) => writeFileSync(join(dir, 'aerogrid.yaml'), '- apiVersion: aerogrid.dev/v1\n- kind: App\n'),
    code: 'wrong-type', file: 'aerogrid.yaml', line: 1, column: 1,
    message: /aerogrid\.yaml must be a mapping .*but it is a list/,
  },
  {
    name: 'an unsupported apiVersion',
    setup: writeSpec((s) => swap(s, 'apiVersion: aerogrid.dev/v1', 'apiVersion: aerogrid.dev/v2')),
    code: 'bad-value', file: 'aerogrid.yaml', line: 2, column: 13,
    message: /apiVersion must be 'aerogrid\.dev\/v1', not "aerogrid\.dev\/v2"; this aerogrid reads aerogrid\.dev\/v1 only/,
  },
  {
    name: 'a wrong kind',
    setup: writeSpec((s) => swap(s, 'kind: App', 'kind: Deployment')),
    code: 'bad-value', file: 'aerogrid.yaml', line: 3, column: 7,
    message: /kind must be 'App', not "Deployment"/, hint: /kind: App/,
  },
  {
    name: 'a required key missing (metadata.tenant)',
    setup: writeSpec((s) => swap(s, '  tenant: sales\n', '')),
    code: 'missing-key', file: 'aerogrid.yaml', line: 4, column: 1,
    message: /metadata is missing the required key 'tenant'/, hint: /tenant: sales/,
  },
  {
    name: 'a wrong type: replicas in quotes',
    setup: writeSpec((s) => swap(s, 'replicas: 1 ', 'replicas: "1"')),
    code: 'wrong-type', file: 'aerogrid.yaml', line: 15, column: 13,
    message: /spec\.replicas must be a whole number, but it is the text "1"/, hint: /without quotes/,
  },
  {
    name: 'a wrong type: topics as a single string',
    setup: writeSpec((s) => swap(s, 'topics:\n    - orders', 'topics: orders')),
    code: 'wrong-type', file: 'aerogrid.yaml', line: 10, column: 11,
    message: /spec\.topics must be a list, but it is the text "orders"/, hint: /topics: \[orders\]/,
  },
  {
    name: 'a wrong type: grids as a list of names',
    setup: writeSpec((s) => swap(s, '    - name: product_sum\n      columns: [units_sold]', '    - product_sum')),
    code: 'wrong-type', file: 'aerogrid.yaml', line: 13, column: 7,
    message: /spec\.grids\[0\] must be a mapping .*but it is the text "product_sum"/, hint: /- name: product_sum/,
  },
  {
    name: 'an unknown key, close to a real one',
    setup: writeSpec((s) => swap(s, '  replicas: 1 ', '  replica: 1 ')),
    code: 'unknown-key', file: 'aerogrid.yaml', line: 15, column: 3,
    message: /unknown key 'replica' in spec/, hint: /did you mean 'replicas'\?/,
  },
  {
    name: 'a known key at the wrong level',
    setup: writeSpec((s) => swap(s, '  entrypoint: app.py\n', '  entrypoint: app.py\n  tenant: sales\n')),
    code: 'unknown-key', file: 'aerogrid.yaml', line: 10, column: 3,
    message: /unknown key 'tenant' in spec/, hint: /belongs under 'metadata:'/,
  },
  {
    name: 'a name that is not a DNS-1123 label',
    setup: writeSpec((s) => swap(s, 'name: shop', 'name: Shop_Floor')),
    code: 'bad-name', file: 'aerogrid.yaml', line: 5, column: 9,
    message: /metadata\.name "Shop_Floor" has uppercase letters/, hint: /use 'shop-floor'.*DNS-1123/,
  },
  {
    name: 'a tenant name longer than 63 characters',
    setup: writeSpec((s) => swap(s, 'tenant: sales', `tenant: ${'a'.repeat(64)}`)),
    code: 'bad-name', file: 'aerogrid.yaml', line: 6, column: 11,
    message: /metadata\.tenant "a{64}" is 64 characters long; at most 63/,
  },
  {
    name: 'a topic name Kafka does not allow',
    setup: (dir) => {
      writeFileSync(join(dir, 'aerogrid.yaml'), swap(spec, '    - orders', '    - "orders!"'));
      writeFileSync(join(dir, 'app.py'), swap(app, "app.topic('orders'", "app.topic('orders!'"));
    },
    code: 'bad-name', file: 'aerogrid.yaml', line: 11, column: 7,
    message: /spec\.topics\[0\] "orders!" has '!'; Kafka topic names may only hold/, hint: /use 'orders'/,
  },
  {
    name: 'path tricks: the entrypoint climbs out with ../',
    setup: writeSpec((s) => swap(s, 'entrypoint: app.py', 'entrypoint: ../../etc/app.py')),
    code: 'unsafe-path', file: 'aerogrid.yaml', line: 9, column: 15,
    message: /spec\.entrypoint "\.\.\/\.\.\/etc\/app\.py" climbs out of the connector folder/, hint: /use 'etc\/app\.py'/,
  },
  {
    name: 'path tricks: an absolute entrypoint',
    setup: writeSpec((s) => swap(s, 'entrypoint: app.py', 'entrypoint: /usr/lib/python3/app.py')),
    code: 'unsafe-path', file: 'aerogrid.yaml', line: 9, column: 15,
    message: /is an absolute path; it must be relative to the connector folder/, hint: /use 'app\.py'/,
  },
  {
    name: 'path tricks: an entrypoint that is a symbolic link out of the folder',
    setup: (dir) => {
      const outside = join(dir, '..', `outside-${Math.random().toString(36).slice(2)}.py`);
      writeFileSync(outside, app);
      writeFileSync(join(dir, 'aerogrid.yaml'), swap(spec, 'entrypoint: app.py', 'entrypoint: linked.py'));
      symlinkSync(outside, join(dir, 'linked.py'));
    },
    code: 'unsafe-path', file: 'aerogrid.yaml', line: 9, column: 15,
    message: /the entrypoint linked\.py resolves outside the connector folder/,
  },
  {
    name: 'an entrypoint that does not exist',
    setup: writeSpec((s) => swap(s, 'entrypoint: app.py', 'entrypoint: main.py')),
    code: 'entrypoint-missing', file: 'aerogrid.yaml', line: 9, column: 15,
    message: /the entrypoint main\.py does not exist/,
  },
  {
    name: 'an entrypoint that is not Python',
    setup: writeSpec((s) => swap(s, 'entrypoint: app.py', 'entrypoint: app.js')),
    code: 'unsafe-path', file: 'aerogrid.yaml', line: 9, column: 15,
    message: /is not a Python file; it must end with \.py/,
  },
  {
    name: 'replicas above 2',
    setup: writeSpec((s) => swap(s, 'replicas: 1 ', 'replicas: 3 ')),
    code: 'bad-value', file: 'aerogrid.yaml', line: 15, column: 13,
    message: /spec\.replicas is 3; it must be 0 \(stopped\), 1 \(running\) or 2 \(running with a hot standby\)/, hint: /one instance of an app writes/,
  },
  {
    name: 'a CPU quantity Kubernetes would not read',
    setup: writeSpec((s) => swap(s, 'cpu: 250m', 'cpu: 2 cores')),
    code: 'bad-value', file: 'aerogrid.yaml', line: 17, column: 10,
    message: /spec\.resources\.cpu "2 cores" is not a CPU quantity/, hint: /250m/,
  },
  {
    name: 'the same topic listed twice',
    setup: writeSpec((s) => swap(s, '    - orders\n', '    - orders\n    - orders\n')),
    code: 'duplicate', file: 'aerogrid.yaml', line: 12, column: 7,
    message: /spec\.topics lists "orders" twice/,
  },
  {
    name: 'the dead-letter topic is a topic the app reads',
    setup: writeSpec((s) => swap(s, 'topic: aerogrid.sales.shop.dlq', 'topic: orders')),
    code: 'bad-value', file: 'aerogrid.yaml', line: 22, column: 12,
    message: /spec\.deadLetter\.topic 'orders' is also a topic the app reads/,
  },
  {
    name: 'a new tenant, the dead-letter topic left in the old tenant\'s topics',
    setup: writeSpec((s) => swap(s, 'tenant: sales', 'tenant: billing')),
    code: 'bad-value', file: 'aerogrid.yaml', line: 22, column: 12,
    message: /spec\.deadLetter\.topic 'aerogrid\.sales\.shop\.dlq' is outside tenant billing's topics/,
    hint: /aerogrid\.billing\.shop\.dlq/,
  },
  {
    name: 'a dead-letter policy that does not exist',
    setup: writeSpec((s) => swap(s, 'policy: dlq', 'policy: ignore')),
    code: 'bad-value', file: 'aerogrid.yaml', line: 24, column: 13,
    message: /spec\.deadLetter\.policy must be dlq or stop, not "ignore"/,
    hint: /stop/,
  },
  {
    name: 'no aerogrid.yaml at all',
    setup: (dir) => unlinkSync(join(dir, 'aerogrid.yaml')),
    code: 'missing-spec', file: 'aerogrid.yaml', line: 0, column: 0,
    message: /aerogrid\.yaml does not exist/, hint: /aerogrid init/,
  },
  {
    name: 'a syntax error in app.py',
    setup: writeApp((s) => swap(s, 'async def sum_orders(orders):', 'async def sum_orders(orders)')),
    code: 'python-syntax', file: 'app.py', line: 15, column: 29,
    message: /app\.py does not compile: .*(expected ':'|invalid syntax)/,
  },
  {
    name: 'an indentation error in app.py',
    setup: writeApp((s) => swap(s, '    product: str\n', '    product: str\n      quantity: int\n')),
    code: 'python-syntax', file: 'app.py', line: 7, column: 7,
    message: /app\.py does not compile: .*indent/,
  },
  {
    name: 'an app.py that is not UTF-8 text',
    setup: (dir) => writeFileSync(join(dir, 'app.py'), Buffer.concat([Buffer.from('import aerogrid\n# caf'), Buffer.from([0xe9]), Buffer.from('\n')])),
    code: 'python-syntax', file: 'app.py', line: 2, column: 1,
    message: /app\.py does not compile: the file is not UTF-8 text \(byte 0xe9\)/, hint: /save the file as UTF-8/,
  },
  {
    name: 'an app.py holding NUL bytes',
    setup: (dir) => writeFileSync(join(dir, 'app.py'), 'import aerogrid\u0000\n'),
    code: 'python-syntax', file: 'app.py', line: 1, column: 1,
    message: /app\.py does not compile: .*null bytes/, hint: /remove the NUL bytes/,
  },
  {
    name: 'an empty app.py',
    setup: (dir) => writeFileSync(join(dir, 'app.py'), ''),
    code: 'no-app', file: 'app.py', line: 1, column: 1,
    message: /app\.py creates no aerogrid\.App/, hint: /import aerogrid/,
  },
  {
    name: 'a grid used in app.py but not declared in aerogrid.yaml',
    setup: writeApp((s) => `${s}\nreturns = app.Grid('returns', columns=['units'])\n`),
    code: 'grid-undeclared', file: 'app.py', line: 20, column: 20,
    message: /app\.py uses grid 'returns', but aerogrid\.yaml does not declare it in spec\.grids/, hint: /- \{name: returns, columns: \[units\]\}/,
  },
  {
    name: 'a grid declared in aerogrid.yaml that app.py never creates',
    setup: writeSpec((s) => swap(s, '      columns: [units_sold]\n', '      columns: [units_sold]\n    - name: leftovers\n')),
    code: 'grid-unused', file: 'aerogrid.yaml', line: 15, column: 13,
    message: /spec\.grids declares 'leftovers', but app\.py never creates it/,
  },
  {
    name: 'a topic read in app.py but not listed',
    setup: writeApp((s) => swap(s, "orders_topic = app.topic('orders'", "orders_topic = app.topic('orders-v2'")),
    code: 'topic-undeclared', file: 'app.py', line: 9, column: 26,
    message: /app\.py reads topic 'orders-v2', but aerogrid\.yaml does not list it \(it lists 'orders', which app\.py never reads\)/,
    hint: /rename 'orders' to 'orders-v2' in spec\.topics/,
  },
  {
    name: 'columns that differ between app.py and aerogrid.yaml',
    setup: writeSpec((s) => swap(s, 'columns: [units_sold]', 'columns: [units]')),
    code: 'columns-mismatch', file: 'aerogrid.yaml', line: 14, column: 16,
    message: /grid 'product_sum' has columns \[units\] in aerogrid\.yaml but \[units_sold\] in app\.py/,
  },
  {
    name: 'app names that disagree',
    setup: writeApp((s) => swap(s, "aerogrid.App('shop'", "aerogrid.App('store'")),
    code: 'app-name-mismatch', file: 'app.py', line: 3, column: 20,
    message: /app\.py names the app 'store', but aerogrid\.yaml names it 'shop'/,
  },  {
    name: 'app.py writes a column its grid does not declare',
    setup: writeApp((s) => swap(s, "{'units_sold': units_sold}", "{'units_sold': units_sold, 'unit_sold': 1}")),
    code: 'column-undeclared', file: 'app.py', line: 18, column: 65,
    message: /app\.py writes column 'unit_sold' to grid 'product_sum', which does not declare it \(its columns: units_sold\)/,
    hint: /did you mean 'units_sold'\?/,
  },
];

describe('aerogrid validate on broken connectors', () => {
  it('covers at least 20 kinds of breakage', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases)('$name', async (c) => {
    const parent = join(base, `case-${cases.indexOf(c)}`);
    mkdirSync(parent);
    const dir = join(parent, 'shop');
    cpSync(pristine, dir, { recursive: true });
    c.setup(dir);
    const before = snapshot(parent);

    const json = await runCli(['validate', '--json'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(json.code, json.stderr).toBe(c.exit ?? 3);
    const result = JSON.parse(json.stdout);
    expect(result.valid).toBe(false);
    const errors = result.problems.filter((p: { severity: string }) => p.severity === 'error');
    const problem = errors.find((p: { code: string; message: string }) => p.code === c.code && c.message.test(p.message));
    expect(problem, `no ${c.code} problem matching ${c.message} in ${JSON.stringify(result.problems, null, 1)}`).toBeTruthy();
    expect(problem).toMatchObject({ file: c.file, line: c.line, column: c.column });
    if (c.hint) expect(problem.hint).toMatch(c.hint);
    // One breakage, one error: no cascade of follow-on noise.
    expect(errors.map((p: { message: string }) => p.message)).toEqual([problem.message]);

    // The human report: file:line:column, the message, the fix; nothing on stdout, no colour off a terminal.
    const human = await runCli(['validate'], { cwd: dir });
    expect(human.code).toBe(c.exit ?? 3);
    expect(human.stdout).toBe('');
    expect(human.stderr).not.toMatch(ANSI);
    const where = c.line > 0 ? `${c.file}:${c.line}:${c.column}` : c.file;
    expect(human.stderr).toContain(`${where}: error: ${problem.message}`);
    if (problem.hint) expect(human.stderr).toContain(`fix: ${problem.hint}`);
    expect(human.stderr).toMatch(/✖ 1 error in /);

    expect(snapshot(parent)).toEqual(before);
  });

  it('reports every problem at once, in file order', async () => {
    const dir = join(base, 'many');
    cpSync(pristine, dir, { recursive: true });
    let text = swap(spec, 'name: shop', 'name: Shop');
    text = swap(text, 'kind: App', 'kind: app');
    text = swap(text, '  replicas: 1 ', '  replicas: 7 ');
    text = swap(text, 'memory: 256Mi', 'memory: lots');
    text = swap(text, '  access:', '  acess:');
    writeFileSync(join(dir, 'aerogrid.yaml'), text);
    writeFileSync(join(dir, 'app.py'), `${app}\nextra = app.Grid('extra', columns=['n'])\n`);
    const r = await runCli(['validate', 'many', '--json'], { cwd: base });
    expect(r.code).toBe(3);
    const result = JSON.parse(r.stdout);
    expect(result.problems.map((p: { file: string; line: number; code: string }) => `${p.file}:${p.line} ${p.code}`)).toEqual([
      'many/aerogrid.yaml:3 bad-value',
      'many/aerogrid.yaml:5 bad-name',
      'many/aerogrid.yaml:15 bad-value',
      'many/aerogrid.yaml:18 bad-value',
      'many/aerogrid.yaml:19 unknown-key',
      'many/app.py:20 grid-undeclared',
    ]);
    expect(result.errors).toBe(6);
  });

  it.each([
    ['flow style', 'spec: {entrypoint: main.py, topics: [orders], grids: [{name: product_sum, columns: [units_sold]}]}\n'],
    ['a quoted value with a comment', 'spec:\n  entrypoint: "main.py"   # the app\n  topics: [orders]\n  grids: [{name: product_sum}]\n'],
    ['the value on the next line', 'spec:\n  entrypoint:\n    main.py\n  topics: [orders]\n  grids: [{name: product_sum}]\n'],
  ])('checks the entrypoint the spec names (%s), not the app.py beside it', async (_, specPart) => {
    const dir = join(base, `other-entrypoint-${Math.random().toString(36).slice(2)}`);
    cpSync(pristine, dir, { recursive: true });
    writeFileSync(join(dir, 'main.py'), app);
    writeFileSync(join(dir, 'app.py'), 'def broken(:\n');
    writeFileSync(join(dir, 'aerogrid.yaml'), `apiVersion: aerogrid.dev/v1\nkind: App\nmetadata: {name: shop, tenant: sales}\n${specPart}`);
    const r = await runCli(['validate', '--json'], { cwd: dir });
    expect(JSON.parse(r.stdout).problems).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('names it cannot resolve are warnings: shown, but the connector is valid (exit 0)', async () => {
    const dir = join(base, 'dynamic');
    cpSync(pristine, dir, { recursive: true });
    writeFileSync(join(dir, 'app.py'), swap(swap(app, "app.topic('orders'", "app.topic(os.environ['TOPIC']"), 'import aerogrid', 'import os\nimport aerogrid'));
    const r = await runCli(['validate'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/app\.py:10:26: warning: this topic's name is not a literal string or a module-level constant/);
    expect(r.stderr).toMatch(/✔ this connector is valid \(1 warning\)/);
    const json = JSON.parse((await runCli(['validate', '--json'], { cwd: dir })).stdout);
    expect(json).toMatchObject({ valid: true, errors: 0, warnings: 1 });
  });

  it('exits 4 for a folder that does not exist, and 5 when Python cannot be found', async () => {
    const missing = await runCli(['validate', join(base, 'nope')]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/There is no folder .*nope/);
    expect(missing.stderr).toMatch(/fix: .*aerogrid init/);

    const noPython = await runCli(['validate', pristine, '--json'], { env: { AEROGRID_PYTHON: join(base, 'no-such-python') } });
    expect(noPython.code).toBe(5);
    const problems = JSON.parse(noPython.stdout).problems;
    expect(problems).toEqual([expect.objectContaining({ code: 'python-missing', hint: expect.stringMatching(/install Python/) })]);
  });
});

describe('aerogrid validate on oversized connectors', () => {
  it('refuses a 30 MB aerogrid.yaml and code over the ConfigMap cap, naming each cap', async () => {
    const bigSpec = join(base, 'big-spec');
    cpSync(pristine, bigSpec, { recursive: true });
    writeFileSync(join(bigSpec, 'aerogrid.yaml'), readFileSync(join(pristine, 'aerogrid.yaml'), 'utf8') + `# ${'x'.repeat(30 * 1024 * 1024)}\n`);
    const spec = await runCli(['validate', '--json'], { cwd: bigSpec, env: { NO_COLOR: '1' } });
    expect(spec.code, spec.stderr).toBe(3);
    expect(JSON.parse(spec.stdout).problems).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'too-large', message: expect.stringMatching(/at most 256 KiB/) })]));

    const bigCode = join(base, 'big-code');
    cpSync(pristine, bigCode, { recursive: true });
    writeFileSync(join(bigCode, 'data.py'), `DATA = "${'x'.repeat(2 * 1024 * 1024)}"\n`);
    const code = await runCli(['validate', '--json'], { cwd: bigCode, env: { NO_COLOR: '1' } });
    expect(code.code, code.stderr).toBe(3);
    expect(JSON.parse(code.stdout).problems).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'too-large', message: expect.stringMatching(/at most 768 KiB/), hint: expect.stringMatching(/1 MiB/) })]));
  });
});
