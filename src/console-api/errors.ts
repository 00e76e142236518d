// The console API's refusals: an HTTP status, a stable code, a message, and (when there is one) a
// fix: the contract's ConsoleError (@aerogrid/protocol/console-api).
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly fix?: string) {
    super(message);
    this.name = 'ApiError';
  }
}
