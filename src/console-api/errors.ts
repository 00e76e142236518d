// The console API's refusals: an HTTP status, a stable code, and a message saying what to change.
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}
