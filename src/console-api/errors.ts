// The console API's refusals: an HTTP status, a stable code, a message, and (when there is one) a
// fix, and (a refusal about a place in the files) where: the contract's ConsoleError
// (@aerogrid/protocol/console-api).
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly fix?: string, readonly where?: { file: string; line: number; column: number }) {
    super(message);
    this.name = 'ApiError';
  }
}
