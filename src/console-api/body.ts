// Reading a request's JSON body, capped: a body over the cap is refused (413, naming the cap)
// as soon as it passes it, without reading the rest.
import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';
import { formatBytes, MAX_BODY_BYTES } from './limits.js';

export async function readJsonBody(req: IncomingMessage, max = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = () => new ApiError(413, 'too_large', `the request body is over ${formatBytes(max)}, the most this API takes; send the app's files and at most a few hundred sample records`);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new ApiError(400, 'bad_request', `the request body is not JSON (${(error as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ApiError(400, 'bad_request', 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}
