// A port that is already taken, found before anything starts (the local Kafka, a sidecar), and
// said with the fix: the next free port, or --port 0 for any.
import { createServer } from 'node:net';
import { CliError, ExitCode } from '../errors.js';

/** Whether this process could listen on host:port right now. */
export function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first port from `from` on that is free (looks at most 100 ports on), or undefined. */
export async function nextFreePort(from: number, host: string): Promise<number | undefined> {
  for (let port = from; port < Math.min(from + 100, 65536); port++) {
    if (await canListen(port, host)) return port;
  }
  return undefined;
}

/** Throws a CliError (exit 5) naming the next free port and --port 0 when host:port is taken. */
export async function ensurePortFree(port: number, host: string, what: string): Promise<void> {
  if (port === 0 || await canListen(port, host)) return;
  const next = await nextFreePort(port + 1, host);
  throw new CliError(`Port ${port} on ${host} is in use, so ${what} cannot listen there.`, {
    exitCode: ExitCode.environment,
    hint: `${next ? `use the next free port, --port ${next}, or ` : ''}--port 0 for any free port (the URL is printed); or stop what listens on ${port} (\`ss -ltnp 'sport = :${port}'\` shows it)`,
  });
}
