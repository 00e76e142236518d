/**
 * JSON Lines framing for the runtime socket: bytes in, complete lines out. Handles lines split
 * across chunks and many lines in one chunk; a line longer than the limit is an error.
 */

export const MAX_LINE_BYTES = 64 * 1024 * 1024;

export class LineTooLongError extends Error {
  override name = 'LineTooLongError';
}

export class LineDecoder {
  private parts: Buffer[] = [];
  private partsLength = 0;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** Feeds a chunk; returns the lines it completed (without the `\n`, decoded as UTF-8). */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      const length = this.partsLength + piece.length;
      if (length > this.maxLineBytes) throw this.tooLong(length);
      const line = this.partsLength === 0 ? piece : Buffer.concat([...this.parts, piece], length);
      this.parts = [];
      this.partsLength = 0;
      lines.push(line.toString('utf8').replace(/\r$/, ''));
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.partsLength += rest.length;
      if (this.partsLength > this.maxLineBytes) throw this.tooLong(this.partsLength);
      this.parts.push(rest);
    }
    return lines;
  }

  /** Bytes received after the last complete line. */
  get pendingBytes(): number {
    return this.partsLength;
  }

  private tooLong(length: number): LineTooLongError {
    return new LineTooLongError(`line longer than ${this.maxLineBytes} bytes (at least ${length})`);
  }
}
