/**
 * The sidecar's logger: one line per log line on stderr, each prefixed with the app name so that
 * the output of several apps run side by side stays readable (`[ordersapp] warn: ...`).
 * A multi-line message (a traceback) is written as several lines, every one of them prefixed.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  log(level: LogLevel, message: string): void;
  /** The prefix; starts as the app name given on the command line and is set when the runtime says hello. */
  name: string;
  level: LogLevel;
}

export interface LoggerOptions {
  name: string;
  level?: LogLevel;
  /** Where lines go; defaults to process.stderr. */
  write?: (line: string) => void;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const logger: Logger = {
    name: options.name,
    level: options.level ?? 'info',
    log(level, message) {
      if (RANK[level] < RANK[logger.level]) return;
      const prefix = `[${logger.name}] ${level}: `;
      const lines = message.replace(/\r?\n$/, '').split(/\r?\n/);
      write(lines.map((line) => prefix + line + '\n').join(''));
    },
    debug: (m) => logger.log('debug', m),
    info: (m) => logger.log('info', m),
    warn: (m) => logger.log('warn', m),
    error: (m) => logger.log('error', m),
  };
  return logger;
}

/** A logger that drops everything (for embedding and tests). */
export function silentLogger(name = 'sidecar'): Logger {
  return createLogger({ name, level: 'error', write: () => {} });
}

/** The message of an unknown thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
