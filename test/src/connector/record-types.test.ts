// A Record field typed with a name Python does not know (`price: flaot`, `symbol: string`):
// validate names it, at its line, with a did-you-mean; `aerogrid test` leads with the cause at the
// user's file and line instead of a traceback through the SDK's loader. Real CLI, Python, pytest.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/errors.js';
import { runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/files.js';

async function connectorWith(fields: string, extra = ''): Promise<string> {
  const base = tempDir();
  const r = await runCli(['init', 'shop', '--yes', '--no-git'], { cwd: base });
  expect(r.code, r.stderr).toBe(0);
  const dir = join(base, 'shop');
  const app = readFileSync(join(dir, 'app.py'), 'utf8');
  writeFileSync(join(dir, 'app.py'), `${extra}${app.replace('    quantity: int\n', `    quantity: int\n${fields}`)}`);
  return dir;
}

describe('Record annotations that name nothing', () => {
  let typo: string;
  beforeAll(async () => {
    typo = await connectorWith('    price: flaot\n    symbol: string\n');
  });

  it('validate reports each unknown type at its line with a did-you-mean (exit 3)', async () => {
    const r = await runCli(['validate', typo, '--json']);
    expect(r.code).toBe(ExitCode.invalid);
    const problems = JSON.parse(r.stdout).problems.filter((p: { code: string }) => p.code === 'unknown-type');
    expect(problems).toMatchObject([
      { file: expect.stringMatching(/app\.py$/), line: 8, column: 12, severity: 'error', message: expect.stringContaining("type 'flaot'"), hint: expect.stringContaining("did you mean 'float'") },
      { line: 9, column: 13, message: expect.stringContaining("type 'string'"), hint: expect.stringContaining("did you mean 'str'") },
    ]);
  });

  it('aerogrid test leads with the cause at the user\'s file and line, with no SDK traceback', async () => {
    const r = await runCli(['test'], { cwd: typo });
    expect(r.code).toBe(ExitCode.failure);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe("error: app.py:8: NameError: name 'flaot' is not defined");
    expect(r.stderr).toContain('price: flaot');
    expect(r.stderr).toMatch(/fix: did you mean 'float'\?/);
    expect(r.stdout + r.stderr).not.toContain('Traceback');
    expect(r.stdout + r.stderr).not.toMatch(/aerogrid[/\\](loader|testing)\.py/);
    expect(lines.length).toBeLessThan(8);
  });

  it('a NameError at module level names the user\'s line and the closest name', async () => {
    const dir = await connectorWith('', 'TAX = 0.2\nrate = TAXX * 2\n');
    const r = await runCli(['test', dir]);
    expect(r.code).toBe(ExitCode.failure);
    expect(r.stderr).toMatch(/^error: .*app\.py:2: NameError: name 'TAXX' is not defined/);
    expect(r.stderr).toMatch(/fix: did you mean 'TAX'\?/);
    expect(r.stderr).not.toContain('Traceback');
  });

  it('types Python resolves pass: builtins, Optional, datetime, a nested Record, a quoted name, an import', async () => {
    const dir = await connectorWith(
      '    price: Optional[float] = None\n    at: datetime = None\n    tags: List[str] = None\n    meta: dict = None\n    origin: "Origin" = None\n    amount: Decimal = None\n',
      'from datetime import datetime\nfrom decimal import Decimal\nfrom typing import List, Optional\nimport aerogrid as _ag\n\nclass Origin(_ag.Record):\n    country: str\n\n',
    );
    const v = await runCli(['validate', dir, '--json']);
    expect(JSON.parse(v.stdout).problems.filter((p: { code: string }) => p.code === 'unknown-type')).toEqual([]);
  });
});
