// A bad --port is a usage error (exit 2) that names the option and the range, never a stack trace.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';

describe('--port values', () => {
  it.each([
    [['kafka', 'status', '--port', 'abc'], '1 to 65534'],
    [['kafka', 'up', '--port', '65535'], '1 to 65534'], // its controller would need 65536
    [['dev', '--port', '70000'], '0 to 65535'],
    [['demo', '--port', '-1'], '0 to 65535'],
  ])('aerogrid %j', async (args, range) => {
    const result = await runCli(args as string[]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--port`);
    expect(result.stderr).toContain(range);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
  });
});
