// An app's log file under `serve --run local`: rotated at MAX_LOG_BYTES (the older half kept as
// <file>.1), and never more than MAX_PENDING_BYTES waiting in memory for the disk: an app that
// prints faster than the file takes it loses lines, with a note saying how many, not serve's memory.
import { createWriteStream, renameSync, type WriteStream } from 'node:fs';

export const MAX_LOG_BYTES = 10 * 1024 * 1024;
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

export class LogFile {
  private stream: WriteStream;
  private size = 0;
  private droppedLines = 0;

  constructor(private readonly path: string, initialSize = 0) {
    this.size = initialSize;
    this.stream = createWriteStream(path, { flags: 'a' });
    this.stream.on('error', () => undefined);
  }

  write(text: string): void {
    if (this.stream.writableLength > MAX_PENDING_BYTES) {
      this.droppedLines++;
      return;
    }
    if (this.droppedLines > 0) {
      const note = `${new Date().toISOString()} [serve] ${this.droppedLines} lines dropped: the app wrote faster than its log file took them\n`;
      this.droppedLines = 0;
      this.append(note);
    }
    this.append(text);
  }

  private append(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (this.size + bytes > MAX_LOG_BYTES && this.size > 0) this.rotate();
    this.size += bytes;
    this.stream.write(text);
  }

  /** The file becomes <file>.1 (replacing the one before); writes still queued land in it. */
  private rotate(): void {
    try { renameSync(this.path, `${this.path}.1`); } catch { /* gone: start afresh */ }
    this.stream.end();
    this.stream = createWriteStream(this.path, { flags: 'a' });
    this.stream.on('error', () => undefined);
    this.size = 0;
  }

  end(text?: string): void {
    if (text) this.append(text);
    this.stream.end();
  }
}
