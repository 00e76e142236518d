// GET /v1/apps/<tenant>/<app>/logs: an app's log lines as `aerogrid logs` reads them (the local
// runner's log file, else the cluster through kubectl), text/plain, each line with its container's
// prefix. With follow=1 the answer streams (chunked, one write per batch) until the client goes;
// then the file is no longer read and kubectl is killed. A caller holds a few follows at most.
import type { IncomingMessage } from 'node:http';
import { DEFAULT_LOG_TAIL, LOG_CONTAINERS, MAX_LOG_FOLLOWS_PER_CALLER, MAX_LOG_TAIL, type LogContainer } from '@aerogrid/protocol/console-api';
import { CliError, ExitCode } from '../errors.js';
import { appLogs, type AppLogsRequest, type LogPlace } from '../live/logs.js';
import type { Principal } from './access.js';
import type { ConsoleApiStream } from './routes.js';
import { ApiError } from './errors.js';

export interface LogsQuery {
  container?: LogContainer;
  tail: number;
  follow: boolean;
}

/** The query of a logs request, each parameter checked (400 naming the fix). */
export function logsQuery(search: URLSearchParams): LogsQuery {
  const container = search.get('container') ?? undefined;
  if (container !== undefined && container !== '' && !(LOG_CONTAINERS as readonly string[]).includes(container)) {
    throw new ApiError(400, 'bad_request', `container must be ${LOG_CONTAINERS.join(' or ')}, not '${container}'`, `leave container out for the lines of both, or ask for one: ?container=${LOG_CONTAINERS[0]}`);
  }
  const tailText = search.get('tail');
  let tail = DEFAULT_LOG_TAIL;
  if (tailText !== null) {
    tail = /^\d{1,9}$/.test(tailText) ? Number(tailText) : NaN;
    if (!(tail <= MAX_LOG_TAIL)) {
      throw new ApiError(400, 'bad_request', `tail must be a whole number of lines from 0 to ${MAX_LOG_TAIL}, not '${tailText}'`, `ask for at most ${MAX_LOG_TAIL}, e.g. ?tail=${DEFAULT_LOG_TAIL} (the default)`);
    }
  }
  const followText = search.get('follow');
  if (followText !== null && !['1', '0', 'true', 'false', ''].includes(followText)) {
    throw new ApiError(400, 'bad_request', `follow must be 1 or 0, not '${followText}'`, 'ask for ?follow=1 to keep receiving new lines');
  }
  return { ...(container ? { container: container as LogContainer } : {}), tail, follow: followText === '1' || followText === 'true' };
}

/** `aerogrid logs`'s refusals (no cluster, no Deployment) as the API's. */
async function read(place: LogPlace, request: AppLogsRequest, write: (lines: string[]) => void): Promise<void> {
  try {
    await appLogs(place, request, write);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    throw new ApiError(error.exitCode === ExitCode.notFound ? 404 : 502, error.exitCode === ExitCode.notFound ? 'not_found' : 'logs_unavailable', error.message, error.hint);
  }
}

const TEXT_HEADERS = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

/** The follow streams each caller holds open, by who the token says they are. */
export function createLogStreams(place: (tenant: string, app: string) => LogPlace | undefined) {
  const following = new Map<string, number>();
  const callerOf = (req: IncomingMessage, principal: Principal | null) =>
    principal ? `${principal.tenant}\0${principal.subject}` : `address ${req.socket.remoteAddress ?? '?'}`;

  return {
    /** The answer to an authorised request for the logs of `tenant/app`; 404 when there is no such app. */
    answer(req: IncomingMessage, principal: Principal | null, tenant: string, app: string): ConsoleApiStream {
      const query = logsQuery(new URL(req.url ?? '/', 'http://localhost').searchParams);
      const where = place(tenant, app);
      if (!where) throw new ApiError(404, 'not_found', `no app '${tenant}/${app}'`);
      const request = { tenant, app, tail: query.tail, containerPrefix: true, ...(query.container ? { container: query.container } : {}) };
      if (req.method === 'HEAD') return { stream: async (res, headers) => { res.writeHead(200, { ...TEXT_HEADERS, ...headers }); res.end(); } };
      if (!query.follow) {
        // Whole, so that a failure (no cluster, no Deployment) is a status, not a cut-off text.
        return {
          stream: async (res, headers) => {
            const lines: string[] = [];
            await read(where, request, (batch) => { for (const line of batch) lines.push(line); });
            const text = lines.map((line) => line + '\n').join('');
            res.writeHead(200, { ...TEXT_HEADERS, 'content-length': Buffer.byteLength(text), ...headers });
            res.end(text);
          },
        };
      }
      const caller = callerOf(req, principal);
      const held = following.get(caller) ?? 0;
      if (held >= MAX_LOG_FOLLOWS_PER_CALLER) {
        throw new ApiError(429, 'busy', `you already follow ${held} logs, the most one user may follow at once`, 'close a logs panel (or another follow=1 request) and try again');
      }
      // Held from now: the stream (which the server always runs) gives it back when it ends.
      following.set(caller, held + 1);
      const release = () => {
        const left = (following.get(caller) ?? 1) - 1;
        if (left > 0) following.set(caller, left);
        else following.delete(caller);
      };
      return {
        stream: async (res, headers) => {
          const controller = new AbortController();
          // The client went (or the server closes): stop reading, kill kubectl.
          res.once('close', () => controller.abort());
          if (res.destroyed || req.socket.destroyed) controller.abort();
          const open = () => {
            if (res.headersSent) return;
            res.writeHead(200, { ...TEXT_HEADERS, ...headers });
            // Now, not with the first line: a quiet app's follower knows it is connected.
            res.flushHeaders();
            res.socket?.setNoDelay(true);
          };
          try {
            await read(where, { ...request, follow: true, signal: controller.signal, onCaughtUp: open }, (batch) => {
              if (controller.signal.aborted) return;
              open();
              res.write(batch.map((line) => line + '\n').join(''));
            });
            open();
            res.end();
          } catch (error) {
            if (!res.headersSent) throw error;
            // Streaming already: the reason is the last line, then the stream ends.
            res.end(`[serve] the logs stopped: ${(error as Error).message}\n`);
          } finally {
            controller.abort();
            release();
          }
        },
      };
    },
  };
}
