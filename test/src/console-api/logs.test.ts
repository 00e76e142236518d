// The logs endpoint's query: each parameter checked, with a message that names the fix.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_TAIL, MAX_LOG_TAIL } from '@aerogrid/protocol/console-api';
import { logsQuery } from '../../../src/console-api/logs.js';
import { ApiError } from '../../../src/console-api/errors.js';

const query = (text: string) => logsQuery(new URLSearchParams(text));
const refusal = (text: string): ApiError => {
  try {
    query(text);
  } catch (error) {
    return error as ApiError;
  }
  throw new Error(`'${text}' was accepted`);
};

describe('the logs query', () => {
  it('defaults to the last lines of both containers, not followed', () => {
    expect(query('')).toEqual({ tail: DEFAULT_LOG_TAIL, follow: false });
    expect(query(`container=runtime&tail=${MAX_LOG_TAIL}&follow=1`)).toEqual({ container: 'runtime', tail: MAX_LOG_TAIL, follow: true });
    expect(query('tail=0&follow=0')).toEqual({ tail: 0, follow: false });
  });

  it('refuses a tail that is not a number of lines up to the cap, a container that is neither, a follow that is not 1 or 0', () => {
    for (const tail of ['abc', '-1', '1.5', String(MAX_LOG_TAIL + 1), '99999999999', '']) {
      const error = refusal(`tail=${tail}`);
      expect(error, tail).toMatchObject({ status: 400, code: 'bad_request' });
      expect(error.message).toContain(`from 0 to ${MAX_LOG_TAIL}, not '${tail}'`);
      expect(error.fix).toContain(`?tail=${DEFAULT_LOG_TAIL}`);
    }
    expect(refusal('container=app')).toMatchObject({ status: 400, message: "container must be sidecar or runtime, not 'app'" });
    expect(refusal('follow=yes')).toMatchObject({ status: 400, message: "follow must be 1 or 0, not 'yes'" });
  });
});
