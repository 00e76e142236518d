/** The few styles the CLI uses; identity functions when colour is off. */
export interface Colors {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

/** Spinners and prompts only for a person at a terminal; CI always wins. */
export function interactive(stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && !process.env.CI;
}

/**
 * Whether to colour what goes to `stream`, by the common conventions: FORCE_COLOR=0 (or false) and
 * a non-empty NO_COLOR (no-color.org) turn colour off; any other FORCE_COLOR turns it on, even off
 * a terminal; else colour on a terminal that is not TERM=dumb.
 */
export function useColor(stream: { isTTY?: boolean } = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force === '0' || force === 'false') return false;
  if (env.NO_COLOR) return false;
  if (force !== undefined) return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

// SGR codes: a style on, and the code that turns only it off (so styles can nest).
const STYLES: Record<keyof Colors, [number, number]> = { red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39], bold: [1, 22], dim: [2, 22] };

/** Styles for text written to `stream`: ANSI colour when useColor() says so, plain text otherwise. */
export function colors(stream: NodeJS.WriteStream = process.stderr): Colors {
  const on = useColor(stream);
  const style = ([open, close]: [number, number]) => (text: string) => (on ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  return Object.fromEntries(Object.entries(STYLES).map(([name, codes]) => [name, style(codes)])) as unknown as Colors;
}

/** Rows under a header row, each column as wide as its widest cell (the last one unpadded). */
export function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** Whether the command line asks for JSON output (--json before any `--`). */
export function wantsJson(argv: string[] = process.argv.slice(2)): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
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
