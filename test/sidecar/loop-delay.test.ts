import { afterEach, describe, expect, it } from 'vitest';
import { LoopDelay } from '../../sidecar/src/metrics.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // A handler that keeps the event loop busy, as a burst of client work would.
  }
}

describe('the event loop delay metric', () => {
  let delay: LoopDelay | null = null;
  afterEach(() => delay?.stop());

  it('shows a block of the loop in its maximum, then forgets it once a quiet window has passed', async () => {
    delay = new LoopDelay(1000);
    await sleep(450);
    block(700);
    await sleep(250);
    // The sample due during the block fired at least 700 - 200 ms late.
    expect(delay.seconds.max).toBeGreaterThanOrEqual(0.5);
    expect(delay.seconds.max).toBeLessThan(2);
    // Two windows of 1 s later the block is no longer in the last full window.
    await sleep(2300);
    expect(delay.seconds.max).toBeLessThan(0.5);
  }, 10_000);
});
