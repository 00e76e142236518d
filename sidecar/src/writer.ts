/**
 * Which role this instance plays in "one writer per app" (docs/protocol.md §1): `standby` (grids
 * follow the changelog; nothing is consumed or written), `taking-over` (the group gave it the
 * partitions: fencing the last writer, catching up), `active` (the writer). Its claim goes to the
 * single-writer assignor at every join.
 */
import type { WriterClaim } from './kafka/single-writer.js';

export type WriterRole = 'standby' | 'taking-over' | 'active';

export class Writership {
  role: WriterRole = 'standby';
  /** Since when this instance holds the partitions (its claim), null while it stands by. */
  private heldSince: number | null = null;
  standbySince = Date.now();
  private takeover: Promise<boolean> | null = null;

  claim(): WriterClaim {
    return { heldSince: this.heldSince };
  }

  /** What an assignment of `partitions` partitions asks of this instance. */
  decide(partitions: number): 'take-over' | 'step-down' | null {
    if (partitions > 0 && this.role === 'standby') return 'take-over';
    if (partitions === 0 && this.role !== 'standby') return 'step-down';
    return null;
  }

  takingOver(takeover: () => Promise<boolean>): void {
    this.heldSince = Date.now();
    this.role = 'taking-over';
    this.takeover = takeover();
  }

  /** The takeover finished: true when this instance is the writer now. */
  tookOver(): boolean {
    if (this.role !== 'taking-over') return false;
    this.role = 'active';
    return true;
  }

  standBy(): void {
    if (this.role !== 'standby') this.standbySince = Date.now();
    this.role = 'standby';
    this.heldSince = null;
    this.takeover = null;
  }

  /** Resolves true once this instance is the writer, false when it is not (any more). */
  whenWritable(): Promise<boolean> {
    if (this.role === 'active') return Promise.resolve(true);
    if (this.role === 'taking-over' && this.takeover) return this.takeover;
    return Promise.resolve(false);
  }
}
