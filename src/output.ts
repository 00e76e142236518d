import { Chalk, type ChalkInstance } from 'chalk';

/** Colour and spinners only for a person at a terminal; NO_COLOR and CI always win. */
export function interactive(stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && !process.env.CI;
}

export function colors(stream: NodeJS.WriteStream = process.stderr): ChalkInstance {
  const off = 'NO_COLOR' in process.env || !stream.isTTY;
  return new Chalk({ level: off ? 0 : 1 });
}

/** Machine-readable output: JSON alone on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Human messages go to stderr so stdout stays clean for data. */
export function info(message: string): void {
  process.stderr.write(message + '\n');
}

export interface Progress {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
}

/** A spinner on a TTY; plain lines otherwise (and nothing at all under --json). */
export async function progress(text: string, options: { quiet?: boolean } = {}): Promise<Progress> {
  if (options.quiet) return { update() {}, succeed() {}, fail() {} };
  if (!interactive()) {
    info(text);
    return { update: (t) => info(t), succeed: (t) => info(t), fail: (t) => info(t) };
  }
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: process.stderr }).start();
  return {
    update: (t) => { spinner.text = t; },
    succeed: (t) => { spinner.succeed(t); },
    fail: (t) => { spinner.fail(t); },
  };
}
