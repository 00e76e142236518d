/** Exit codes every command uses; documented in docs/cli.md. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  invalid: 3,
  notFound: 4,
  environment: 5,
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error meant for the user: what went wrong, and how to fix it. */
export class CliError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;

  constructor(message: string, options: { exitCode?: ExitCodeValue; hint?: string } = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.hint = options.hint;
  }
}
